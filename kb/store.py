"""The SQLite store: documents, chunks, the FTS5 keyword index, the embedding cache, index metadata.

The only module that speaks SQL. WAL mode lets the web app read while an index run writes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from kb.chunking import Chunk
from kb.documents import Document
from kb.migrations import migrate


@dataclass(frozen=True)
class DocMeta:
    """What filters, grouping and result cards need, without the body."""

    id: str
    kind: str
    title: str
    lang: str
    date: str | None
    authors: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True)
class ChunkRow:
    id: int
    doc_id: str
    ord: int
    heading: str
    text: str
    hash: str


class Store:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path), timeout=60, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute("PRAGMA foreign_keys = ON")
        migrate(self.conn)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction: all of it lands, or none of it."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """A consistent read view across several queries."""
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    # documents -------------------------------------------------------------------------------

    def put_document(self, doc: Document, chunks: list[Chunk], terms: list[tuple[str, str]]) -> list[int]:
        """Insert or replace a document and its chunks; returns the new chunk ids."""
        self.delete_document(doc.id)
        self.conn.execute(
            "INSERT INTO documents (id, kind, title, lang, date, authors, tags, data, content_hash, path, indexed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (doc.id, doc.kind, doc.title, doc.lang, doc.date, json.dumps(doc.people()), json.dumps(doc.tags),
             doc.to_json(), doc.content_hash, doc.path, datetime.now(UTC).isoformat(timespec="seconds")),
        )
        ids: list[int] = []
        for chunk, chunk_terms in zip(chunks, terms, strict=True):
            cursor = self.conn.execute(
                "INSERT INTO chunks (doc_id, ord, heading, text, hash) VALUES (?, ?, ?, ?, ?)",
                (doc.id, chunk.ord, chunk.heading, chunk.text, chunk.hash),
            )
            ids.append(cursor.lastrowid)
            self.conn.execute("INSERT INTO chunks_fts (rowid, title, terms) VALUES (?, ?, ?)",
                              (cursor.lastrowid, chunk_terms[0], chunk_terms[1]))
        return ids

    def delete_document(self, doc_id: str) -> list[int]:
        """Remove a document; returns the ids of the chunks that went with it."""
        ids = [row[0] for row in self.conn.execute("SELECT id FROM chunks WHERE doc_id = ?", (doc_id,))]
        if ids:
            self.conn.executemany("DELETE FROM chunks_fts WHERE rowid = ?", ((i,) for i in ids))
        self.conn.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
        return ids

    def clear(self) -> None:
        self.conn.execute("DELETE FROM chunks_fts")
        self.conn.execute("DELETE FROM chunks")
        self.conn.execute("DELETE FROM documents")

    def get_document(self, doc_id: str) -> Document | None:
        row = self.conn.execute("SELECT data FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return Document.from_json(row[0]) if row else None

    def documents(self) -> Iterator[Document]:
        for (data,) in self.conn.execute("SELECT data FROM documents ORDER BY id"):
            yield Document.from_json(data)

    def hashes(self) -> dict[str, str]:
        """Content hash of every indexed document, by id."""
        return dict(self.conn.execute("SELECT id, content_hash FROM documents"))

    def doc_meta(self) -> dict[str, DocMeta]:
        rows = self.conn.execute("SELECT id, kind, title, lang, date, authors, tags FROM documents")
        return {
            r[0]: DocMeta(r[0], r[1], r[2], r[3], r[4], tuple(json.loads(r[5])), tuple(json.loads(r[6])))
            for r in rows
        }

    # chunks ----------------------------------------------------------------------------------

    def chunk_owners(self) -> tuple[np.ndarray, list[str]]:
        """(chunk ids, their document ids), sorted by chunk id, for mapping vector hits to documents."""
        rows = self.conn.execute("SELECT id, doc_id FROM chunks ORDER BY id").fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64), [r[1] for r in rows]

    def chunks(self, ids: Iterable[int]) -> dict[int, ChunkRow]:
        ids = list(ids)
        out: dict[int, ChunkRow] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            for row in self.conn.execute(
                f"SELECT id, doc_id, ord, heading, text, hash FROM chunks WHERE id IN ({marks})", part
            ):
                out[row[0]] = ChunkRow(*row)
        return out

    def chunks_of(self, doc_id: str) -> list[ChunkRow]:
        rows = self.conn.execute(
            "SELECT id, doc_id, ord, heading, text, hash FROM chunks WHERE doc_id = ? ORDER BY ord", (doc_id,)
        )
        return [ChunkRow(*row) for row in rows]

    def chunk_vectors(self, model: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(chunk ids, vectors, doc ids) for every chunk, from the embedding cache."""
        rows = self.conn.execute(
            "SELECT c.id, c.doc_id, e.vector FROM chunks c JOIN embeddings e ON e.model = ? AND e.hash = c.hash"
            " ORDER BY c.id",
            (model,),
        ).fetchall()
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32), []
        vectors = np.vstack([np.frombuffer(r[2], dtype=np.float32) for r in rows])
        return np.array([r[0] for r in rows], dtype=np.int64), vectors, [r[1] for r in rows]

    def chunk_terms(self, after: int = 0) -> Iterator[tuple[int, str, str]]:
        """(chunk id, title terms, text terms) of the chunks with ids above ``after``, as analysed
        for keyword search, by id."""
        return self.conn.execute("SELECT rowid, title, terms FROM chunks_fts WHERE rowid > ? ORDER BY rowid", (after,))

    def vocabulary(self) -> set[str]:
        return {row[0] for row in self.conn.execute("SELECT term FROM chunks_vocab")}

    def counts(self) -> tuple[int, int]:
        docs = self.conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        chunks = self.conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
        return docs, chunks

    # embedding cache -------------------------------------------------------------------------

    def cached_vectors(self, model: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        hashes = list(dict.fromkeys(hashes))
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(hashes), 500):
            part = hashes[start : start + 500]
            marks = ",".join("?" * len(part))
            for digest, blob in self.conn.execute(
                f"SELECT hash, vector FROM embeddings WHERE model = ? AND hash IN ({marks})", [model, *part]
            ):
                found[digest] = np.frombuffer(blob, dtype=np.float32)
        return found

    def cache_vectors(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO embeddings (model, hash, vector) VALUES (?, ?, ?)",
            ((model, digest, np.asarray(v, dtype=np.float32).tobytes()) for digest, v in vectors.items()),
        )

    # metadata --------------------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def generation(self) -> int:
        return int(self.get_meta("generation", "0"))
