"""The SQLite store: documents, chunks, their analysed terms, the embedding cache, index metadata.

The only module that speaks SQL. WAL mode lets the web app read while an index run writes.
Chunk terms are kept in an FTS5 table for its vocabulary view (the stems compound splitting
knows); BM25 itself is scored in memory by ``kb.term_index``. Each thread has a connection of
its own (SQLite connections are not shared across threads), opened on first use.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from kb.chunking import Chunk
from kb.documents import Document
from kb.storage import Build, ChunkRow, DocMeta, cache_batches
from kb.storage.migrations import migrate

_BATCH = 500  # ids per IN (...) list


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection, opened (and the schema migrated) on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=60, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

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
            "INSERT INTO documents (id, kind, title, lang, date, authors, tags, data, content_hash, path,"
            " indexed_at, audience) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (doc.id, doc.kind, doc.title, doc.lang, doc.date, json.dumps(doc.people()), json.dumps(doc.tags),
             doc.to_json(), doc.content_hash, doc.path, datetime.now(UTC).isoformat(timespec="seconds"),
             json.dumps(doc.audience)),
        )
        ids: list[int] = []
        for chunk, (title_terms, text_terms) in zip(chunks, terms, strict=True):
            cursor = self.conn.execute(
                "INSERT INTO chunks (doc_id, ord, heading, text, hash) VALUES (?, ?, ?, ?, ?)",
                (doc.id, chunk.ord, chunk.heading, chunk.text, chunk.hash),
            )
            ids.append(cursor.lastrowid)
            self.conn.execute("INSERT INTO chunks_fts (rowid, title, terms) VALUES (?, ?, ?)",
                              (cursor.lastrowid, title_terms, text_terms))
        return ids

    def delete_document(self, doc_id: str) -> list[int]:
        """Remove a document; returns the ids of the chunks that went with it."""
        ids = [row[0] for row in self.conn.execute("SELECT id FROM chunks WHERE doc_id = ?", (doc_id,))]
        if ids:
            self.conn.executemany("DELETE FROM chunks_fts WHERE rowid = ?", ((i,) for i in ids))
        self.conn.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
        return ids

    def document(self, doc_id: str) -> Document | None:
        row = self.conn.execute("SELECT data FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return Document.from_json(row[0]) if row else None

    def hashes(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT id, content_hash FROM documents"))

    def documents_meta(self) -> dict[str, DocMeta]:
        rows = self.conn.execute("SELECT id, kind, title, lang, date, authors, tags, audience FROM documents")
        return {
            r[0]: DocMeta(r[0], r[1], r[2], r[3], r[4], tuple(json.loads(r[5])), tuple(json.loads(r[6])),
                          tuple(json.loads(r[7])))
            for r in rows
        }

    # the search log ---------------------------------------------------------------------------

    def log_searches(self, searches: list, opened: list[tuple[str, str]], model: str = "") -> None:
        with self.transaction():
            self.conn.executemany(
                "INSERT OR IGNORE INTO searches (id, at, query, lang, results, best) VALUES (?, ?, ?, ?, ?, ?)",
                [(s.id, s.at, s.query, s.lang, s.results, s.best) for s in searches])
            self.conn.executemany(
                "INSERT OR IGNORE INTO query_vectors (model, query, vector) VALUES (?, ?, ?)",
                [(model, s.query, np.asarray(s.vector, dtype=np.float16).tobytes())
                 for s in searches if s.vector is not None])
            self.conn.executemany("UPDATE searches SET opened = ? WHERE id = ? AND opened IS NULL",
                                  [(doc_id, search_id) for search_id, doc_id in opened])

    def prune_searches(self, before: str) -> int:
        with self.transaction():
            forgotten = self.conn.execute("DELETE FROM searches WHERE at < ?", (before,)).rowcount
            self.conn.execute("DELETE FROM query_vectors WHERE query NOT IN (SELECT query FROM searches)")
            self.conn.execute("DELETE FROM agenda_plans WHERE at < ?", (before,))
            return forgotten

    def asked(self, since: str, week_ago: str) -> list[tuple]:
        # one pass over the covering index searches_query, in query order
        return self.conn.execute(
            """SELECT query, count(*), sum(miss), min(CASE WHEN miss THEN at END), max(CASE WHEN miss THEN at END),
                      sum(miss AND at >= ?), max(CASE WHEN NOT miss THEN at END)
               FROM (SELECT query, at, (results = 0 OR opened IS NULL) AS miss
                     FROM searches INDEXED BY searches_query WHERE at >= ?)
               GROUP BY query""", (week_ago, since)).fetchall()

    def opened_at(self, query: str, at: str) -> str | None:
        row = self.conn.execute("SELECT opened FROM searches WHERE query = ? AND at = ? AND results > 0"
                                " AND opened IS NOT NULL LIMIT 1", (query, at)).fetchone()
        return row[0] if row else None

    def query_vectors(self, model: str, queries: Iterable[str]) -> dict[str, np.ndarray]:
        return self._vectors("SELECT query, vector FROM query_vectors WHERE model = ? AND query IN ({})", model,
                             queries, np.float16)

    def keep_query_vectors(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        with self.transaction():
            self.conn.executemany("INSERT OR IGNORE INTO query_vectors (model, query, vector) VALUES (?, ?, ?)",
                                  [(model, query, np.asarray(v, dtype=np.float16).tobytes())
                                   for query, v in vectors.items()])

    def plan_gap(self, gap_id: str, at: str, label: str, queries: list[str]) -> None:
        with self.transaction():
            self.conn.execute("INSERT OR IGNORE INTO agenda_plans (id, at, label, queries) VALUES (?, ?, ?, ?)",
                              (gap_id, at, label, json.dumps(queries, ensure_ascii=False)))

    def plans(self) -> list[tuple[str, str, str, list[str]]]:
        rows = self.conn.execute("SELECT id, at, label, queries FROM agenda_plans ORDER BY at, id").fetchall()
        return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def searches(self, since: str) -> list[tuple]:
        return self.conn.execute("SELECT id, at, query, lang, results, best, opened FROM searches WHERE at >= ?"
                                 " ORDER BY at", (since,)).fetchall()

    def counts(self) -> tuple[int, int]:
        docs = self.conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        chunks = self.conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
        return docs, chunks

    # chunks ----------------------------------------------------------------------------------

    def chunk_owners(self) -> tuple[np.ndarray, list[str]]:
        rows = self.conn.execute("SELECT id, doc_id FROM chunks ORDER BY id").fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64), [r[1] for r in rows]

    def chunks(self, ids: Iterable[int]) -> dict[int, ChunkRow]:
        ids = list(ids)
        out: dict[int, ChunkRow] = {}
        for start in range(0, len(ids), _BATCH):
            part = ids[start : start + _BATCH]
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
        rows = self.conn.execute(
            "SELECT c.id, c.doc_id, e.vector FROM chunks c JOIN embeddings e ON e.model = ? AND e.hash = c.hash"
            " ORDER BY c.id",
            (model,),
        ).fetchall()
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32), []
        vectors = np.vstack([np.frombuffer(r[2], dtype=np.float32) for r in rows])
        return np.array([r[0] for r in rows], dtype=np.int64), vectors, [r[1] for r in rows]

    def chunk_terms(self, after: int = 0) -> Iterable[tuple[int, str, str]]:
        return self.conn.execute(
            "SELECT rowid, title, terms FROM chunks_fts WHERE rowid > ? ORDER BY rowid", (after,)
        )

    def vocabulary(self) -> set[str]:
        return {row[0] for row in self.conn.execute("SELECT term FROM chunks_vocab")}

    # embedding cache -------------------------------------------------------------------------

    def cached_vectors(self, model: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        return self._vectors("SELECT hash, vector FROM embeddings WHERE model = ? AND hash IN ({})", model, hashes,
                             np.float32)

    def _vectors(self, sql: str, model: str, keys: Iterable[str], stored: type) -> dict[str, np.ndarray]:
        """Vectors by key, ``_BATCH`` keys per query (``sql`` has ``{}`` for the placeholders),
        stored as ``stored`` and returned as float32."""
        keys = list(dict.fromkeys(keys))
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), _BATCH):
            part = keys[start : start + _BATCH]
            for key, blob in self.conn.execute(sql.format(",".join("?" * len(part))), [model, *part]):
                found[key] = np.frombuffer(blob, dtype=stored).astype(np.float32, copy=False)
        return found

    def cache_vectors(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        """Cache fresh vectors at once, in a transaction of their own (a killed run keeps them)."""
        with self.transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO embeddings (model, hash, vector) VALUES (?, ?, ?)",
                ((model, digest, np.asarray(v, dtype=np.float32).tobytes()) for digest, v in vectors.items()),
            )

    def embedding_cache(self, batch: int = 1000) -> Iterator[tuple[str, dict[str, np.ndarray]]]:
        cursor = self.conn.execute("SELECT model, hash, vector FROM embeddings ORDER BY model")
        while rows := cursor.fetchmany(batch):
            yield from cache_batches(rows)

    def backup_to(self, path: Path) -> None:
        """A consistent copy of the whole database into ``path``, even while a run writes."""
        target = sqlite3.connect(path)
        try:
            self.conn.backup(target)
        finally:
            target.close()

    # index metadata --------------------------------------------------------------------------

    def generation(self) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def build(self) -> Build | None:
        meta = dict(self.conn.execute("SELECT key, value FROM meta WHERE key IN ('model', 'dim', 'chunk_words')"))
        if "model" not in meta:
            return None
        return Build(meta["model"], int(meta.get("dim", 0)), int(meta.get("chunk_words", 0)))

    def set_generation(self, generation: int, build: Build) -> None:
        values = {"generation": generation, "model": build.model, "dim": build.dim, "chunk_words": build.chunk_words}
        self.conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                              ((key, str(value)) for key, value in values.items()))
