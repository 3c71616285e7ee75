"""Crash safety: a real index run killed with SIGKILL anywhere never breaks the live search.

``kb index`` runs in a subprocess over ~40 generated documents whose every passage changed since
the live index was built, and is killed at 20 moments from start-up to after its commit, on both
backends. The moments come from watching the run from outside, never from hooks in the code: the
run lock names the process once it scans (a lock file, or an advisory lock held by a connection
named after the process), the embedding cache grows batch by batch, the write lock is taken when
publishing starts, and the generation number moves at the commit. After each kill:

- the live index answers searches, with exactly the results of the generation it still serves;
- the store is sound: for SQLite ``PRAGMA integrity_check`` and the FTS5 check, and the chunk ids
  of the FAISS generation are exactly the chunk rows; for PostgreSQL every document has its
  passages, every passage a vector of the build's dimension, and the vocabulary counts are exact;
- the next normal run (the same command, not killed) gives the same results as an uninterrupted
  run: for ``--full``, a clean index in a fresh data folder.

Notes added while a nightly run is busy all survive it.
"""

from __future__ import annotations

import shutil
import time

import pytest

from indexer.pipeline import run_index
from kb.embeddings import HashingEmbedder
from kb.knowledge import KnowledgeBase
from tests.conftest import create_database
from tests.crash_support import (
    Lab,
    Run,
    Store,
    answers,
    check_store,
    profile,
    vocabulary,
    write_corpus,
)

pytestmark = pytest.mark.slow

@pytest.fixture(scope="module", params=["embedded", "postgres"])
def lab(request, tmp_path_factory) -> Lab:
    root = tmp_path_factory.mktemp("crash")
    shared = request.param == "postgres"
    made: list[str] = []

    def store(name: str) -> Store:
        if shared:
            made.append(create_database(request.getfixturevalue("postgres_server")))
        return Store(root / "content", root / name, made[-1] if shared else None)

    def index(target: Store, full: bool = False) -> None:
        kb = KnowledgeBase(target.settings, embedder=HashingEmbedder())
        run_index(target.settings, kb, full=full)
        kb.shutdown()

    words = vocabulary()
    write_corpus(root / "content", "A", words)
    baseline = store("baseline")
    index(baseline)
    before = answers(baseline.settings)
    shutil.rmtree(root / "content")
    write_corpus(root / "content", "B", words)
    content = root / "content"

    clean = store("clean")
    index(clean, full=True)
    incremental = baseline.copy(root / "incremental")
    index(incremental)
    after = {"full": answers(clean.settings), "incremental": answers(incremental.settings)}
    assert before != after["full"], "the revision must change what the index answers"
    clean.drop()
    incremental.drop()

    publish_seconds, embedded = profile(root, content, baseline, full=True)
    yield Lab(root, content, baseline, before, after, embedded, publish_seconds)
    baseline.drop()


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


def run_and_kill(lab: Lab, number: int, mode: str, where: str, how_far: float) -> tuple[Store, str, bool]:
    """Start a run on a copy of the baseline and kill it at the point; returns (store, phase seen, killed)."""
    store = lab.copy(f"kill-{number:02d}")
    run_started = time.time()
    run = Run(lab, store, full=mode == "full")
    if where == "start":
        time.sleep(0.05)
    elif where == "scanning":
        run.wait_for(run.scanning)
    elif where == "embedding":
        wanted = max(1, int(how_far * lab.new_chunks))
        run.wait_for(lambda: run.cached() >= wanted)
    elif where == "publishing":
        run.wait_for(run.publishing)
        time.sleep(how_far * lab.publish_seconds)
    elif where == "committed":
        run.wait_for(run.committed)
        time.sleep(how_far)
    elif where == "finished":
        run.wait_for(lambda: store.finished_after(run_started))
    publishing = run.publishing()  # (a database releases the dead run's lock at once: look before the kill)
    killed = run.kill()
    if run.committed():
        phase = "committed"
    elif publishing:
        phase = "publishing"
    elif run.cached():
        phase = "embedding"
    else:
        phase = "before embedding"
    return store, phase, killed


def test_a_run_killed_anywhere_leaves_a_sound_serving_index_and_the_next_run_converges(lab):
    seen = []
    for number, (mode, where, how_far) in enumerate(KILL_POINTS):
        store, phase, killed = run_and_kill(lab, number, mode, where, how_far)
        seen.append((mode, where, how_far, phase, killed))
        settings = store.settings
        label = f"kill {number} ({mode}, {where} {how_far}; seen {phase})"

        served = answers(settings)
        expected = lab.after[mode] if phase == "committed" else lab.before
        assert served == expected, label
        check_store(settings)

        kb = KnowledgeBase(settings, embedder=HashingEmbedder())
        try:
            run_index(settings, kb, full=mode == "full")
        finally:
            kb.shutdown()
        assert answers(settings) == lab.after[mode], label + ": the next run did not converge"
        check_store(settings)
        store.drop()

    phases = [item[3] for item in seen]
    assert sum(item[4] for item in seen) >= 18, seen  # nearly every kill hit a running process
    for phase in ("before embedding", "embedding", "publishing", "committed"):
        assert phase in phases, (phase, seen)
    assert phases.count("embedding") >= 4 and phases.count("publishing") >= 2, seen


def test_notes_added_while_a_nightly_run_is_busy_all_survive_it(lab):
    store = lab.copy("notes-during-run")
    run = Run(lab, store, full=True)
    settings = store.settings
    writer = KnowledgeBase(settings, embedder=HashingEmbedder())
    notes = []

    def note(number: int) -> None:
        fields = {"title": f"Tussendoor {number}", "date": "2026-05-01", "speakers": "Joris Bakker",
                  "language": "nl", "format": "workshop",
                  "body": f"De zeldzame kwartelvondst nummer{number} tijdens de run."}
        notes.append(writer.add_note(fields))

    try:
        run.wait_for(run.scanning)
        note(0)
        run.wait_for(lambda: run.cached() >= lab.new_chunks // 3)
        note(1)
        run.wait_for(run.publishing)
        note(2)  # waits for the publish to finish, then lands in the next generation
        note(3)
        _, report = run.finish()
        assert report["removed"] == 2
        for number, doc in enumerate(notes):
            assert (lab.content / (doc.id + ".md")).is_file() != bool(store.database_url)  # else a row
            assert writer.search(f"kwartelvondst nummer{number}").results[0].id == doc.id
        again = run_index(settings, writer)
        assert again.applied.removed == 0 and again.applied.embedded == 0
        for number, doc in enumerate(notes):
            assert writer.search(f"kwartelvondst nummer{number}").results[0].id == doc.id
        check_store(settings)
    finally:
        writer.shutdown()
        for doc in notes:
            (lab.content / (doc.id + ".md")).unlink(missing_ok=True)
        store.drop()
