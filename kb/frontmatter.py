"""Markdown files with a YAML front matter block: read them, and write them back."""

from __future__ import annotations

import re

import yaml

from kb.errors import ContentError

# libyaml's parser when PyYAML has it (it nearly always does): ~9x faster than the pure-Python
# one, which was three quarters of scanning the content folder on every index run.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)(.*)\Z", re.DOTALL)


def split_front_matter(text: str, path: str) -> tuple[dict, str]:
    """(fields, body) of a Markdown text that starts with a ``---`` YAML block."""
    text = text.lstrip("\ufeff")
    match = _FRONT_MATTER.match(text)
    if not match:
        raise ContentError(f"{path}: no YAML front matter (the file must start with a '---' block)")
    try:
        fields = _load(match.group(1))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 2}" if where is not None else ""
        raise ContentError(f"{path}: invalid YAML front matter{line}: {getattr(exc, 'problem', exc)}") from None
    except (ValueError, RecursionError) as exc:  # e.g. "date: 0000-01-01", or lists nested thousands deep
        raise ContentError(f"{path}: invalid YAML front matter: {exc}") from None
    if not isinstance(fields, dict):
        raise ContentError(f"{path}: front matter must be a mapping of fields (title: ..., date: ...)")
    return fields, match.group(2).strip()


def _load(text: str):
    """YAML by libyaml; what it refuses goes to the pure-Python parser, whose verdict and
    messages (and leniency, e.g. for a lone surrogate escape) stay the reference."""
    try:
        return yaml.load(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        return yaml.load(text, Loader=yaml.SafeLoader)


def join_front_matter(fields: dict, body: str) -> str:
    """The text of a Markdown file with ``fields`` as front matter."""
    header = yaml.safe_dump(fields, allow_unicode=True, sort_keys=False, default_flow_style=None, width=1000)
    return f"---\n{header}---\n\n{body.strip()}\n"
