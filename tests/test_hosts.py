"""Two web hosts on one PostgreSQL: real ``kb serve`` processes on 127.0.0.2 and 127.0.0.3.

Each host has only its settings, an empty data folder of its own and no content folder. A note posted to one host is
found first on the other; an index run started as a third process publishes a generation that
both serve; one host killed with SIGKILL leaves the other answering, and a replacement needs
nothing but the settings; twenty notes posted to both hosts during a full re-index are all kept
and found on both.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from kb.storage.postgres import RUN_LOCK
from tests.conftest import ROOT, create_database, drop_database, write_world
from tests.test_concurrency import request
from tests.test_crash import vocabulary, write_corpus

pytestmark = pytest.mark.slow

WRITERS = 20


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class Host:
    """One ``kb serve`` (gunicorn, one worker) on its own loopback address."""

    def __init__(self, address: str, environ: dict, folder: Path) -> None:
        self.address = address
        self.port = free_port(address)
        self.url = f"http://{address}:{self.port}"
        folder.mkdir(parents=True, exist_ok=True)
        self.log = open(folder / "serve.log", "wb")  # noqa: SIM115 - closed in stop()
        # a data folder of its own, empty, and no content folder at all: the database is everything
        env = {**environ, "KB_HOST": address, "KB_PORT": str(self.port), "KB_WORKERS": "1", "KB_THREADS": "8",
               "KB_DATA_DIR": str(folder / "var"), "KB_CONTENT_DIR": str(folder / "no-content-here")}
        self.process = subprocess.Popen([sys.executable, "-m", "indexer.cli", "serve"], cwd=ROOT, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                if request(self.url + "/api/health")[0] == 200:
                    return
            except OSError:
                pass
            assert self.process.poll() is None, (folder / "serve.log").read_text()
            assert time.monotonic() < deadline, f"{self.url} did not start"
            time.sleep(0.2)

    def search(self, query: str) -> list[str]:
        status, body = request(f"{self.url}/api/search?q={urllib.parse.quote(query)}")
        assert status == 200, body
        return [result["id"] for result in body["results"]]

    def generation(self) -> int:
        return request(self.url + "/api/health")[1]["index_generation"]

    def kill(self) -> None:
        """SIGKILL to the whole process group: the gunicorn master and its worker."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        self.log.close()


def note(number: int, words: str) -> dict:
    return {"title": f"Notitie van twee hosts {number}", "date": "2026-12-01", "speakers": f"Collega {number}",
            "language": "nl", "format": "workshop", "body": f"Wat we leerden: {words}."}


@contextmanager
def hosts(environ: dict, root: Path, *addresses: str):
    started: list[Host] = []
    try:
        for number, address in enumerate(addresses):
            started.append(Host(address, environ, root / f"host-{number}"))
        yield started
    finally:
        for host in started:
            host.stop()


def index(environ: dict, *options: str) -> subprocess.Popen:
    """``kb index`` as a process of its own (the indexer host)."""
    return subprocess.Popen([sys.executable, "-m", "indexer.cli", "index", "--json", *options], cwd=ROOT,
                            env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_two_hosts_share_one_database(tmp_path, postgres_server):
    database = create_database(postgres_server)
    content = write_world(tmp_path / "content")
    environ = {**os.environ, "KB_DATABASE_URL": database, "KB_MODEL": "hashing", "KB_CONTENT_DIR": str(content),
               "KB_DATA_DIR": str(tmp_path / "indexer-var"), "KB_SECRET_KEY": "s" * 40}
    first_run = index(environ)
    assert first_run.wait(timeout=120) == 0, first_run.stderr.read().decode()
    try:
        with hosts(environ, tmp_path, "127.0.0.2", "127.0.0.3") as (one, two):
            status, posted = request(one.url + "/api/notes", note(0, "de kwartelkoning roept om middernacht"))
            assert status == 201, posted
            assert two.search("kwartelkoning middernacht")[0] == posted["id"]  # at once, on the other host

            before = two.generation()
            (content / "articles" / "grutto.md").write_text(
                "---\ntitle: De grutto in het veenweidegebied\nauthor: Noor Hendriks\n---\n\nDe grutto broedt laat.")
            third = index(environ)
            assert third.wait(timeout=120) == 0, third.stderr.read().decode()
            assert one.generation() == two.generation() == before + 1
            for host in (one, two):
                assert host.search("grutto veenweidegebied")[0] == "articles/grutto"

            one.kill()
            assert two.search("kwartelkoning")[0] == posted["id"]  # the other host goes on
            assert request(two.url + "/api/health")[1]["status"] == "ok"

        write_corpus(content, "A", vocabulary())  # enough documents for the full run to take a while
        assert index(environ).wait(timeout=300) == 0
        with hosts(environ, tmp_path / "again", "127.0.0.2", "127.0.0.3") as both:
            run = index(environ, "--full")
            with psycopg.connect(database, autocommit=True) as conn:  # the run holds its lock: it is working
                deadline = time.monotonic() + 60
                while not conn.execute("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = %s"
                                       " AND granted", (RUN_LOCK,)).fetchone():
                    assert run.poll() is None and time.monotonic() < deadline, "the index run did not start"
                    time.sleep(0.005)
            racing: list[bool] = []
            start = threading.Barrier(WRITERS, action=lambda: racing.append(run.poll() is None))
            posted_notes: dict[int, tuple[int, dict]] = {}

            def write(number: int) -> None:
                start.wait()
                host = both[number % 2]
                posted_notes[number] = request(host.url + "/api/notes", note(number, f"merkwoord tweehost{number}"))

            writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
            for thread in writers:
                thread.start()
            for thread in writers:
                thread.join(timeout=300)
            out, err = run.communicate(timeout=300)
            assert run.returncode == 0, err.decode()
            assert racing == [True], "the index run finished before the notes were posted"
            assert json.loads(out)["removed"] == 0
            assert {status for status, _ in posted_notes.values()} == {201}, posted_notes
            ids = {number: body["id"] for number, (_, body) in posted_notes.items()}
            assert len(set(ids.values())) == WRITERS
            for number, doc_id in ids.items():
                for host in both:
                    assert host.search(f"tweehost{number}")[0] == doc_id, (number, host.url)
            health = request(both[0].url + "/api/health")[1]
            assert health["documents"] == 4 + 1 + 1 + 40 + WRITERS  # world, first note, grutto, corpus, notes
    finally:
        drop_database(database)
