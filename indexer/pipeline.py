"""The index run: scan the content folder, load every file, diff with the store, apply the changes.

The pipeline says what is on disk; the knowledge base's index writer decides what changed:
only new and changed documents are chunked and embedded, and documents whose file disappeared
are dropped. A file that fails to load is reported and skipped, and its last good version stays
in the index. One run at a time: a second run exits with a clear message.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from indexer.loaders import LOADERS
from indexer.loaders.forum import load_forum
from kb import (
    KIND_FOLDERS,
    Applied,
    AudienceError,
    ContentError,
    Document,
    KnowledgeBase,
    Settings,
    doc_id_for,
    markdown_document,
    require_content_dir,
)

log = logging.getLogger("kb.index")


@dataclass
class Skipped:
    path: str
    reason: str
    keep_last: bool = True  # its last good version stays searchable (not when its audience is in doubt)


@dataclass
class Report:
    """An index run: what the writer did, the files it skipped, and how long it took."""

    applied: Applied
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict:
        applied = asdict(self.applied)
        return {**{key: applied[key] for key in ("added", "updated", "removed", "unchanged")},
                "skipped": [{"path": item.path, "reason": item.reason} for item in self.skipped],
                **{key: applied[key] for key in ("embedded", "cached")},
                "seconds": round(self.seconds, 3), "generation": applied["generation"]}


CATEGORY_AUDIENCES = "forum-audiences.yaml"  # Discourse category (name or number) -> visibility


def category_audiences(content_dir: Path) -> dict[str, str]:
    """The content folder's mapping of Discourse categories to visibilities (none: empty);
    ContentError when it is unreadable, since guessing would publish a team's threads."""
    path = content_dir / CATEGORY_AUDIENCES
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise AudienceError(f"{CATEGORY_AUDIENCES} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, str | list) for v in data.values()):
        raise AudienceError(f"{CATEGORY_AUDIENCES} must map category names or numbers to a visibility")
    return {str(key): ", ".join(value) if isinstance(value, list) else value for key, value in data.items()}


def scan(content_dir: Path, max_bytes: int) -> tuple[list[Document], list[Skipped]]:
    """Every loadable document under the content folder, and every file that was skipped, with why."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    seen: dict[str, str] = {}
    try:
        categories: dict[str, str] | None = category_audiences(content_dir)
        broken = ""
    except AudienceError as exc:
        categories, broken = None, exc.message
    for folder in KIND_FOLDERS:
        root = content_dir / folder
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(content_dir).as_posix()
            if path.is_dir() or any(part.startswith(".") for part in path.relative_to(content_dir).parts):
                continue
            try:
                if categories is None and folder == "forum":
                    raise AudienceError(f"{relative}: skipped because {broken}")
                doc = load_file(path, relative, max_bytes, categories)
            except ContentError as exc:
                # a file whose audience cannot be told loses its last version too: it may be for fewer now
                skipped.append(Skipped(relative, exc.message.removeprefix(relative + ": "),
                                       keep_last=not isinstance(exc, AudienceError)))
                continue
            if doc.id in seen:
                skipped.append(Skipped(relative, f"same document id as {seen[doc.id]}; rename one of them"))
                continue
            seen[doc.id] = relative
            documents.append(doc)
    return documents, skipped


def stored_notes(kb: KnowledgeBase, files: set[str], skipped: list[Skipped]) -> list[Document]:
    """The notes the store keeps and has not exported (the shared backend's). A file of the same
    name wins: the note is then reported as hidden by it."""
    documents = []
    for path, text in kb.stored_notes():
        if doc_id_for(path) in files:
            skipped.append(Skipped(path, "a note in the database has this name too; the file is indexed"))
            continue
        try:
            documents.append(markdown_document(path, text))
        except ContentError as exc:
            skipped.append(Skipped(path, "the note in the database: " + exc.message.removeprefix(path + ": ")))
    return documents


@dataclass
class Export:
    written: list[str] = field(default_factory=list)
    clashes: list[str] = field(default_factory=list)  # another file has the name: the note stays in the database


def export_notes(kb: KnowledgeBase, content_dir: Path) -> Export:
    """Write the stored notes into the content folder and hand them over to their files. A file
    that is already there with the same text counts as written; one with other text is left alone."""
    export = Export()
    for path, text in kb.stored_notes():
        target = content_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        try:
            os.link(tmp, target)
        except FileExistsError:
            if target.read_text(encoding="utf-8") != text:
                export.clashes.append(path)
                continue
        finally:
            tmp.unlink(missing_ok=True)
        export.written.append(path)
    kb.notes_exported(export.written)
    return export


def load_file(path: Path, relative: str, max_bytes: int, categories: dict[str, str] | None = None) -> Document:
    """One content file as a Document; ContentError with the reason otherwise."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise ContentError(f"{relative}: unsupported file type {path.suffix or '(none)'}; use .md, .html or .json")
    size = path.stat().st_size
    if size > max_bytes:
        raise ContentError(f"{relative}: file is {size} bytes, over the limit of {max_bytes} (KB_MAX_FILE_BYTES)")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError(f"{relative}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    if not text.strip():
        raise ContentError(f"{relative}: the file is empty")
    try:
        return loader(text, relative, categories) if loader is load_forum else loader(text, relative)
    except ContentError:
        raise
    except Exception as exc:  # a loader bug or a library surprise must not stop the run
        raise ContentError(f"{relative}: could not be read ({exc.__class__.__name__}: {exc})") from None


def run_index(settings: Settings, kb: KnowledgeBase | None = None, full: bool = False,
              progress: Callable[[int, int, int, int], None] | None = None,
              after_embedding: Callable[[], None] | None = None) -> Report:
    """One index run over the content folder; see the module docstring. ``progress(embedded,
    to_embed, cached, documents)`` hears once before embedding (``embedded`` 0) and after every
    batch; ``after_embedding`` runs between embedding and publishing."""
    started = time.perf_counter()
    content_dir = require_content_dir(settings)
    kb = kb or KnowledgeBase(settings)
    found = [0]

    def step(embedded: int, to_embed: int, cached: int) -> None:
        if progress:
            progress(embedded, to_embed, cached, found[0])

    with kb.index_run() as run:
        documents, skipped = scan(content_dir, settings.max_file_bytes)
        documents += stored_notes(kb, {doc.id for doc in documents} | {doc_id_for(s.path) for s in skipped}, skipped)
        for item in skipped:
            log.warning("skipped %s: %s", item.path, item.reason)
        broken = frozenset(doc_id_for(item.path) for item in skipped if item.keep_last)
        found[0] = len(documents)
        applied = run.apply(documents, kept=broken, full=full, progress=step, after_embedding=after_embedding)
    pruned = kb.prune_search_log()
    if pruned:
        log.info("search log: %d searches older than %d days forgotten", pruned, settings.search_log_days)
    report = Report(applied, skipped, time.perf_counter() - started)
    kb.record_run({**report.as_json(), "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    return report
