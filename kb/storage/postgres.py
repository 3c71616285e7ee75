"""The shared backend: PostgreSQL with pgvector, for any number of web hosts and one indexer.

Everything lives in the database, so a web host needs only its settings and nothing under the
data folder: documents, passages with their analysed terms and vectors, the embedding cache, the
generation number, run reports, notes and the form-signing key.

- **A generation is a transaction.** Publishing takes a transaction-scoped advisory lock (writers
  queue behind each other, wherever they run), replaces documents and passages, and raises the
  generation number in ``meta``. Readers keep seeing the previous generation until the commit; a
  writer that dies is rolled back by the server.
- **The dense side runs in the engine.** Passages keep their vectors in half precision, as the
  embedded backend's exact index does, in a narrow table of their own and stored inline (not
  TOASTed): a scan then reads vectors and nothing else. From ``ANN_MIN_CHUNKS`` passages on
  (or ``KB_ANN_MIN_CHUNKS``), an HNSW index (inner product: the vectors are unit length, so it
  is cosine similarity) answers; below, an exact scan. Filters go inside the query, and
  pgvector's iterative index scan walks on until ``k`` passages pass them; a filter that lets
  few passages through compares them all instead.
- **The keyword side** is scored per worker by ``kb.term_index`` from the analysed terms stored
  here, so both backends rank alike (README: "Two backends").
- **An index run** holds a session-level advisory lock on a connection of its own: a second run,
  on any host, hears that indexing is busy; a run that dies releases it with its connection.
- **Notes** are rows, committed before the note is indexed; the index run reads them with the
  content folder. ``kb export-notes`` writes them there as files and hands them over: from then
  on the file is the note (edit it, or delete it to remove the note), as with the embedded store.

Every connection error becomes ``StoreUnavailable`` (a 503 on the web), and the pool replaces
broken connections, so a host recovers by itself when the database is back.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import secrets
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import psycopg
from pgvector import HalfVector
from pgvector.psycopg import register_vector
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from kb.chunking import Chunk
from kb.config import Settings
from kb.documents import Document
from kb.errors import Busy, ConfigError, IndexMismatch, InvalidInput, StoreUnavailable
from kb.storage import Build, ChunkRow, DocMeta, Graph, cache_batches

# Advisory lock keys, one per purpose ("kb" and a number).
RUN_LOCK = 0x6B620001
WRITE_LOCK = 0x6B620002
MIGRATE_LOCK = 0x6B620003


HNSW = Graph(m=16, ef_construction=100, ef_search=200)
# From this many passages on the HNSW index answers (unless KB_ANN_MIN_CHUNKS says otherwise). An
# exact scan in the engine costs far more than FAISS's (11.4 ms a query at 8,294 x 896 against
# 1.2 ms), and the graph at that size answers in 3-4 ms with recall@10 1.00 (`make bench`).
ANN_MIN_CHUNKS = 2_000
FILTER_EXACT = 0.1  # a filter that passes at most this share of passages is searched exactly
# Seconds a request waits for a connection before the answer is 503, and how long the pool keeps
# retrying a connection in the background before the next request starts afresh: a host answers
# 503 within this while the database is away, and again within a few seconds once it is back.
POOL_TIMEOUT = 3.0

MIGRATIONS: tuple[str, ...] = (
    # 1: documents, passages with terms and vectors, vocabulary, embedding cache, notes, metadata
    """
    CREATE EXTENSION IF NOT EXISTS vector;
    CREATE TABLE documents (
        id text PRIMARY KEY,
        kind text NOT NULL,
        title text NOT NULL,
        lang text NOT NULL,
        date text,
        authors jsonb NOT NULL,
        tags jsonb NOT NULL,
        data text NOT NULL,
        content_hash text NOT NULL,
        path text NOT NULL,
        indexed_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE chunks (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        doc_id text NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ord integer NOT NULL,
        heading text NOT NULL,
        text text NOT NULL,
        hash text NOT NULL,
        title_terms text NOT NULL,
        terms text NOT NULL
    );
    CREATE INDEX chunks_by_doc ON chunks (doc_id, ord);
    CREATE TABLE passage_vectors (
        chunk_id bigint PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,
        dim integer NOT NULL,
        embedding halfvec NOT NULL
    );
    ALTER TABLE passage_vectors ALTER COLUMN embedding SET STORAGE PLAIN;
    CREATE TABLE vocabulary (term text PRIMARY KEY, documents integer NOT NULL);
    CREATE TABLE embeddings (
        model text NOT NULL,
        hash text NOT NULL,
        vector bytea NOT NULL,
        PRIMARY KEY (model, hash)
    );
    CREATE TABLE notes (
        path text PRIMARY KEY,
        text text NOT NULL,
        added_at timestamptz NOT NULL DEFAULT now(),
        exported_at timestamptz
    );
    CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)
    """,
    # 2: who may read a document (kb.audience), as a list of principals
    """
    ALTER TABLE documents ADD COLUMN audience jsonb NOT NULL DEFAULT '["everyone"]'
    """,
    # 3: the search log (kb.search_log): what was looked for, never by whom
    """
    CREATE TABLE searches (
        id text PRIMARY KEY,
        at timestamptz NOT NULL,
        query text NOT NULL,
        lang text NOT NULL,
        results integer NOT NULL,
        best double precision,
        opened text
    );
    CREATE INDEX searches_at ON searches (at)
    """,
    # 4: the learning agenda (kb.agenda): the meaning of each logged query (float16), and the planned gaps
    """
    CREATE TABLE query_vectors (
        model text NOT NULL,
        query text NOT NULL,
        vector bytea NOT NULL,
        PRIMARY KEY (model, query)
    );
    CREATE INDEX searches_query ON searches (query, at, results, opened);
    CREATE TABLE agenda_plans (
        id text PRIMARY KEY,
        at timestamptz NOT NULL,
        label text NOT NULL,
        queries jsonb NOT NULL
    )
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def _iso(moment) -> str | None:
    """A stored time as the ISO text the embedded store keeps (UTC, to the second)."""
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _reason(exc: BaseException, url: str) -> str:
    """An error's first line, with the password taken out should the driver repeat it."""
    text = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
    password = urlsplit(url).password
    return text.replace(password, "***") if password else text


def _guarded(method: Callable) -> Callable:
    """Turns a lost connection into ``StoreUnavailable`` and hands the broken connection back."""
    def unavailable(self: PostgresStorage, exc: BaseException) -> StoreUnavailable:
        self._discard()
        return StoreUnavailable(f"the database is unavailable ({_reason(exc, self.url)}); try again in a moment")

    if inspect.isgeneratorfunction(method):
        @functools.wraps(method)
        def generator(self, *args, **kwargs):
            try:
                return (yield from method(self, *args, **kwargs))
            except (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout) as exc:
                raise unavailable(self, exc) from None
        return generator

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout) as exc:
            raise unavailable(self, exc) from None
    return call


def connect(url: str, application: str = "kennisbank") -> psycopg.Connection:
    """A connection of its own (migrations, the run lock); ``StoreUnavailable`` names the setting."""
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10, application_name=application)
    except psycopg.Error as exc:
        raise StoreUnavailable(
            f"cannot reach the database at KB_DATABASE_URL ({redacted(url)}): {_reason(exc, url)}") from None


def migrate(conn: psycopg.Connection) -> None:
    """Bring the schema up to date; hosts that start together queue on an advisory lock."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        version = row[0] if row else 0
        if version > SCHEMA_VERSION:
            raise ConfigError(f"the database has schema version {version}, newer than this Kennisbank's "
                              f"{SCHEMA_VERSION}; upgrade Kennisbank on this host")
        for script in MIGRATIONS[version:]:
            for statement in script.split(";\n"):
                if statement.strip():
                    conn.execute(statement)
        if version != SCHEMA_VERSION:
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (SCHEMA_VERSION,))


def _configure(conn: psycopg.Connection) -> None:
    register_vector(conn)


class PostgresStorage:
    """See the module docstring. Each thread holds one pooled connection between ``close`` calls."""

    def __init__(self, settings: Settings) -> None:
        self.url = str(settings.database_url)
        pool_size = settings.threads + 2  # a request thread holds one connection; a little room beside
        self.ann_min_chunks = settings.ann_min_chunks or ANN_MIN_CHUNKS
        self.graph = HNSW
        with connect(self.url) as conn:
            try:
                migrate(conn)
            except psycopg.errors.FeatureNotSupported as exc:
                raise ConfigError(f"the database at KB_DATABASE_URL ({redacted(self.url)}) lacks pgvector: "
                                  f"{_reason(exc, self.url)}") from None
        self._local = threading.local()
        self._pool = ConnectionPool(self.url, min_size=0, max_size=pool_size, timeout=POOL_TIMEOUT,
                                    reconnect_timeout=POOL_TIMEOUT,
                                    kwargs={"autocommit": True, "application_name": "kennisbank"},
                                    configure=_configure, check=ConnectionPool.check_connection, open=True)

    # connections -------------------------------------------------------------------------------

    @property
    def conn(self) -> psycopg.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._pool.getconn()
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Hand this thread's connection back to the pool."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            self._pool.putconn(conn)

    def _discard(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()
            self._pool.putconn(conn)

    def shutdown(self) -> None:
        """Close every connection and the pool."""
        self.close()
        self._pool.close()

    @contextmanager
    @_guarded
    def snapshot(self) -> Iterator[None]:
        conn = self.conn
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            yield  # already inside a transaction (a publication): its view is the one to use
            return
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield

    # the live generation -----------------------------------------------------------------------

    @_guarded
    def generation(self) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    @_guarded
    def build(self) -> Build | None:
        meta = self._meta("model", "dim", "chunk_words")
        if "model" not in meta:
            return None
        return Build(meta["model"], int(meta.get("dim", 0)), int(meta.get("chunk_words", 0)))

    @_guarded
    def vector_search(self, generation: int, build: Build) -> tuple[int, PgVectorSearch]:
        """The live generation's vector search: rows in the engine are always the live ones."""
        meta = self._meta("generation", "model", "dim", "chunk_words", "approximate")
        stored = {"model": meta.get("model"), "dim": int(meta.get("dim", 0)),
                  "chunk_words": int(meta.get("chunk_words", 0))}
        for key, want in build.record().items():
            if stored[key] != want:
                raise IndexMismatch(
                    f"the index was built with {key}={stored[key]!r} but the settings say {want!r}; "
                    "run `make reindex` (kb index --full) to rebuild it")
        approximate = meta.get("approximate") == "1"
        return int(meta.get("generation", generation)), PgVectorSearch(self, stored["dim"], approximate)

    def _meta(self, *keys: str) -> dict[str, str]:
        return dict(self.conn.execute("SELECT key, value FROM meta WHERE key = ANY(%s)", (list(keys),)).fetchall())

    @_guarded
    def documents_meta(self) -> dict[str, DocMeta]:
        rows = self.conn.execute("SELECT id, kind, title, lang, date, authors, tags, audience FROM documents")
        return {r[0]: DocMeta(r[0], r[1], r[2], r[3], r[4], tuple(r[5]), tuple(r[6]), tuple(r[7])) for r in rows}

    @_guarded
    def document(self, doc_id: str) -> Document | None:
        row = self.conn.execute("SELECT data FROM documents WHERE id = %s", (doc_id,)).fetchone()
        return Document.from_json(row[0]) if row else None

    @_guarded
    def hashes(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT id, content_hash FROM documents").fetchall())

    @_guarded
    def counts(self) -> tuple[int, int]:
        row = self.conn.execute("SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM chunks)").fetchone()
        return int(row[0]), int(row[1])

    @_guarded
    def chunk_owners(self) -> tuple[np.ndarray, list[str]]:
        rows = self.conn.execute("SELECT id, doc_id FROM chunks ORDER BY id").fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64), [r[1] for r in rows]

    @_guarded
    def chunk_terms(self, after: int = 0) -> Iterable[tuple[int, str, str]]:
        return self.conn.execute("SELECT id, title_terms, terms FROM chunks WHERE id > %s ORDER BY id", (after,))

    @_guarded
    def chunk_vectors(self, model: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        rows = self.conn.execute(
            "SELECT c.id, c.doc_id, e.vector FROM chunks c JOIN embeddings e ON e.model = %s AND e.hash = c.hash"
            " ORDER BY c.id", (model,)).fetchall()
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32), []
        vectors = np.vstack([np.frombuffer(r[2], dtype=np.float32) for r in rows])
        return np.array([r[0] for r in rows], dtype=np.int64), vectors, [r[1] for r in rows]

    @_guarded
    def chunks(self, ids: Iterable[int]) -> dict[int, ChunkRow]:
        rows = self.conn.execute("SELECT id, doc_id, ord, heading, text, hash FROM chunks WHERE id = ANY(%s)",
                                 ([int(i) for i in ids],))
        return {row[0]: ChunkRow(*row) for row in rows}

    @_guarded
    def chunks_of(self, doc_id: str) -> list[ChunkRow]:
        rows = self.conn.execute(
            "SELECT id, doc_id, ord, heading, text, hash FROM chunks WHERE doc_id = %s ORDER BY ord", (doc_id,))
        return [ChunkRow(*row) for row in rows]

    @_guarded
    def vocabulary(self) -> set[str]:
        return {row[0] for row in self.conn.execute("SELECT term FROM vocabulary")}

    # embedding cache ---------------------------------------------------------------------------

    @_guarded
    def cached_vectors(self, model: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        rows = self.conn.execute("SELECT hash, vector FROM embeddings WHERE model = %s AND hash = ANY(%s)",
                                 (model, list(dict.fromkeys(hashes))))
        return {digest: np.frombuffer(blob, dtype=np.float32) for digest, blob in rows}

    @_guarded
    def cache_vectors(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        """Committed at once, so a killed run, or another host, never embeds these again."""
        with self.conn.transaction(), self.conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO embeddings (model, hash, vector) VALUES (%s, %s, %s)"
                " ON CONFLICT (model, hash) DO UPDATE SET vector = EXCLUDED.vector",
                [(model, digest, np.asarray(v, dtype=np.float32).tobytes()) for digest, v in vectors.items()])

    @_guarded
    def embedding_cache(self, batch: int = 1000) -> Iterator[tuple[str, dict[str, np.ndarray]]]:
        with connect(self.url) as conn, conn.transaction(), conn.cursor(name="embedding_cache") as cursor:
            cursor.execute("SELECT model, hash, vector FROM embeddings ORDER BY model")
            while rows := cursor.fetchmany(batch):
                yield from cache_batches(rows)

    # writing -----------------------------------------------------------------------------------

    @contextmanager
    def run_lock(self) -> Iterator[None]:
        """A session lock on a connection of its own, named after the host and process holding it."""
        holder = f"kennisbank index run on {socket.gethostname()}, process {os.getpid()}"
        conn = connect(self.url, holder[:63])
        try:
            if not conn.execute("SELECT pg_try_advisory_lock(%s)", (RUN_LOCK,)).fetchone()[0]:
                row = conn.execute(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE l.locktype = 'advisory' AND l.granted AND l.objid = %s", (RUN_LOCK,)).fetchone()
                who = row[0] if row and row[0] else "another index run"
                raise Busy(f"indexing is busy: {who} holds the database's run lock; wait for it to finish and "
                           "try again")
            yield
        finally:
            conn.close()

    @contextmanager
    @_guarded
    def publish(self, full: bool, adding: int, build: Build) -> Iterator[PgPublication]:
        conn = self.conn
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            publication = PgPublication(self, full, adding, build)
            yield publication
            publication.commit()
        publication.tidy()

    # what else persists ------------------------------------------------------------------------

    # the search log ---------------------------------------------------------------------------

    @_guarded
    def log_searches(self, searches: list, opened: list[tuple[str, str]], model: str = "") -> None:
        with self.conn.transaction(), self.conn.cursor() as cursor:
            if searches:
                cursor.executemany(
                    "INSERT INTO searches (id, at, query, lang, results, best) VALUES (%s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (id) DO NOTHING",
                    [(s.id, s.at, s.query, s.lang, s.results, s.best) for s in searches])
            vectors = {s.query: s.vector for s in searches if s.vector is not None}
            if vectors:
                cursor.executemany(
                    "INSERT INTO query_vectors (model, query, vector) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                    [(model, query, np.asarray(v, dtype=np.float16).tobytes()) for query, v in vectors.items()])
            if opened:
                cursor.executemany("UPDATE searches SET opened = %s WHERE id = %s AND opened IS NULL",
                                   [(doc_id, search_id) for search_id, doc_id in opened])

    @_guarded
    def prune_searches(self, before: str) -> int:
        with self.conn.transaction():
            forgotten = self.conn.execute("DELETE FROM searches WHERE at < %s", (before,)).rowcount
            self.conn.execute("DELETE FROM query_vectors v WHERE NOT EXISTS"
                              " (SELECT 1 FROM searches s WHERE s.query = v.query)")
            self.conn.execute("DELETE FROM agenda_plans WHERE at < %s", (before,))
            return forgotten

    @_guarded
    def asked(self, since: str, week_ago: str) -> list[tuple]:
        rows = self.conn.execute(
            """SELECT query, count(*), count(*) FILTER (WHERE miss), min(at) FILTER (WHERE miss),
                      max(at) FILTER (WHERE miss), count(*) FILTER (WHERE miss AND at >= %s),
                      max(at) FILTER (WHERE NOT miss)
               FROM (SELECT query, at, (results = 0 OR opened IS NULL) AS miss
                     FROM searches WHERE at >= %s) s GROUP BY query""", (week_ago, since)).fetchall()
        return [(r[0], r[1], r[2], _iso(r[3]), _iso(r[4]), r[5], _iso(r[6])) for r in rows]

    @_guarded
    def opened_at(self, query: str, at: str) -> str | None:
        row = self.conn.execute("SELECT opened FROM searches WHERE query = %s AND at = %s AND results > 0"
                                " AND opened IS NOT NULL LIMIT 1", (query, at)).fetchone()
        return row[0] if row else None

    @_guarded
    def query_vectors(self, model: str, queries: Iterable[str]) -> dict[str, np.ndarray]:
        rows = self.conn.execute("SELECT query, vector FROM query_vectors WHERE model = %s AND query = ANY(%s)",
                                 (model, list(dict.fromkeys(queries))))
        return {query: np.frombuffer(blob, dtype=np.float16).astype(np.float32) for query, blob in rows}

    @_guarded
    def keep_query_vectors(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        with self.conn.transaction(), self.conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO query_vectors (model, query, vector) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                [(model, query, np.asarray(vector, dtype=np.float16).tobytes()) for query, vector in vectors.items()])

    @_guarded
    def plan_gap(self, gap_id: str, at: str, label: str, queries: list[str]) -> None:
        with self.conn.transaction():
            self.conn.execute("INSERT INTO agenda_plans (id, at, label, queries) VALUES (%s, %s, %s, %s)"
                              " ON CONFLICT (id) DO NOTHING", (gap_id, at, label, Jsonb(queries)))

    @_guarded
    def plans(self) -> list[tuple[str, str, str, list[str]]]:
        rows = self.conn.execute("SELECT id, at, label, queries FROM agenda_plans ORDER BY at, id").fetchall()
        return [(r[0], r[1].astimezone(UTC).isoformat(), r[2], list(r[3])) for r in rows]

    @_guarded
    def searches(self, since: str) -> list[tuple]:
        rows = self.conn.execute("SELECT id, at, query, lang, results, best, opened FROM searches WHERE at >= %s"
                                 " ORDER BY at", (since,)).fetchall()
        return [(r[0], r[1].astimezone(UTC).isoformat(), *r[2:]) for r in rows]

    @_guarded
    def save_report(self, report: dict) -> None:
        self._set_meta({"last_run": json.dumps(report)})

    @_guarded
    def last_report(self) -> dict | None:
        raw = self._meta("last_run").get("last_run")
        try:
            report = json.loads(raw) if raw else None
        except ValueError:
            return None
        return report if isinstance(report, dict) else None

    @_guarded
    def save_note(self, stem: str, text: str) -> str:
        """Committed before this returns: the note survives this host. Never takes the name of
        another note or of an indexed document."""
        for number in range(1, 1000):
            path = f"sessions/{stem}.md" if number == 1 else f"sessions/{stem}-{number}.md"
            row = self.conn.execute(
                "INSERT INTO notes (path, text) SELECT %s, %s"
                " WHERE NOT EXISTS (SELECT 1 FROM documents WHERE id = %s) ON CONFLICT (path) DO NOTHING"
                " RETURNING path", (path, text, path.removesuffix(".md"))).fetchone()
            if row:
                return path
        raise InvalidInput(f"too many notes named {stem}; choose another title")

    @_guarded
    def stored_notes(self) -> list[tuple[str, str]]:
        """The notes added through the web or ``kb add-note`` that are not files yet: (path in the
        content folder, text)."""
        return self.conn.execute("SELECT path, text FROM notes WHERE exported_at IS NULL ORDER BY path").fetchall()

    @_guarded
    def notes_exported(self, paths: list[str]) -> None:
        """These notes are files in the content folder now, and the files are what counts."""
        self.conn.execute("UPDATE notes SET exported_at = now() WHERE path = ANY(%s)", (list(paths),))

    @_guarded
    def secret_key(self) -> str:
        """Created once, by whichever host asks first; every host signs with the same key."""
        self.conn.execute("INSERT INTO meta (key, value) VALUES ('secret_key', %s) ON CONFLICT (key) DO NOTHING",
                          (secrets.token_hex(32),))
        return self._meta("secret_key")["secret_key"]

    def copy_to(self, data_dir) -> bool:
        raise ConfigError("copying the live index into a data folder is for the embedded store; back up the "
                          "database with pg_dump")

    # the vector index ------------------------------------------------------------------------

    @_guarded
    def nearest(self, vector: np.ndarray, dim: int, k: int, within: np.ndarray | None, walk: bool
                ) -> list[tuple[int, float]]:
        """(chunk id, inner product) of the ``k`` nearest passages: through the HNSW index when
        ``walk``, else by comparing every passage (of ``within``)."""
        query = HalfVector(np.asarray(vector, dtype=np.float32).ravel())
        distance = f"embedding::halfvec({int(dim)}) <#> %(q)s" if walk else "embedding <#> %(q)s"
        # dimension and depth are written into the statement (integers of ours), so the planner
        # matches the partial index and knows the limit, whether the statement is prepared or not
        where = f"dim = {int(dim)}" + ("" if within is None else " AND chunk_id = ANY(%(within)s)")
        sql = f"SELECT chunk_id, -({distance}) FROM passage_vectors WHERE {where} ORDER BY {distance} LIMIT {int(k)}"
        params = {"q": query,
                  "within": None if within is None else np.asarray(within, dtype=np.int64).tolist()}
        conn = self.conn
        with conn.transaction():
            if walk:
                conn.execute("SELECT set_config('hnsw.ef_search', %s, true),"
                             " set_config('hnsw.iterative_scan', 'relaxed_order', true)",
                             (str(max(self.graph.ef_search, int(k))),))
            return [(int(i), float(score)) for i, score in conn.execute(sql, params)]

    def has_graph(self, dim: int) -> bool:
        return self.conn.execute("SELECT 1 FROM pg_indexes WHERE tablename = 'passage_vectors' AND indexname = %s",
                                 (_graph_name(dim),)).fetchone() is not None

    @_guarded
    def drop_graphs(self, keep: int) -> None:
        names = [row[0] for row in self.conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'passage_vectors' AND indexname LIKE 'passages_hnsw_%%'"
            " AND indexname <> %s", (_graph_name(keep),))]
        for name in names:
            self.conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")

    def _set_meta(self, values: dict[str, object]) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                [(key, str(value)) for key, value in values.items()])


class PgVectorSearch:
    """The nearest passages of the live generation, found by the engine."""

    def __init__(self, storage: PostgresStorage, dim: int, approximate: bool) -> None:
        self.storage = storage
        self.dim = int(dim)
        self.approximate = approximate
        self.total = max(1, storage.counts()[1])

    def search(self, vector: np.ndarray, k: int, within: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, chunk ids), best first; only ids in ``within`` when given."""
        if k <= 0 or (within is not None and len(within) == 0):
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        walk = self.approximate and (within is None or len(within) / self.total > FILTER_EXACT)
        rows = self.storage.nearest(vector, self.dim, k, within, walk)
        return _ranked(rows)

    def exact(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return _ranked(self.storage.nearest(vector, self.dim, k, None, walk=False))


def _ranked(rows: list[tuple[int, float]]) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids) best first: an iterative index scan returns them nearly, not strictly, in order."""
    rows.sort(key=lambda row: (-row[1], row[0]))
    return np.array([r[1] for r in rows], dtype=np.float32), np.array([r[0] for r in rows], dtype=np.int64)


class PgPublication:
    """The next generation, written in the open transaction of ``PostgresStorage.publish``."""

    def __init__(self, storage: PostgresStorage, full: bool, adding: int, build: Build) -> None:
        self.storage = storage
        self.conn = storage.conn
        self.build = build
        self.generation = storage.generation()
        total = adding if full else storage.counts()[1] + adding
        self.approximate = total >= storage.ann_min_chunks
        self.vocabulary_change: Counter[str] = Counter()  # documents that gained (lost) each term

    def hashes(self) -> dict[str, str]:
        return self.storage.hashes()

    def vocabulary(self) -> set[str]:
        """The stored vocabulary with this publication's changes so far."""
        counts = dict(self.conn.execute("SELECT term, documents FROM vocabulary").fetchall())
        for term, change in self.vocabulary_change.items():
            counts[term] = counts.get(term, 0) + change
        return {term for term, count in counts.items() if count > 0}

    def remove(self, doc_id: str) -> None:
        rows = self.conn.execute("SELECT title_terms, terms FROM chunks WHERE doc_id = %s", (doc_id,)).fetchall()
        self.vocabulary_change.subtract(_words(rows))
        self.conn.execute("DELETE FROM documents WHERE id = %s", (doc_id,))

    def put(self, doc: Document, chunks: list[Chunk], terms: list[tuple[str, str]],
            vectors: list[np.ndarray]) -> None:
        self.remove(doc.id)
        self.conn.execute(
            "INSERT INTO documents (id, kind, title, lang, date, authors, tags, data, content_hash, path, audience)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (doc.id, doc.kind, doc.title, doc.lang, doc.date, Jsonb(doc.people()), Jsonb(doc.tags), doc.to_json(),
             doc.content_hash, doc.path, Jsonb(doc.audience)))
        # passages in reading order, so that chunk ids grow with it (the term index extends on ids)
        ids = dict(self.conn.execute(
            "INSERT INTO chunks (doc_id, ord, heading, text, hash, title_terms, terms)"
            " SELECT %s, ord, heading, text, hash, title_terms, terms"
            " FROM unnest(%s::int[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[])"
            " AS passage(ord, heading, text, hash, title_terms, terms) ORDER BY ord RETURNING ord, id",
            (doc.id, [c.ord for c in chunks], [c.heading for c in chunks], [c.text for c in chunks],
             [c.hash for c in chunks], [t[0] for t in terms], [t[1] for t in terms])).fetchall())
        dim = self.build.dim
        with self.conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO passage_vectors (chunk_id, dim, embedding) VALUES (%s, %s, %s)",
                [(ids[chunk.ord], dim, HalfVector(np.asarray(vector, dtype=np.float32)))
                 for chunk, vector in zip(chunks, vectors, strict=True)])
        self.vocabulary_change.update(_words(terms))

    def commit(self) -> None:
        """Count the vocabulary's changes in, build the HNSW index if this generation needs one it
        lacks, and record the generation."""
        change = {term: count for term, count in self.vocabulary_change.items() if count}
        if change:
            # once per term and publication: a row updated once per document of a full run made
            # PostgreSQL walk ever longer chains of versions (10 minutes at 60k documents)
            terms = sorted(change)
            self.conn.execute(
                "INSERT INTO vocabulary (term, documents) SELECT * FROM unnest(%s::text[], %s::int[])"
                " ON CONFLICT (term) DO UPDATE SET documents = vocabulary.documents + EXCLUDED.documents",
                (terms, [change[term] for term in terms]))
            self.conn.execute("DELETE FROM vocabulary WHERE term = ANY(%s) AND documents <= 0", (terms,))
        dim = self.build.dim
        if self.approximate and not self.storage.has_graph(dim):
            graph = self.storage.graph
            self.conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
            self.conn.execute(
                f"CREATE INDEX {_graph_name(dim)} ON passage_vectors"
                f" USING hnsw ((embedding::halfvec({dim})) halfvec_ip_ops)"
                f" WITH (m = {graph.m}, ef_construction = {graph.ef_construction}) WHERE dim = {dim}")
        self.generation += 1
        self.storage._set_meta({**self.build.record(), "generation": self.generation,
                                "approximate": int(self.approximate)})

    def tidy(self) -> None:
        """After the commit: drop the HNSW index of a model no longer in use."""
        self.storage.drop_graphs(keep=self.build.dim)


def _words(terms: Iterable[tuple[str, str]]) -> set[str]:
    """The distinct analysed terms of a document's passages, from their (title, text) terms."""
    return {word for title, text in terms for word in (title + " " + text).split()}


def _graph_name(dim: int) -> str:
    return f"passages_hnsw_{int(dim)}"
