"""The index run: scan the content folder, load every file, diff with the store, apply the changes.

Only new and changed documents are chunked and embedded; documents whose file disappeared are
dropped; a file that fails to load is reported and skipped, and its last good version stays in
the index. One run at a time: a second run exits with a clear message.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from indexer.loaders import LOADERS
from kb.config import Settings, require_content_dir
from kb.documents import KIND_FOLDERS, Document, doc_id_for
from kb.errors import ContentError
from kb.indexing import Changes
from kb.knowledge import KnowledgeBase
from kb.layout import Layout
from kb.locks import file_lock
from kb.store import Store

log = logging.getLogger("kb.index")


@dataclass
class Skipped:
    path: str
    reason: str


@dataclass
class Report:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    embedded: int = 0
    cached: int = 0
    seconds: float = 0.0
    generation: int = 0

    def as_json(self) -> dict:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data


def scan(content_dir: Path, max_bytes: int) -> tuple[list[Document], list[Skipped]]:
    """Every loadable document under the content folder, and every file that was skipped, with why."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    seen: dict[str, str] = {}
    for folder in KIND_FOLDERS:
        root = content_dir / folder
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(content_dir).as_posix()
            if path.is_dir() or any(part.startswith(".") for part in path.relative_to(content_dir).parts):
                continue
            try:
                doc = load_file(path, relative, max_bytes)
            except ContentError as exc:
                skipped.append(Skipped(relative, exc.message.removeprefix(relative + ": ")))
                continue
            if doc.id in seen:
                skipped.append(Skipped(relative, f"same document id as {seen[doc.id]}; rename one of them"))
                continue
            seen[doc.id] = relative
            documents.append(doc)
    return documents, skipped


def load_file(path: Path, relative: str, max_bytes: int) -> Document:
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
        return loader(text, relative)
    except ContentError:
        raise
    except Exception as exc:  # a loader bug or a library surprise must not stop the run
        raise ContentError(f"{relative}: could not be read ({exc.__class__.__name__}: {exc})") from None


def file_exists_for(content_dir: Path, doc_id: str) -> bool:
    return any((content_dir / (doc_id + suffix)).exists() for suffix in LOADERS)


def run_index(settings: Settings, kb: KnowledgeBase | None = None, full: bool = False,
              progress: Callable[[int, int], None] | None = None, **apply_options) -> Report:
    """One index run over the content folder; see the module docstring."""
    started = time.perf_counter()
    content_dir = require_content_dir(settings)
    layout = Layout(settings.data_dir)
    kb = kb or KnowledgeBase(settings)
    with file_lock(layout.run_lock, wait=False, what="indexing"):
        documents, skipped = scan(content_dir, settings.max_file_bytes)
        for item in skipped:
            log.warning("skipped %s: %s", item.path, item.reason)
        store = Store(layout.database)
        try:
            known = store.hashes()
        finally:
            store.close()
        current = {doc.id for doc in documents}
        broken = {doc_id_for(item.path) for item in skipped}
        report = Report(skipped=skipped)
        report.unchanged = 0 if full else sum(1 for doc in documents if known.get(doc.id) == doc.content_hash)
        changes = Changes(
            upserts=documents,
            removed=sorted(set(known) - current - broken),
            full=full,
        )
        if full:
            changes.removed = []
        total = [0]

        def step(count: int) -> None:
            total[0] += count
            if progress:
                progress(count, total[0])

        applied = kb.apply(changes, still_gone=lambda doc_id: not file_exists_for(content_dir, doc_id),
                           progress=step, **apply_options)
    report.added, report.updated, report.removed = applied.added, applied.updated, applied.removed
    report.embedded, report.cached, report.generation = applied.embedded, applied.cached, applied.generation
    report.seconds = time.perf_counter() - started
    _write_report(layout, report)
    return report


def _write_report(layout: Layout, report: Report) -> None:
    layout.root.mkdir(parents=True, exist_ok=True)
    tmp = layout.last_run.with_name(layout.last_run.name + ".tmp")
    tmp.write_text(json.dumps({**report.as_json(), "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, indent=2))
    os.replace(tmp, layout.last_run)


def interactive() -> bool:
    return sys.stderr.isatty()
