"""The crash lab: a generated corpus, a baseline index, and an index run watched from outside."""

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

import numpy as np

from kb.config import load_settings
from kb.embeddings import HashingEmbedder
from kb.knowledge import KnowledgeBase
from kb.storage import Build
from kb.storage.faiss_index import VectorIndex
from kb.storage.layout import Layout
from tests.conftest import ROOT

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


def settings_for(content: Path, data: Path):
    return load_settings(overrides={"content_dir": str(content), "data_dir": str(data), "model": "hashing"},
                         environ={})


def answers(settings) -> dict[str, list[tuple[str, float]]]:
    """What the live index answers to every query, as a web worker opening it now would see it."""
    kb = KnowledgeBase(settings, embedder=HashingEmbedder())
    try:
        return {query: [(r.id, r.score) for r in kb.search(query, limit=20).results] for query in QUERIES}
    finally:
        kb.close()


def check_store(settings) -> None:
    """The store is sound and the FAISS generation it names holds exactly its chunk rows."""
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


@dataclass
class Lab:
    root: Path
    content: Path  # revision B, what the killed runs index
    baseline: Path  # data folder indexed from revision A: the live index when a run starts
    before: dict  # what the baseline answers
    after: dict  # mode -> what an uninterrupted run from the baseline answers
    new_chunks: int  # passages the run must embed
    publish_seconds: float  # how long publishing took in an uninterrupted run

    def data_copy(self, name: str) -> Path:
        target = self.root / name
        shutil.copytree(self.baseline, target)
        return target


class Run:
    """``kb index`` in a subprocess, watched from outside through the files it writes."""

    def __init__(self, lab: Lab, data: Path, full: bool) -> None:
        self.layout = Layout(data)
        self.base_generation = self.generation_in(data)
        self.base_cached = self.cached_in(data)
        env = {**os.environ, "KB_MODEL": "hashing", "KB_CONTENT_DIR": str(lab.content), "KB_DATA_DIR": str(data)}
        command = [sys.executable, "-m", "indexer.cli", "index", "--json"] + (["--full"] if full else [])
        self.started = time.perf_counter()
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.me = f"process {self.process.pid}"
        self.conn = sqlite3.connect(self.layout.database, timeout=5, isolation_level=None)

    @staticmethod
    def generation_in(data: Path) -> int:
        conn = sqlite3.connect(Layout(data).database)
        try:
            return int(conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
        finally:
            conn.close()

    @staticmethod
    def cached_in(data: Path) -> int:
        conn = sqlite3.connect(Layout(data).database)
        try:
            return conn.execute("SELECT count(*) FROM embeddings").fetchone()[0]
        finally:
            conn.close()

    def holds(self, lock: Path) -> bool:
        return lock.exists() and lock.read_text().strip() == self.me

    def cached(self) -> int:
        return self.conn.execute("SELECT count(*) FROM embeddings").fetchone()[0] - self.base_cached

    def committed(self) -> bool:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) > self.base_generation

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
        self.conn.close()
        return running

    def finish(self) -> tuple[int, dict]:
        out, err = self.process.communicate(timeout=120)
        self.conn.close()
        assert self.process.returncode == 0, err.decode()
        return self.process.returncode, json.loads(out)


def profile(lab_root: Path, content: Path, baseline: Path, full: bool) -> tuple[float, int]:
    """(publish seconds, chunks embedded) of an uninterrupted subprocess run, timed from outside."""
    data = lab_root / f"profile-{'full' if full else 'incremental'}"
    shutil.copytree(baseline, data)
    lab = Lab(lab_root, content, baseline, {}, {}, 0, 0.0)
    run = Run(lab, data, full)
    run.wait_for(lambda: run.holds(run.layout.write_lock))
    publishing = time.perf_counter()
    run.wait_for(run.committed)
    seconds = time.perf_counter() - publishing
    _, report = run.finish()
    return seconds, report["embedded"]
