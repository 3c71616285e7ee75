"""Crash safety: a real index run killed with SIGKILL anywhere never breaks the live search.

``kb index`` runs in a subprocess over ~40 generated documents whose every passage changed since
the live index was built, and is killed at 20 moments from start-up to after its commit. The
moments come from watching the run from outside, never from hooks in the code: the run lock
names the process once it scans, the embedding cache grows batch by batch, the write lock names
it when publishing starts, and the generation number moves at the commit. After each kill:

- the live index answers searches, with exactly the results of the generation it still serves;
- the store passes ``PRAGMA integrity_check`` and the FTS5 check, and the chunk ids of the FAISS
  generation are exactly the chunk rows;
- the next normal run (the same command, not killed) gives the same results as an uninterrupted
  run: for ``--full``, a clean index in a fresh data folder.

Notes added while a nightly run is busy all survive it.
"""

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
import pytest

from indexer.pipeline import run_index
from kb.config import load_settings
from kb.embeddings import HashingEmbedder
from kb.knowledge import KnowledgeBase
from kb.storage import Build
from kb.storage.layout import Layout
from kb.vector_index import VectorIndex
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

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


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Lab:
    root = tmp_path_factory.mktemp("crash")
    words = vocabulary()
    write_corpus(root / "content", "A", words)
    baseline = root / "baseline"
    run_index(settings_for(root / "content", baseline), KnowledgeBase(settings_for(root / "content", baseline),
                                                                       embedder=HashingEmbedder()))
    before = answers(settings_for(root / "content", baseline))
    shutil.rmtree(root / "content")
    write_corpus(root / "content", "B", words)
    content = root / "content"

    clean = settings_for(content, root / "clean")
    run_index(clean, KnowledgeBase(clean, embedder=HashingEmbedder()), full=True)
    incremental = root / "incremental"
    shutil.copytree(baseline, incremental)
    run_index(settings_for(content, incremental), KnowledgeBase(settings_for(content, incremental),
                                                                 embedder=HashingEmbedder()))
    after = {"full": answers(clean), "incremental": answers(settings_for(content, incremental))}
    assert before != after["full"], "the revision must change what the index answers"

    publish_seconds, embedded = profile(root, content, baseline, full=True)
    return Lab(root, content, baseline, before, after, embedded, publish_seconds)


# (mode, where, how far): where the run is when it is killed
KILL_POINTS = [
    ("full", "start", 0.0), ("incremental", "scanning", 0.0),
    ("full", "embedding", 0.0), ("incremental", "embedding", 0.15), ("full", "embedding", 0.3),
    ("incremental", "embedding", 0.45), ("full", "embedding", 0.6), ("incremental", "embedding", 0.75),
    ("full", "embedding", 0.9), ("incremental", "embedding", 1.0),
    ("full", "publishing", 0.0), ("incremental", "publishing", 0.0), ("full", "publishing", 0.15),
    ("incremental", "publishing", 0.3), ("full", "publishing", 0.45), ("incremental", "publishing", 0.6),
    ("full", "committed", 0.0), ("incremental", "committed", 0.0), ("full", "committed", 0.02),
    ("incremental", "finished", 0.0),
]


def run_and_kill(lab: Lab, number: int, mode: str, where: str, how_far: float) -> tuple[Path, str, bool]:
    """Start a run on a copy of the baseline and kill it at the point; returns (data, phase seen, killed)."""
    data = lab.data_copy(f"kill-{number:02d}")
    run_started = time.time()
    run = Run(lab, data, full=mode == "full")
    if where == "start":
        time.sleep(0.05)
    elif where == "scanning":
        run.wait_for(lambda: run.holds(run.layout.run_lock))
    elif where == "embedding":
        wanted = max(1, int(how_far * lab.new_chunks))
        run.wait_for(lambda: run.cached() >= wanted)
    elif where == "publishing":
        run.wait_for(lambda: run.holds(run.layout.write_lock))
        time.sleep(how_far * lab.publish_seconds)
    elif where == "committed":
        run.wait_for(run.committed)
        time.sleep(how_far)
    elif where == "finished":
        run.wait_for(lambda: run.layout.last_run.exists() and run.layout.last_run.stat().st_mtime > run_started)
    killed = run.kill()
    cached = Run.cached_in(data) - run.base_cached
    if Run.generation_in(data) > run.base_generation:
        phase = "committed"
    elif run.holds(run.layout.write_lock):
        phase = "publishing"
    elif cached:
        phase = "embedding"
    else:
        phase = "before embedding"
    return data, phase, killed


def test_a_run_killed_anywhere_leaves_a_sound_serving_index_and_the_next_run_converges(lab):
    seen = []
    for number, (mode, where, how_far) in enumerate(KILL_POINTS):
        data, phase, killed = run_and_kill(lab, number, mode, where, how_far)
        seen.append((mode, where, how_far, phase, killed))
        settings = settings_for(lab.content, data)
        label = f"kill {number} ({mode}, {where} {how_far}; seen {phase})"

        served = answers(settings)
        expected = lab.after[mode] if phase == "committed" else lab.before
        assert served == expected, label
        check_store(settings)

        kb = KnowledgeBase(settings, embedder=HashingEmbedder())
        try:
            run_index(settings, kb, full=mode == "full")
        finally:
            kb.close()
        assert answers(settings) == lab.after[mode], label + ": the next run did not converge"
        check_store(settings)
        shutil.rmtree(data)

    phases = [item[3] for item in seen]
    assert sum(item[4] for item in seen) >= 18, seen  # nearly every kill hit a running process
    for phase in ("before embedding", "embedding", "publishing", "committed"):
        assert phase in phases, (phase, seen)
    assert phases.count("embedding") >= 4 and phases.count("publishing") >= 2, seen


def test_notes_added_while_a_nightly_run_is_busy_all_survive_it(lab):
    data = lab.data_copy("notes-during-run")
    run = Run(lab, data, full=True)
    settings = settings_for(lab.content, data)
    writer = KnowledgeBase(settings, embedder=HashingEmbedder())
    notes = []

    def note(number: int) -> None:
        fields = {"title": f"Tussendoor {number}", "date": "2026-05-01", "speakers": "Joris Bakker",
                  "language": "nl", "format": "workshop", "body": f"De zeldzame kwartelvondst nummer{number} tijdens de run."}
        notes.append(writer.add_note(fields))

    try:
        run.wait_for(lambda: run.holds(run.layout.run_lock))
        note(0)
        run.wait_for(lambda: run.cached() >= lab.new_chunks // 3)
        note(1)
        run.wait_for(lambda: run.holds(run.layout.write_lock))
        note(2)  # waits for the publish to finish, then lands in the next generation
        note(3)
        _, report = run.finish()
        assert report["removed"] == 2
        for number, doc in enumerate(notes):
            assert (lab.content / (doc.id + ".md")).is_file()
            assert writer.search(f"kwartelvondst nummer{number}").results[0].id == doc.id
        again = run_index(settings, writer)
        assert again.applied.removed == 0 and again.applied.embedded == 0
        for number, doc in enumerate(notes):
            assert writer.search(f"kwartelvondst nummer{number}").results[0].id == doc.id
        check_store(settings)
    finally:
        writer.close()
        for doc in notes:
            (lab.content / (doc.id + ".md")).unlink(missing_ok=True)
