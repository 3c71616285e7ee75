"""``make load``: a bounded load run against a server this command starts, on loopback only.

    python -m bench.load                  # 3 minutes, 8 clients, a note every 5 s
    python -m bench.load --seconds 120 --clients 8 --note-every 5

The server is ``kb serve`` (gunicorn, KB_WORKERS × KB_THREADS) on a free port of 127.0.0.1. It
serves TEMPORARY COPIES, never the originals: the content folder (KB_CONTENT_DIR, the notes the
run posts land in the copy) and the live index of the data folder (KB_DATA_DIR: the SQLite
store, copied with SQLite's backup API, and its current vector index generation), with the model
that index was built with. Without an index there, the copy is indexed first with KB_MODEL.

Client threads mix searches (the Dutch and English judged queries of tests/eval, through the API
and the HTML page), documents (API and page) and related learning; one more thread posts a note
every few seconds and checks it is the first result for its own phrase at once. The run reports
requests, errors by status (a 5xx fails the run), latency p50/p95/p99 per endpoint, and the
resident memory of the gunicorn master and each worker at the start, middle and end. It prints a
table and writes bench/results/load.md and bench/results/load.json.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from pathlib import Path

from bench.load_report import Finished, summarise, table
from bench.machine import rss_mib
from bench.server import Server
from kb import KnowledgeBase, doc_id_for, is_valid_id, load_settings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
MIX = {"search (API)": 45, "search page": 10, "document (API)": 20, "document page": 10, "related (API)": 15}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180, help="length of the measured run (default 180)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads (default 8)")
    parser.add_argument("--note-every", type=float, default=5, help="seconds between posted notes (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copies and the server log")
    return parser.parse_args(argv)


# the copies the server runs on -------------------------------------------------------------------

def prepare(work: Path) -> tuple[Path, Path, str]:
    """(content copy, data copy, model): the live index copied, or the content indexed afresh."""
    settings = load_settings()
    content, data = work / "content", work / "var"
    shutil.copytree(settings.content_dir, content, ignore=shutil.ignore_patterns(".*"))
    live = KnowledgeBase(settings)
    try:
        copied = live.copy_to(data)  # a consistent copy even while a run writes
    finally:
        live.close()
    if copied:
        copy = KnowledgeBase(settings.replace(data_dir=data, content_dir=content))
        try:
            return content, data, copy.health()["model"]
        finally:
            copy.close()
    print(f"no index in {settings.data_dir}; indexing the copy with {settings.model} first", file=sys.stderr)
    env = {"KB_CONTENT_DIR": str(content), "KB_DATA_DIR": str(data), "KB_MODEL": settings.model}
    subprocess.run([sys.executable, "-m", "indexer.cli", "index"], env={**os.environ, **env}, check=False)
    return content, data, settings.model


def queries() -> list[str]:
    lines = (ROOT / "tests" / "eval" / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines if line.strip()]


def document_ids(content: Path) -> list[str]:
    ids = [doc_id_for(path.relative_to(content).as_posix()) for path in content.rglob("*") if path.is_file()]
    return sorted(doc_id for doc_id in ids if is_valid_id(doc_id))


# the load ------------------------------------------------------------------------------------------

class Tally:
    """Latencies and statuses per endpoint, shared by the client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, Counter] = defaultdict(Counter)
        self.problems: list[str] = []

    def record(self, endpoint: str, status: int | str, milliseconds: float) -> None:
        with self.lock:
            self.status[endpoint][status] += 1
            if status == 200 or status == 201:
                self.latency[endpoint].append(milliseconds)


class Client:
    """One keep-alive connection. A connection the server closed while it sat idle (gunicorn's
    keep-alive timeout) is reopened and the request sent again, as browsers do; any other
    failure counts as a dropped connection."""

    def __init__(self, port: int, tally: Tally) -> None:
        self.port, self.tally = port, tally
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.last_used: float | None = None

    def call(self, endpoint: str, method: str, path: str, body: dict | None = None) -> tuple[int | str, bytes]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data else {}
        started = time.perf_counter()
        idle = self.last_used is not None and started - self.last_used > 1.0
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                status, payload = response.status, response.read()
                break
            except (OSError, http.client.HTTPException) as error:
                status, payload = f"connection error ({type(error).__name__})", b""
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if not (idle and attempt == 1 and isinstance(error, BrokenPipeError | ConnectionResetError
                                                              | http.client.RemoteDisconnected)):
                    break
        self.last_used = time.perf_counter()
        self.tally.record(endpoint, status, (self.last_used - started) * 1000)
        return status, payload


def browse(client: Client, rng: random.Random, texts: list[str], ids: list[str]) -> None:
    """One request of the mix."""
    endpoint = rng.choices(list(MIX), weights=list(MIX.values()))[0]
    query = urllib.parse.urlencode({"q": rng.choice(texts)})
    doc_id = urllib.parse.quote(rng.choice(ids))
    path = {
        "search (API)": f"/api/search?{query}",
        "search page": f"/search?{query}",
        "document (API)": f"/api/documents/{doc_id}",
        "document page": f"/doc/{doc_id}",
        "related (API)": f"/api/documents/{doc_id}/related",
    }[endpoint]
    client.call(endpoint, "GET", path)


def post_notes(client: Client, every: float, until: float, ids: list[str], tally: Tally) -> None:
    """A note every ``every`` seconds; each must be the first result for its phrase at once."""
    number = 0
    while time.perf_counter() < until:
        number += 1
        phrase = f"laadtestnotitie{number}x{random.randrange(10**6)}"
        note = {"title": f"Load run note {number}", "date": "2026-06-01", "speakers": "Load Runner",
                "tags": "load-test", "language": "en", "format": "other",
                "body": f"Written during the load run; its phrase is {phrase}."}
        status, payload = client.call("note (POST)", "POST", "/api/notes", note)
        if status == 201:
            doc_id = json.loads(payload)["id"]
            ids.append(doc_id)  # list.append is atomic: readers may open it from now on
            status, payload = client.call("search (API)", "GET", "/api/search?" + urllib.parse.urlencode({"q": phrase}))
            results = json.loads(payload)["results"] if status == 200 else []
            if not results or results[0]["id"] != doc_id:
                with tally.lock:
                    tally.problems.append(f"note {doc_id} was not the first result for its phrase")
        time.sleep(max(0.0, every - 0.05))


def warm_up(server: Server, texts: list[str], ids: list[str], clients: int, passes: int = 6) -> dict[str, float]:
    """Concurrent passes over every query and some documents until no worker's memory grows by more
    than 3% in a pass: each has loaded the model, the index and related learning. Returns the memory."""
    paths = ([f"/api/search?{urllib.parse.urlencode({'q': text})}" for text in texts]
             + [f"/doc/{urllib.parse.quote(doc_id)}" for doc_id in ids[:20]])
    before = memory(server)
    for _ in range(passes):
        drain(server.port, paths, clients)
        after = memory(server)
        if all(name in before and after[name] <= before[name] * 1.03 for name in after):
            return after
        before = after
    return before


def drain(port: int, paths: list[str], clients: int) -> None:
    """Ask for every path once, ``clients`` at a time."""
    work, lock = iter(paths), threading.Lock()

    def client() -> None:
        connection = Client(port, Tally())
        while True:
            with lock:
                path = next(work, None)
            if path is None:
                return
            connection.call("warm-up", "GET", path)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def memory(server: Server) -> dict[str, float]:
    """Resident MiB of the master and each worker, now."""
    sample = {"master": rss_mib(server.process.pid)}
    for pid in server.workers():
        with contextlib.suppress(OSError):  # a worker that gunicorn just replaced
            sample[f"worker {pid}"] = rss_mib(pid)
    return sample


def run(args: argparse.Namespace, work: Path) -> dict:
    content, data, model = prepare(work)
    texts, ids = queries(), document_ids(content)
    tally = Tally()
    with Server(data, content, model, work / "serve.log") as server:
        workers = server.wait_for_workers(2)
        samples = [(0.0, warm_up(server, texts, ids, args.clients))]
        started = time.perf_counter()
        until = started + args.seconds

        def client_loop(seed: int) -> None:
            client, rng = Client(server.port, tally), random.Random(seed)
            while time.perf_counter() < until:
                browse(client, rng, texts, ids)

        threads = [threading.Thread(target=client_loop, args=(seed,)) for seed in range(args.clients)]
        threads.append(threading.Thread(target=post_notes,
                                        args=(Client(server.port, tally), args.note_every, until, ids, tally)))
        for thread in threads:
            thread.start()
        step = args.seconds / 10
        while time.perf_counter() < until:
            time.sleep(min(step, max(0.0, until - time.perf_counter())))
            samples.append((time.perf_counter() - started, memory(server)))
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        health = json.loads(server.get("/api/health")[1])
    return summarise(Finished(args, model, health["documents"], len(workers), list(MIX) + ["note (POST)"],
                              tally.status, tally.latency, tally.problems, samples, elapsed))


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    work = Path(tempfile.mkdtemp(prefix="kb-load-"))
    try:
        summary = run(args, work)
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    text = table(summary)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load.md").write_text(text, encoding="utf-8")
    (RESULTS / "load.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return 1 if summary["server_errors"] or summary["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
