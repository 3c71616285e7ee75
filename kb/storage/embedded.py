"""The embedded backend: SQLite and FAISS generation files in the data folder, notes as files.

One host holds everything. The SQLite store keeps documents, chunks, terms, the embedding cache
and the number of the live generation; each generation's vector index is a FAISS file beside
it. A new generation is written under the write lock and in one SQLite transaction: documents
and chunks are replaced, the next FAISS file is saved beside the live one, and committing the
generation number publishes both. Until that commit readers keep the previous generation, so a
crash at any point leaves it serving. Locks are ``flock``s, released when a process dies.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from kb.chunking import Chunk
from kb.config import Settings
from kb.documents import Document
from kb.errors import IndexMissing, InvalidInput
from kb.storage import Build
from kb.storage.faiss_index import ANN_MIN_CHUNKS, VectorIndex
from kb.storage.layout import Layout
from kb.storage.locks import file_lock
from kb.storage.sqlite import SqliteStore


class EmbeddedStorage(SqliteStore):
    def __init__(self, settings: Settings) -> None:
        self.layout = Layout(settings.data_dir)
        super().__init__(self.layout.database)
        self.content_dir = Path(settings.content_dir)
        self.ann_min_chunks = settings.ann_min_chunks or ANN_MIN_CHUNKS

    def shutdown(self) -> None:
        self.close()  # connections of other threads close with their threads

    def vector_search(self, generation: int, build: Build) -> tuple[int, VectorIndex]:
        """The FAISS index of ``generation``, or of a newer one when runs or notes published
        newer generations and pruned this one while it was being opened."""
        while True:
            try:
                return generation, VectorIndex.load(self.layout.generation_file(generation), build.record())
            except (IndexMissing, OSError, RuntimeError):
                newer = self.generation()
                if newer == generation:
                    raise
                generation = newer

    # writing ---------------------------------------------------------------------------------

    def run_lock(self):
        return file_lock(self.layout.run_lock, wait=False, what="indexing")

    @contextmanager
    def publish(self, full: bool, adding: int, build: Build) -> Iterator[FaissPublication]:
        with file_lock(self.layout.write_lock, what="the index"), self.transaction():
            publication = FaissPublication(self, full, adding, build)
            yield publication
            publication.commit()
        self.layout.prune_generations(keep=publication.generation)

    # what else persists ----------------------------------------------------------------------

    def save_report(self, report: dict) -> None:
        path = self.layout.last_run
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(report, indent=2))
        os.replace(tmp, path)

    def last_report(self) -> dict | None:
        try:
            report = json.loads(self.layout.last_run.read_text())
        except (OSError, ValueError):
            return None
        return report if isinstance(report, dict) else None

    def save_note(self, stem: str, text: str) -> str:
        """Written to a temporary file first, then linked to the first free name: a note is
        never half-written and never replaces another."""
        folder = self.content_dir / "sessions"
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

    def stored_notes(self) -> list[tuple[str, str]]:
        return []  # notes are files in the content folder, which the index run scans

    def notes_exported(self, paths: list[str]) -> None:
        pass

    def secret_key(self) -> str:
        """Created once (mode 600); safe when workers race: a key another wrote first is kept."""
        path = self.layout.secret_key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
            descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32))
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return path.read_text().strip()

    def copy_to(self, data_dir) -> bool:
        generation = self.generation() if self.layout.database.exists() else 0
        live = self.layout.generation_file(generation) if generation else None
        if live is None or not live.exists():
            return False
        copy = Layout(Path(data_dir))
        copy.root.mkdir(parents=True, exist_ok=True)
        self.backup_to(copy.database)
        for suffix in (".faiss", ".json"):
            shutil.copy2(live.with_suffix(suffix), copy.generation_file(generation).with_suffix(suffix))
        return True


class FaissPublication:
    """The next generation: store rows replaced in the open transaction, the FAISS index updated
    in step (or rebuilt from every stored vector) and saved as the next generation file."""

    def __init__(self, storage: EmbeddedStorage, full: bool, adding: int, build: Build) -> None:
        self.storage = storage
        self.build = build
        self.generation = storage.generation()
        total = adding if full else storage.counts()[1] + adding
        approximate = total >= storage.ann_min_chunks
        index = None
        live = storage.build()
        if not full and self.generation and live is not None and live.model == build.model:
            index = VectorIndex.load(storage.layout.generation_file(self.generation), build.record())
            if index.approximate != approximate:
                index = None  # crossing the switch size: rebuild in the other kind
        self.rebuild = index is None
        self.index = VectorIndex(build.dim, approximate, build.record()) if self.rebuild else index

    def hashes(self) -> dict[str, str]:
        return self.storage.hashes()

    def vocabulary(self) -> set[str]:
        return self.storage.vocabulary()

    def remove(self, doc_id: str) -> None:
        removed = self.storage.delete_document(doc_id)
        if not self.rebuild:
            self.index.remove(removed)

    def put(self, doc: Document, chunks: list[Chunk], terms: list[tuple[str, str]],
            vectors: list[np.ndarray]) -> None:
        old = self.storage.delete_document(doc.id)
        ids = self.storage.put_document(doc, chunks, terms)
        if not self.rebuild:
            self.index.remove(old)
            self.index.add(np.array(ids), np.vstack(vectors))

    def commit(self) -> None:
        """Save the next generation's index beside the live one and record its number (the
        transaction's commit publishes both)."""
        if self.rebuild:
            chunk_ids, chunk_vectors, _ = self.storage.chunk_vectors(self.build.model)
            if len(chunk_ids):
                self.index.add(chunk_ids, chunk_vectors)
        self.generation += 1
        self.index.save(self.storage.layout.generation_file(self.generation))
        self.storage.set_generation(self.generation, self.build)
