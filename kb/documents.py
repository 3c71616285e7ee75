"""The document model: articles, session notes and forum threads, with stable ids."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import PurePosixPath

from kb.errors import ContentError

KINDS = ("article", "session", "forum")
KIND_FOLDERS = {"articles": "article", "sessions": "session", "forum": "forum"}

_ID_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass
class Post:
    """One forum post; ``body`` is Markdown (simple format) or HTML (Discourse ``cooked``)."""

    author: str
    date: str | None
    body: str
    body_format: str = "markdown"
    accepted: bool = False


@dataclass
class Document:
    id: str
    kind: str
    title: str
    body: str = ""
    body_format: str = "markdown"  # "markdown" or "html"
    lang: str = "en"
    authors: list[str] = field(default_factory=list)
    date: str | None = None  # ISO date, YYYY-MM-DD
    tags: list[str] = field(default_factory=list)
    summary: str = ""
    source_url: str = ""
    format: str = ""  # session format: lunch & learn, workshop, ...
    category: str = ""
    posts: list[Post] = field(default_factory=list)
    path: str = ""  # relative to the content folder
    audience: list[str] = field(default_factory=lambda: ["everyone"])  # who may read it (kb.audience)
    added_by: str = ""  # who added it through Kennisbank (a note's writer)

    @property
    def content_hash(self) -> str:
        """Hash of everything that is indexed; unchanged hash means nothing to re-embed."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    def to_json(self) -> str:
        data = asdict(self)
        # left out at their defaults, so that documents indexed before audiences keep their hashes
        if data["audience"] == ["everyone"]:
            del data["audience"]
        if not data["added_by"]:
            del data["added_by"]
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> Document:
        data = json.loads(raw)
        data["posts"] = [Post(**post) for post in data.get("posts", [])]
        return cls(**data)

    def people(self) -> list[str]:
        """Everyone who contributed: authors or speakers, and forum posters."""
        seen = dict.fromkeys(self.authors)
        for post in self.posts:
            seen.setdefault(post.author, None)
        return [name for name in seen if name]


def doc_id_for(relative_path: str) -> str:
    """Stable id from a path under the content folder: ``sessions/2026-03-12-feedback``."""
    path = PurePosixPath(relative_path)
    return str(path.with_suffix(""))


def kind_for(relative_path: str) -> str | None:
    top = PurePosixPath(relative_path).parts[0]
    return KIND_FOLDERS.get(top)


def is_valid_id(doc_id: str) -> bool:
    """True for ids made by ``doc_id_for``: no absolute paths, no ``..``, no NUL or odd characters."""
    if not doc_id or len(doc_id) > 300 or "\x00" in doc_id or doc_id.startswith("/"):
        return False
    parts = doc_id.split("/")
    return len(parts) >= 2 and parts[0] in KIND_FOLDERS and all(
        _ID_PART.match(part) and part not in (".", "..") for part in parts
    )


def build_document(relative_path: str, fields: dict, body: str = "", body_format: str = "markdown",
                   posts: list[Post] | None = None) -> Document:
    """A validated Document from front-matter-like fields; raises ContentError saying what is wrong.

    Shared by the file loaders and by notes added through the web, so both give the same
    document (and the same content hash) for the same file.
    """
    from kb.audience import parse_visibility
    from kb.language import detect_language

    kind = kind_for(relative_path)
    if kind is None:
        raise ContentError(f"{relative_path}: not under articles/, sessions/ or forum/")
    if not is_valid_id(doc_id_for(relative_path)):
        raise ContentError(f"{relative_path}: the file name makes no usable address; "
                           "rename it with letters, digits, '.', '-' and '_' only")
    if not isinstance(fields, dict):
        raise ContentError(f"{relative_path}: front matter must be a mapping of fields, not {type(fields).__name__}")
    where = relative_path
    title = label(text_field(fields.get("title"), where, "title"))
    if not title:
        raise ContentError(f"{where}: missing title")
    people = fields.get("speakers") if kind == "session" else fields.get("author", fields.get("authors"))
    authors = _names(people, where, "speakers" if kind == "session" else "author")
    added_by = label(text_field(fields.get("added_by"), where, "added_by"))
    posts = posts or []
    text_for_language = " ".join([title, body, *(p.body for p in posts)])
    language = text_field(fields.get("language") or fields.get("lang"), where, "language").lower()[:2]
    doc = Document(
        id=doc_id_for(relative_path),
        kind=kind,
        title=title,
        body=body,
        body_format=body_format,
        lang=language if language in ("nl", "en") else detect_language(text_for_language),
        authors=authors,
        date=parse_date(fields.get("date"), where),
        tags=_names(fields.get("tags"), where, "tags", lower=True),
        summary=text_field(fields.get("summary"), where, "summary"),
        source_url=text_field(fields.get("source_url") or fields.get("url"), where, "source_url"),
        format=text_field(fields.get("format"), where, "format"),
        category=text_field(fields.get("category"), where, "category"),
        posts=posts,
        path=relative_path,
        audience=list(parse_visibility(fields.get("visibility"), where, added_by, authors)),
        added_by=added_by,
    )
    try:
        doc.to_json().encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, e.g. from a "\ud800" escape in JSON or YAML
        raise ContentError(f"{where}: contains {exc.object[exc.start]!r}, which is not a character; "
                           "remove it or save the text as UTF-8") from None
    return doc


def markdown_document(relative_path: str, text: str) -> Document:
    """The document of a Markdown file with YAML front matter (an article or a session note)."""
    from kb.frontmatter import split_front_matter

    fields, body = split_front_matter(text, relative_path)
    return build_document(relative_path, fields, body, "markdown")


def label(text: str) -> str:
    """A title, tag or name as one line people read: whitespace collapsed, and invisible format and
    control characters removed (bidi overrides such as U+202E would make a title show what it
    does not say; zero-width ones would make two equal names differ)."""
    return " ".join("".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cc")
                            or ch in "\t\n\r").split())


def text_field(value, where: str, name: str) -> str:
    """A field that holds one text (a number or a date reads as text), stripped; ``""`` when absent.

    Lists and mappings are refused rather than shown as Python reprs (and a YAML alias bomb is
    never expanded into a string).
    """
    if value is None:
        return ""
    if not isinstance(value, str | int | float | dt.date):
        raise ContentError(f"{where}: {name} must be a text, not a {_type_name(value)}")
    return str(value).strip()


def parse_date(value, where: str = "") -> str | None:
    """ISO ``YYYY-MM-DD`` from a date, a datetime or an ISO string; ContentError otherwise."""
    if value is None or value == "":
        return None
    if not isinstance(value, str | int | dt.date):
        raise ContentError(f"{where}: date must be a date (YYYY-MM-DD), not a {_type_name(value)}")
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10]).isoformat() if re.match(r"^\d{4}-\d{2}-\d{2}", text) else \
            dt.datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        raise ContentError(f"{where}: date {text!r} is not a date (expected YYYY-MM-DD)") from None


def _names(value, where: str, field_name: str, lower: bool = False) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [part for part in re.split(r"[,;]", value)]
    if not isinstance(value, list | tuple):
        raise ContentError(f"{where}: {field_name} must be a list or a comma-separated text")
    if not all(item is None or isinstance(item, str | int | float | dt.date) for item in value):
        raise ContentError(f"{where}: {field_name} must be a list of texts, not of lists or mappings")
    names = [label(str(item)) for item in value if item is not None]
    names = [name for name in names if name]
    return [name.lower() for name in names] if lower else names


def _type_name(value) -> str:
    return {"dict": "mapping", "tuple": "list"}.get(type(value).__name__, type(value).__name__)
