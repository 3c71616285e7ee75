"""The document model: articles, session notes and forum threads, with stable ids."""

from __future__ import annotations

import hashlib
import json
import re
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

    @property
    def content_hash(self) -> str:
        """Hash of everything that is indexed; unchanged hash means nothing to re-embed."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> Document:
        data = json.loads(raw)
        data["posts"] = [Post(**post) for post in data.get("posts", [])]
        return cls(**data)

    @property
    def url(self) -> str:
        return "/doc/" + self.id

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
    from kb.language import detect_language

    kind = kind_for(relative_path)
    if kind is None:
        raise ContentError(f"{relative_path}: not under articles/, sessions/ or forum/")
    if not isinstance(fields, dict):
        raise ContentError(f"{relative_path}: front matter must be a mapping of fields, not {type(fields).__name__}")
    title = fields.get("title")
    if not isinstance(title, str | int | float) or not str(title).strip():
        raise ContentError(f"{relative_path}: missing title")
    people = fields.get("speakers") if kind == "session" else fields.get("author", fields.get("authors"))
    posts = posts or []
    text_for_language = " ".join([str(title), body, *(p.body for p in posts)])
    language = str(fields.get("language") or fields.get("lang") or "").strip().lower()[:2]
    return Document(
        id=doc_id_for(relative_path),
        kind=kind,
        title=" ".join(str(title).split()),
        body=body,
        body_format=body_format,
        lang=language if language in ("nl", "en") else detect_language(text_for_language),
        authors=_names(people, relative_path, "speakers" if kind == "session" else "author"),
        date=parse_date(fields.get("date"), relative_path),
        tags=_names(fields.get("tags"), relative_path, "tags", lower=True),
        summary=str(fields.get("summary") or "").strip(),
        source_url=str(fields.get("source_url") or fields.get("url") or "").strip(),
        format=str(fields.get("format") or "").strip(),
        category=str(fields.get("category") or "").strip(),
        posts=posts,
        path=relative_path,
    )


def parse_date(value, where: str = "") -> str | None:
    """ISO ``YYYY-MM-DD`` from a date, a datetime or an ISO string; ContentError otherwise."""
    import datetime as dt

    if value is None or value == "":
        return None
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
    names = [" ".join(str(item).split()) for item in value if item is not None and str(item).strip()]
    return [name.lower() for name in names] if lower else names
