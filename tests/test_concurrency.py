"""Concurrency: notes posted at the same moment, over HTTP, while a full re-index runs, all survive.

The app is served by a threaded server; ``kb index --full`` runs in a subprocess over a corpus
large enough to take a few seconds. Twenty colleagues post a note at once while it runs, and
readers keep searching and opening documents meanwhile. When the run ends, every note is a file
in the content folder and is the first result for its own phrase; no reader saw a server error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from kb.embeddings import HashingEmbedder
from kb.knowledge import KnowledgeBase
from kb.storage.layout import Layout
from tests.browser_support import serve
from tests.conftest import ROOT, web_config
from tests.test_crash import check_store, vocabulary, write_corpus
from tests.web_support import settings_of
from web import create_app

pytestmark = pytest.mark.slow

WRITERS = 20


def request(url: str, data: dict | None = None) -> tuple[int, dict]:
    body = None if data is None else json.dumps(data).encode()
    call = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"} if body else {})
    try:
        with urllib.request.urlopen(call, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, {"raw": raw.decode(errors="replace")[:300]}


def note(number: int) -> dict:
    return {"title": f"Gelijktijdige notitie {number}", "date": "2026-04-01", "speakers": f"Collega {number}",
            "tags": "concurrency", "language": "nl", "format": "workshop",
            "body": f"Wat we leerden in sessie {number}: het merkwoord uniekenotitie{number} hoort alleen hier."}


def test_twenty_notes_posted_at_once_during_a_full_reindex_are_all_kept_and_found(tmp_path):
    config = web_config(tmp_path)
    content, data = Path(config["content_dir"]), Path(config["data_dir"])
    write_corpus(content, "A", vocabulary())
    settings = settings_of(config)
    from indexer.pipeline import run_index

    run_index(settings, KnowledgeBase(settings, embedder=HashingEmbedder()))
    app = create_app(config)
    env = {**os.environ, "KB_MODEL": "hashing", "KB_CONTENT_DIR": str(content), "KB_DATA_DIR": str(data)}
    with serve(app) as server:
        run = subprocess.Popen([sys.executable, "-m", "indexer.cli", "index", "--full", "--json"], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        lock = Layout(data).run_lock
        deadline = time.monotonic() + 60
        while not (lock.exists() and lock.read_text().strip() == f"process {run.pid}"):
            assert run.poll() is None and time.monotonic() < deadline, "the index run did not start"
            time.sleep(0.005)

        racing: list[bool] = []  # was the run still going when the writers were let go?
        start = threading.Barrier(WRITERS, action=lambda: racing.append(run.poll() is None))
        posted: dict[int, tuple[int, dict]] = {}
        reader_errors: list[str] = []
        writing = threading.Event()
        writing.set()

        def write(number: int) -> None:
            start.wait()
            posted[number] = request(server + "/api/notes", note(number))

        def read(number: int) -> None:
            queries = ["uniekenotitie3 merkwoord", "Document 12 deel", "onboarding buddy", "terraform state lock"]
            while writing.is_set():
                query = urllib.parse.quote(queries[number % len(queries)])
                status, body = request(f"{server}/api/search?q={query}")
                if status != 200:
                    reader_errors.append(f"search {status}: {body}")
                for result in body.get("results", [])[:2]:
                    status, _ = request(server + "/api/documents/" + result["id"])
                    if status != 200:
                        reader_errors.append(f"document {result['id']} {status}")
                number += 1

        readers = [threading.Thread(target=read, args=(n,)) for n in range(4)]
        writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
        for thread in readers + writers:
            thread.start()
        for thread in writers:
            thread.join(timeout=300)
        out, err = run.communicate(timeout=300)
        writing.clear()
        for thread in readers:
            thread.join(timeout=60)

        assert run.returncode == 0, err.decode()
        assert racing == [True], "the index run finished before the notes were posted"
        assert json.loads(out)["removed"] == 0
        assert sorted(posted) == list(range(WRITERS))
        assert {status for status, _ in posted.values()} == {201}, posted
        ids = {number: body["id"] for number, (_, body) in posted.items()}
        assert len(set(ids.values())) == WRITERS
        for number, doc_id in ids.items():
            assert (content / (doc_id + ".md")).is_file()
            status, found = request(f"{server}/api/search?q=uniekenotitie{number}")
            assert status == 200 and found["results"][0]["id"] == doc_id, (number, found["results"][:2])
        assert reader_errors == []
        status, health = request(server + "/api/health")
        assert health["documents"] == 5 + 40 + WRITERS

    check_store(settings)
