"""Numbered schema migrations, applied in order when the store opens (``PRAGMA user_version``)."""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[str, ...] = (
    # 1: documents, chunks, keyword index, embedding cache, index metadata
    """
    CREATE TABLE documents (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        lang TEXT NOT NULL,
        date TEXT,
        authors TEXT NOT NULL DEFAULT '[]',
        tags TEXT NOT NULL DEFAULT '[]',
        data TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        path TEXT NOT NULL,
        indexed_at TEXT NOT NULL
    );
    CREATE TABLE chunks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ord INTEGER NOT NULL,
        heading TEXT NOT NULL,
        text TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX chunks_by_doc ON chunks(doc_id, ord);
    CREATE VIRTUAL TABLE chunks_fts USING fts5(title, terms, tokenize = 'unicode61 remove_diacritics 2');
    CREATE VIRTUAL TABLE chunks_vocab USING fts5vocab(chunks_fts, 'row');
    CREATE TABLE embeddings (
        model TEXT NOT NULL,
        hash TEXT NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (model, hash)
    ) WITHOUT ROWID;
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 2: who may read a document (kb.audience), as a JSON list of principals
    """
    ALTER TABLE documents ADD COLUMN audience TEXT NOT NULL DEFAULT '["everyone"]';
    """,
    # 3: the search log (kb.search_log): what was looked for, never by whom
    """
    CREATE TABLE searches (
        id TEXT PRIMARY KEY,
        at TEXT NOT NULL,
        query TEXT NOT NULL,
        lang TEXT NOT NULL,
        results INTEGER NOT NULL,
        best REAL,
        opened TEXT
    );
    CREATE INDEX searches_at ON searches (at);
    """,
    # 4: the learning agenda (kb.agenda): the meaning of each logged query (float16), and the planned gaps
    """
    CREATE TABLE query_vectors (
        model TEXT NOT NULL,
        query TEXT NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (model, query)
    ) WITHOUT ROWID;
    CREATE INDEX searches_query ON searches (query, at, results, opened);
    CREATE TABLE agenda_plans (
        id TEXT PRIMARY KEY,
        at TEXT NOT NULL,
        label TEXT NOT NULL,
        queries TEXT NOT NULL
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the schema up to date in one write transaction; safe when two processes open at once."""
    if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            for statement in script.split(";\n"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
