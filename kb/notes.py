"""Session notes added by colleagues: validate the fields, and turn a note into its Markdown file.

The file is the truth: the knowledge base stores the note's Markdown first (``Storage.save_note``)
and then indexes the document read back from that text, so the note is searchable when it is
saved and every later re-index finds the very same document. Problems with the fields are
reported all at once, as codes with parameters (``FieldError``); the web layer words them.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from kb.audience import parse_visibility
from kb.documents import label
from kb.errors import ContentError, Forbidden, InvalidInput
from kb.frontmatter import join_front_matter, split_front_matter
from kb.language import LANGUAGES

FORMATS = ("lunch & learn", "workshop", "brown bag", "mentoring session", "demo day", "retrospective", "other")
MAX_TITLE = 200
MAX_BODY = 100_000
MAX_LIST = 20
MAX_NAME = 100
MAX_TAG = 50


@dataclass(frozen=True)
class FieldError:
    """What is wrong with one field: a code (``too_long``, ``missing_title``, ...) and its parameters."""

    code: str
    params: dict = field(default_factory=dict)


class NoteInvalid(InvalidInput):
    """A note with field errors; ``fields`` maps each bad field to its ``FieldError``."""

    def __init__(self, fields: dict[str, FieldError]):
        super().__init__("the note is not valid; check " + ", ".join(fields))
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
    visibility: str = "everyone"  # everyone, private, or team:<name>[, team:<name>...]


def validate_note(data: dict, teams: frozenset[str] | None = None) -> Note:
    """A Note from submitted fields (JSON or form); NoteInvalid listing every problem at once.
    ``teams``: the writer's, when known: a team note must be for teams they are in."""
    if not isinstance(data, dict):
        raise NoteInvalid({"note": FieldError("not_an_object")})
    errors: dict[str, FieldError] = {}
    title = label(str(data.get("title") or ""))
    if not title:
        errors["title"] = FieldError("missing_title")
    elif len(title) > MAX_TITLE:
        errors["title"] = FieldError("too_long", {"max": MAX_TITLE})
    date = str(data.get("date") or "").strip()
    try:
        date = dt.date.fromisoformat(date).isoformat()
    except ValueError:
        errors["date"] = FieldError("not_a_date")
    speakers = _list(data.get("speakers"))
    if not speakers:
        errors["speakers"] = FieldError("missing_speakers")
    elif len(speakers) > MAX_LIST or any(len(s) > MAX_NAME for s in speakers):
        errors["speakers"] = FieldError("too_many_names", {"count": MAX_LIST, "length": MAX_NAME})
    tags = [tag.lower() for tag in _list(data.get("tags"))]
    if len(tags) > MAX_LIST or any(len(t) > MAX_TAG for t in tags):
        errors["tags"] = FieldError("too_many_tags", {"count": MAX_LIST, "length": MAX_TAG})
    language = str(data.get("language") or "").strip().lower()
    if language not in LANGUAGES:
        errors["language"] = FieldError("not_a_language", {"choices": LANGUAGES})
    note_format = str(data.get("format") or "").strip().lower()
    if note_format not in FORMATS:
        errors["format"] = FieldError("not_a_format", {"choices": FORMATS})
    body = str(data.get("body") or "").replace("\r\n", "\n").strip()
    if not body:
        errors["body"] = FieldError("missing_body")
    elif len(body) > MAX_BODY:
        errors["body"] = FieldError("too_long", {"max": MAX_BODY})
    visibility = ", ".join(_list(data.get("visibility") or "everyone")).lower()
    try:
        audience = parse_visibility(visibility, "note", "writer", [])
    except ContentError:
        errors["visibility"] = FieldError("not_a_visibility")
    else:
        outside = sorted(p.removeprefix("team:") for p in audience if p.startswith("team:")
                         and teams is not None and p.removeprefix("team:") not in teams)
        if outside:
            errors["visibility"] = FieldError("not_your_team", {"teams": ", ".join(outside)})
    for name, value in (("title", title), ("speakers", speakers), ("tags", tags), ("body", body)):
        if name not in errors and not _is_text(value):
            errors[name] = FieldError("not_text")
    if errors:
        raise NoteInvalid(errors)
    return Note(title, date, speakers, tags, language, note_format, body, visibility)


def note_fields(text: str) -> dict:
    """The submitted fields of a note given as Markdown with front matter (``kb add-note``)."""
    try:
        fields, body = split_front_matter(text, "note")
    except ContentError as exc:
        raise InvalidInput(exc.message) from None
    return {**fields, "date": str(fields.get("date") or ""), "body": body}


def note_file(note: Note, added_by: str | None = None) -> tuple[str, str]:
    """(file name stem, Markdown text with front matter) of a note."""
    fields = {"title": note.title, "date": note.date, "speakers": note.speakers, "tags": note.tags,
              "language": note.language, "format": note.format}
    if added_by:
        fields["added_by"] = added_by
    if note.visibility != "everyone":
        if not added_by:
            raise Forbidden("a private or team note needs a signed-in writer, so that someone can read it: "
                            "set KB_AUTH=header (single sign-on) or KB_AUTH=token")
        fields["visibility"] = note.visibility
    return f"{note.date}-{slugify(note.title)}", join_front_matter(fields, note.body)


def slugify(text: str, limit: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "note"


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
    return [name for name in (label(str(item)) for item in items) if name]
