"""Session notes added by colleagues: validate, write the file atomically, index it at once.

The file in the content folder is the truth; the note is written there first (temporary file,
then a link to the final name that never overwrites), then indexed as one document, so it is
searchable when this returns and every later re-index finds the same document in the file.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from kb.documents import Document, build_document
from kb.errors import ContentError, InvalidInput
from kb.frontmatter import join_front_matter, split_front_matter
from kb.knowledge import KnowledgeBase

FORMATS = ("lunch & learn", "workshop", "brown bag", "mentoring session", "demo day", "retrospective", "other")
MAX_TITLE = 200
MAX_BODY = 100_000
MAX_LIST = 20


class NoteInvalid(InvalidInput):
    """A note with field errors; ``fields`` maps each bad field to what is wrong with it."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("the note is not valid: " + "; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


@dataclass
class Note:
    title: str
    date: str
    speakers: list[str]
    tags: list[str]
    language: str
    format: str
    body: str


def validate_note(data: dict) -> Note:
    """A Note from submitted fields (JSON or form); NoteInvalid listing every problem at once."""
    errors: dict[str, str] = {}
    if not isinstance(data, dict):
        raise NoteInvalid({"note": "expected an object with title, date, speakers, tags, language, format, body"})
    title = " ".join(str(data.get("title") or "").split())
    if not title:
        errors["title"] = "give the note a title"
    elif len(title) > MAX_TITLE:
        errors["title"] = f"at most {MAX_TITLE} characters"
    date = str(data.get("date") or "").strip()
    try:
        date = dt.date.fromisoformat(date).isoformat()
    except ValueError:
        errors["date"] = "a date as YYYY-MM-DD"
    speakers = _list(data.get("speakers"))
    if not speakers:
        errors["speakers"] = "name at least one speaker"
    elif len(speakers) > MAX_LIST or any(len(s) > 100 for s in speakers):
        errors["speakers"] = f"at most {MAX_LIST} names of at most 100 characters"
    tags = [tag.lower() for tag in _list(data.get("tags"))]
    if len(tags) > MAX_LIST or any(len(t) > 50 for t in tags):
        errors["tags"] = f"at most {MAX_LIST} tags of at most 50 characters"
    language = str(data.get("language") or "").strip().lower()
    if language not in ("nl", "en"):
        errors["language"] = "nl or en"
    note_format = str(data.get("format") or "").strip().lower()
    if note_format not in FORMATS:
        errors["format"] = "one of " + ", ".join(FORMATS)
    body = str(data.get("body") or "").replace("\r\n", "\n").strip()
    if not body:
        errors["body"] = "write the note itself"
    elif len(body) > MAX_BODY:
        errors["body"] = f"at most {MAX_BODY} characters"
    for name, value in (("title", title), ("speakers", speakers), ("tags", tags), ("body", body)):
        if name not in errors and not _is_text(value):
            errors[name] = "contains characters that are not text"
    if errors:
        raise NoteInvalid(errors)
    return Note(title, date, speakers, tags, language, note_format, body)


def _is_text(value: str | list[str]) -> bool:
    """False when the value holds lone surrogates (JSON escapes like ``\\ud800``), which no file can store."""
    try:
        "".join(value).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _list(value) -> list[str]:
    if value is None:
        return []
    items = re.split(r"[,;\n]", value) if isinstance(value, str) else value if isinstance(value, list) else [value]
    return [" ".join(str(item).split()) for item in items if str(item).strip()]


def slugify(text: str, limit: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "note"


def add_note(kb: KnowledgeBase, note: Note, added_by: str | None = None) -> Document:
    """Write the note into ``sessions/`` and index it; returns the indexed document."""
    fields = {"title": note.title, "date": note.date, "speakers": note.speakers, "tags": note.tags,
              "language": note.language, "format": note.format}
    if added_by:
        fields["added_by"] = added_by
    text = join_front_matter(fields, note.body)
    folder = Path(kb.settings.content_dir) / "sessions"
    relative = _write_new_file(folder, f"{note.date}-{slugify(note.title)}", text)
    body_fields, body = split_front_matter(text, relative)
    doc = build_document(relative, body_fields, body, "markdown")
    kb.add_document(doc)
    return doc


def add_note_markdown(kb: KnowledgeBase, text: str, added_by: str | None = None) -> Document:
    """A note given as Markdown with front matter (``kb add-note``)."""
    try:
        fields, body = split_front_matter(text, "note")
    except ContentError as exc:
        raise InvalidInput(exc.message) from None
    return add_note(kb, validate_note({**fields, "date": str(fields.get("date") or ""), "body": body}), added_by)


def _write_new_file(folder: Path, stem: str, text: str) -> str:
    """Write ``text`` to a new file ``stem[-n].md``; never replaces an existing file."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{stem}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        for number in range(1, 1000):
            name = f"{stem}.md" if number == 1 else f"{stem}-{number}.md"
            try:
                os.link(tmp, folder / name)
            except FileExistsError:
                continue
            return f"sessions/{name}"
        raise InvalidInput(f"too many notes named {stem}; choose another title")
    finally:
        tmp.unlink(missing_ok=True)
