"""The crash lab: a generated corpus, a baseline index (either backend), and an index run watched from outside."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import psycopg

from kb.config import load_settings
from kb.embeddings import HashingEmbedder
from kb.knowledge import KnowledgeBase
from kb.storage import Build
from kb.storage.faiss_index import VectorIndex
from kb.storage.layout import Layout
from kb.storage.postgres import RUN_LOCK, WRITE_LOCK
from tests.conftest import ROOT, database_on, drop_database

DOCUMENTS = 40
QUERIES = ["uniek5x3B", "uniek5x3A", "Document 12", "deel feedback overleg", "terraform state lock",
           "onboarding buddy eerste week", "Nieuw 41"]


def vocabulary() -> list[str]:
    """Real Dutch and English words, from the demo content."""
    words = {word for path in (ROOT / "content").rglob("*.md")
             for word in re.findall(r"[a-zà-ÿ]{3,12}", path.read_text(encoding="utf-8").lower())}
    return sorted(words)


def write_corpus(folder: Path, revision: str, words: list[str]) -> None:
    """~40 long documents; revision B changes every passage, drops two documents and adds two."""
    rng = random.Random(revision)
    for number in range(DOCUMENTS):
        if revision == "B" and number in (3, 7):
            continue
        kind = "articles" if number % 2 else "sessions"
        lines = [f'---\ntitle: "Document {number} {" ".join(rng.sample(words, 3))}"\n'
                 f"date: 2025-01-{number % 28 + 1:02d}\nspeakers: [Spreker {number}]\nauthor: Auteur {number}\n"
                 f"language: {'nl' if number % 3 else 'en'}\n---\n"]
        for part in range(12):
            if part % 4 == 0:
                lines.append(f"## Deel {part} {rng.choice(words)}\n")
            lines.append(" ".join(rng.choices(words, k=100)) + f" uniek{number}x{part}{revision}.\n")
        (folder / kind).mkdir(parents=True, exist_ok=True)
        (folder / kind / f"doc-{number:02d}.md").write_text("\n".join(lines), encoding="utf-8")
    if revision == "B":
        for number in (40, 41):
            (folder / "sessions" / f"doc-{number:02d}.md").write_text(
                f"---\ntitle: Nieuw {number}\n---\n" + " ".join(rng.choices(words, k=600)), encoding="utf-8")


def settings_for(content: Path, data: Path, database_url: str | None = None):
    return load_settings(overrides={"content_dir": str(content), "data_dir": str(data), "model": "hashing",
                                    "database_url": database_url}, environ={})


def answers(settings) -> dict[str, list[tuple[str, float]]]:
    """What the live index answers to every query, as a web worker opening it now would see it."""
    kb = KnowledgeBase(settings, embedder=HashingEmbedder())
    try:
        return {query: [(r.id, r.score) for r in kb.search(query, limit=20).results] for query in QUERIES}
    finally:
        kb.shutdown()


def check_store(settings) -> None:
    """The store is sound, and its vector index holds exactly its passages."""
    if settings.database_url:
        check_database(settings)
        return
    layout = Layout(settings.data_dir)
    conn = sqlite3.connect(layout.database)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        conn.execute("INSERT INTO chunks_fts (chunks_fts) VALUES ('integrity-check')")
        chunk_ids = {row[0] for row in conn.execute("SELECT id FROM chunks")}
        assert chunk_ids == {row[0] for row in conn.execute("SELECT rowid FROM chunks_fts")}
        assert conn.execute("SELECT count(*) FROM documents d WHERE NOT EXISTS"
                            " (SELECT 1 FROM chunks c WHERE c.doc_id = d.id)").fetchone() == (0,)
        meta = dict(conn.execute("SELECT key, value FROM meta"))
    finally:
        conn.close()
    generation = int(meta["generation"])
    index = VectorIndex.load(layout.generation_file(generation),
                             Build(meta["model"], int(meta["dim"]), settings.chunk_words).record())
    _, ids = index.search(np.ones(index.dim, dtype=np.float32), len(index))
    assert len(index) == len(chunk_ids) and set(ids.tolist()) == chunk_ids


def check_database(settings) -> None:
    """Every document has passages, every passage a vector of the build's dimension, and the
    vocabulary counts exactly the documents that hold each term."""
    with psycopg.connect(settings.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM documents d WHERE NOT EXISTS"
                            " (SELECT 1 FROM chunks c WHERE c.doc_id = d.id)").fetchone() == (0,)
        dim = int(conn.execute("SELECT value FROM meta WHERE key = 'dim'").fetchone()[0])
        assert conn.execute("SELECT count(*) FROM chunks c LEFT JOIN passage_vectors v ON v.chunk_id = c.id"
                            " WHERE v.chunk_id IS NULL OR v.dim <> %s OR vector_dims(v.embedding) <> %s",
                            (dim, dim)).fetchone() == (0,)
        counted = dict(conn.execute("SELECT term, documents FROM vocabulary").fetchall())
        held: dict[str, int] = {}
        for (terms,) in conn.execute("SELECT string_agg(title_terms || ' ' || terms, ' ') FROM chunks GROUP BY doc_id"):
            for term in set(terms.split()):
                held[term] = held.get(term, 0) + 1
        assert counted == held


class Store:
    """Where a lab's index lives: a data folder (embedded) or a PostgreSQL database, watched from
    outside: the generation number, the embedding cache, who holds which lock."""

    def __init__(self, content: Path, data: Path, database_url: str | None = None) -> None:
        self.content = content
        self.data = data
        self.database_url = database_url
        self.layout = Layout(data)

    @property
    def settings(self):
        return settings_for(self.content, self.data, self.database_url)

    def copy(self, data: Path) -> Store:
        """An independent copy of this store (the data folder, or a database made from this one)."""
        if not self.database_url:
            shutil.copytree(self.data, data)
            return Store(self.content, data)
        name = "kb_copy_" + os.urandom(6).hex()
        with psycopg.connect(database_on(self.database_url, "postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {self._name()}")
        return Store(self.content, data, database_on(self.database_url, name))

    def drop(self) -> None:
        if self.database_url:
            drop_database(self.database_url)
        shutil.rmtree(self.data, ignore_errors=True)

    def _name(self) -> str:
        return urlsplit(self.database_url).path.strip("/")

    def _one(self, sql: str, params=()):
        if not self.database_url:
            conn = sqlite3.connect(self.layout.database, timeout=5)
            try:
                return conn.execute(sql.replace("%s", "?"), params).fetchone()
            finally:
                conn.close()
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            return conn.execute(sql, params).fetchone()

    def generation(self) -> int:
        row = self._one("SELECT value FROM meta WHERE key = 'generation'")
        return int(row[0]) if row else 0

    def cached(self) -> int:
        return self._one("SELECT count(*) FROM embeddings")[0]

    def finished_after(self, moment: float) -> bool:
        """Has a run recorded its report since ``moment`` (time.time())?"""
        if not self.database_url:
            return self.layout.last_run.exists() and self.layout.last_run.stat().st_mtime > moment
        row = self._one("SELECT value FROM meta WHERE key = 'last_run'")
        return bool(row) and json.loads(row[0])["finished_at"] >= time.strftime("%Y-%m-%dT%H:%M:%S%z",
                                                                                 time.localtime(moment))

    def holds_run_lock(self, pid: int) -> bool:
        if not self.database_url:
            return _holds(self.layout.run_lock, pid)
        return self._advisory(RUN_LOCK, f"%process {pid}")

    def holds_write_lock(self, pid: int) -> bool:
        """(The database names no process for the write lock: a lab has one writer.)"""
        if not self.database_url:
            return _holds(self.layout.write_lock, pid)
        return self._advisory(WRITE_LOCK, "%")

    def _advisory(self, key: int, application: str) -> bool:
        return self._one("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                         " WHERE l.locktype = 'advisory' AND l.granted AND l.objid = %s AND a.datname = %s"
                         " AND a.application_name LIKE %s", (key, self._name(), application))[0] > 0


def _holds(lock: Path, pid: int) -> bool:
    return lock.exists() and lock.read_text().strip() == f"process {pid}"


@dataclass
class Lab:
    root: Path
    content: Path  # revision B, what the killed runs index
    baseline: Store  # indexed from revision A: the live index when a run starts
    before: dict  # what the baseline answers
    after: dict  # mode -> what an uninterrupted run from the baseline answers
    new_chunks: int  # passages the run must embed
    publish_seconds: float  # how long publishing took in an uninterrupted run

    def copy(self, name: str) -> Store:
        return self.baseline.copy(self.root / name)


class Run:
    """``kb index`` in a subprocess, watched from outside through what it writes."""

    def __init__(self, lab: Lab, store: Store, full: bool) -> None:
        self.store = store
        self.base_generation = store.generation()
        self.base_cached = store.cached()
        env = {**os.environ, "KB_MODEL": "hashing", "KB_CONTENT_DIR": str(lab.content), "KB_DATA_DIR": str(store.data)}
        if store.database_url:
            env["KB_DATABASE_URL"] = store.database_url
        command = [sys.executable, "-m", "indexer.cli", "index", "--json"] + (["--full"] if full else [])
        self.started = time.perf_counter()
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def scanning(self) -> bool:
        return self.store.holds_run_lock(self.process.pid)

    def publishing(self) -> bool:
        return self.store.holds_write_lock(self.process.pid)

    def cached(self) -> int:
        return self.store.cached() - self.base_cached

    def committed(self) -> bool:
        return self.store.generation() > self.base_generation

    def wait_for(self, condition, limit: float = 60.0) -> bool:
        """Poll until ``condition()``; False when the run ended first."""
        deadline = time.perf_counter() + limit
        while time.perf_counter() < deadline:
            if condition():
                return True
            if self.process.poll() is not None:
                return condition()
            time.sleep(0.003)
        raise AssertionError("the run neither reached the point nor ended")

    def kill(self) -> bool:
        """SIGKILL; True when the process was still running."""
        running = self.process.poll() is None
        if running:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        return running

    def finish(self) -> tuple[int, dict]:
        out, err = self.process.communicate(timeout=120)
        assert self.process.returncode == 0, err.decode()
        return self.process.returncode, json.loads(out)


def profile(lab_root: Path, content: Path, baseline: Store, full: bool) -> tuple[float, int]:
    """(publish seconds, chunks embedded) of an uninterrupted subprocess run, timed from outside."""
    lab = Lab(lab_root, content, baseline, {}, {}, 0, 0.0)
    store = lab.copy(f"profile-{'full' if full else 'incremental'}")
    run = Run(lab, store, full)
    run.wait_for(run.publishing)
    publishing = time.perf_counter()
    run.wait_for(run.committed)
    seconds = time.perf_counter() - publishing
    _, report = run.finish()
    store.drop()
    return seconds, report["embedded"]
