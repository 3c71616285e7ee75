"""The web app under load, and its memory: ``kb serve`` (gunicorn) started on a free loopback port.

Clients are threads in this process, one keep-alive connection each (``http.client``), asking
``GET /api/search`` for as long as a run lasts. They share the machine's cores with the server,
as a load generator on the same host does.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from bench.machine import cpu_seconds, rss_mib
from bench.plan import Plan
from bench.report import Results, percentile

HTTP = "HTTP (gunicorn, loopback)"
MEMORY = "Memory (resident, per web worker)"
ROOT = Path(__file__).resolve().parent.parent
# Words appended to the judged queries to make queries the server has never seen (no cached embedding).
EXTRA_WORDS = ("planning", "team", "voorbeeld", "vandaag", "risico", "review", "budget", "klant", "meeting", "tips",
               "workshop", "goal", "ervaring", "nieuw", "checklist", "proces", "data", "kwaliteit", "kosten", "advies")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class Server:
    """``kb serve`` for one data folder, stopped on exit; its workers are the master's children."""

    def __init__(self, data: Path, content: Path, model: str, log: Path, host: str = "127.0.0.1",
                 settings: dict[str, str] | None = None) -> None:
        """``settings``: more KB_* variables (a database URL, the number of workers)."""
        self.data, self.content, self.model, self.log = data, content, model, log
        self.host = host
        self.port = free_port(host)
        self.settings = dict(settings or {})
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def __enter__(self) -> Server:
        env = {**os.environ, "KB_HOST": self.host, "KB_PORT": str(self.port), "KB_DATA_DIR": str(self.data),
               "KB_CONTENT_DIR": str(self.content), "KB_MODEL": self.model, **self.settings}
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "indexer.cli", "serve"], env=env, cwd=ROOT,
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"kb serve exited with {self.process.returncode}; see {self.log}")
            try:
                status, _ = self.get("/api/health", timeout=2)
                if status == 200 and len(self.workers()) >= 1:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"kb serve did not answer within 90 s; see {self.log}")

    def __exit__(self, *_exc) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # gunicorn stops its workers gracefully
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def get(self, path: str, timeout: float = 30) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def workers(self) -> list[int]:
        """Process ids of the gunicorn workers."""
        assert self.process is not None
        children: list[int] = []
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            text = (task / "children").read_text().split()
            children.extend(int(pid) for pid in text)
        return children

    def cpu(self) -> float:
        """CPU seconds used so far by the master and its workers."""
        assert self.process is not None
        return sum(cpu_seconds(pid) for pid in [self.process.pid, *self.workers()])

    def wait_for_workers(self, count: int, seconds: float = 60) -> list[int]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            workers = self.workers()
            if len(workers) >= count:
                return workers
            time.sleep(0.2)
        return self.workers()


def search_path(query: str) -> str:
    return "/api/search?" + urllib.parse.urlencode({"q": query})


@dataclass
class Load:
    """What a run of concurrent clients saw."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def load(servers: list[tuple[str, int]], queries, clients: int, seconds: float) -> Load:
    """``clients`` threads, spread over the ``servers`` (host, port) in turn, asking the next query
    of ``queries`` (shared, thread-safe iterator) until ``seconds`` have passed; latency per
    successful answer in ms; errors are any other outcome."""
    lock = threading.Lock()
    result = Load()
    deadline = time.perf_counter() + seconds

    def client(host: str, port: int) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=60)
        mine, errors = [], 0
        while time.perf_counter() < deadline:
            with lock:
                query = next(queries)
            started = time.perf_counter()
            try:
                connection.request("GET", search_path(query))
                response = connection.getresponse()
                body = response.read()
                ok = response.status == 200 and body.startswith(b"{")
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=60)
            if ok:
                mine.append((time.perf_counter() - started) * 1000)
            else:
                errors += 1
        connection.close()
        with lock:
            result.latencies.extend(mine)
            result.errors += errors

    threads = [threading.Thread(target=client, args=servers[n % len(servers)]) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result


def fresh_queries(judged: list[str]):
    """Queries never asked before: each judged query with two extra words, never the same twice."""
    words = len(EXTRA_WORDS)
    for number in itertools.count():
        cycle, position = divmod(number, len(judged))
        extra = f"{EXTRA_WORDS[cycle % words]} {EXTRA_WORDS[(cycle // words) % words]}"
        rounds = cycle // (words * words)
        yield f"{judged[position]} {extra}" + (f" {rounds}" if rounds else "")


def warm(server: Server, judged: list[str], passes: int, clients: int = 8) -> None:
    """Every worker loads model and index; each judged query is asked ``passes`` times (so each
    worker has very likely cached it), and the HTML search page is rendered a few times."""
    for _ in range(passes):
        _drain(server.address, iter(judged), clients)
    for query in judged[:6]:
        server.get("/search?" + urllib.parse.urlencode({"q": query}), timeout=120)


def _drain(address: tuple[str, int], queries, clients: int) -> None:
    """Ask every query of ``queries`` once, ``clients`` at a time."""
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection(*address, timeout=120)
        while True:
            with lock:
                query = next(queries, None)
            if query is None:
                break
            connection.request("GET", search_path(query))
            connection.getresponse().read()
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run_http(results: Results, plan: Plan, judged: list[str]) -> None:
    with Server(plan.demo, plan.content, plan.model, plan.work / "serve-demo.log") as server:
        workers = server.wait_for_workers(1)
        warm(server, judged, passes=4)
        fresh = fresh_queries(judged)
        for kind in ("repeated", "new"):
            for clients in plan.clients:
                loads, cpu = [], []
                for _ in range(plan.runs):
                    queries = itertools.cycle(judged) if kind == "repeated" else fresh
                    before = server.cpu()
                    loads.append(load([server.address], queries, clients, plan.seconds))
                    cpu.append(1000 * (server.cpu() - before) / max(1, len(loads[-1].latencies)))
                label = f"{clients} client{'s' if clients > 1 else ''}, {kind} queries"
                results.add(HTTP, f"{label}: throughput", "queries/s", [r.rate for r in loads])
                results.add(HTTP, f"{label}: server CPU per answer", "ms", cpu, "workers and master, user + system")
                for q in (50, 95, 99):
                    results.add(HTTP, f"{label}: latency p{q}", "ms", [percentile(r.latencies, q) for r in loads])
                results.add(HTTP, f"{label}: errors", "requests", [r.errors for r in loads],
                            f"of {min(len(r.latencies) + r.errors for r in loads)}+ requests per run")
                if clients == max(plan.clients):
                    p95 = sorted(percentile(r.latencies, 95) for r in loads)[len(loads) // 2]
                    errors = sum(r.errors for r in loads)
                    results.target(f"HTTP, {clients} clients, {kind} queries: no errors, p95 ≤ 100 ms", p95, "ms",
                                   errors == 0 and p95 <= 100, f"{errors} errors")
        results.note(HTTP, (
            f"`kb serve` (gunicorn, {len(workers)} workers × KB_THREADS threads, defaults) on 127.0.0.1 with the demo "
            f"index; clients are threads of the benchmark process on the same two cores, one keep-alive connection "
            f"each, for {plan.seconds:.0f} s per run, asking `GET /api/search?q=`. Repeated queries: the "
            f"{len(judged)} judged queries in turn, after four warm-up passes so each worker has (very likely) "
            "cached their embeddings. New queries: a judged query plus two extra words, never asked before, so "
            "the model embeds every one (what most real traffic looks like)."))


def run_first_search(results: Results, plan: Plan, judged: list[str], restarts: int = 3) -> None:
    """A fresh ``kb serve`` per round: the first new query once health answers, against the p50 of
    twenty new queries after it, one at a time."""
    firsts, steady = [], []
    fresh = fresh_queries(judged)
    for number in range(restarts):
        log = plan.work / f"serve-first-{number}.log"
        with Server(plan.demo, plan.content, plan.model, log, settings={"KB_WORKERS": "1"}) as server:
            times = []
            for query in itertools.islice(fresh, 21):
                started = time.perf_counter()
                status, _ = server.get(search_path(query), timeout=120)
                times.append((time.perf_counter() - started) * 1000)
                assert status == 200, status
            firsts.append(times[0])
            steady.append(percentile(times[1:], 50))
    results.add(HTTP, "first new query after /api/health answers", "ms", firsts, f"{restarts} fresh starts, 1 worker")
    results.add(HTTP, "new queries after it, one at a time: p50", "ms", steady)
    ratio = sorted(firsts)[len(firsts) // 2] / sorted(steady)[len(steady) // 2]
    results.target("first search after ready ≤ 1.5× steady new-query p50", ratio, "×", ratio <= 1.5,
                   f"{sorted(firsts)[len(firsts) // 2]:.0f} vs {sorted(steady)[len(steady) // 2]:.0f} ms")


def run_slow_clients(results: Results, plan: Plan, judged: list[str], trickles: int = 20) -> None:
    """``trickles`` connections send a request head or a body a byte every half second; meanwhile
    ``/api/health`` and new searches, one at a time."""
    stop = threading.Event()
    opened: list[socket.socket] = []
    with Server(plan.demo, plan.content, plan.model, plan.work / "serve-slow.log") as server:
        def trickle(number: int) -> None:
            connection = socket.create_connection(server.address, timeout=60)
            opened.append(connection)
            if number % 2:
                connection.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
                rest = b"X-Slow: " + b"a" * 200 + b"\r\n\r\n"
            else:
                connection.sendall(b"POST /api/notes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                   b"Content-Length: 400\r\n\r\n")
                rest = b"{" * 400
            for position in range(len(rest)):
                if stop.wait(0.5):
                    return
                connection.sendall(rest[position:position + 1])

        threads = [threading.Thread(target=trickle, args=(n,), daemon=True) for n in range(trickles)]
        for thread in threads:
            thread.start()
        time.sleep(2)
        health, searches = [], []
        fresh = fresh_queries(judged)
        try:
            for query in itertools.islice(fresh, 10):
                for path, times in (("/api/health", health), (search_path(query), searches)):
                    started = time.perf_counter()
                    try:
                        server.get(path, timeout=10)
                        times.append((time.perf_counter() - started) * 1000)
                    except OSError:
                        times.append(10_000.0)  # no answer within 10 s
        finally:
            stop.set()
            for connection in opened:
                connection.close()
    results.add(HTTP, f"/api/health while {trickles} clients trickle requests", "ms", health, "10 s: no answer")
    results.add(HTTP, f"new search while {trickles} clients trickle requests", "ms", searches, "10 s: no answer")
    worst = max(max(health), max(searches))
    results.target(f"health and new searches answer within 1 s while {trickles} clients trickle", worst, "ms",
                   worst <= 1000)


def run_http_shared(results: Results, plan: Plan, judged: list[str], database_url: str) -> None:
    """The same load spread over two hosts (127.0.0.2 and 127.0.0.3, one worker each: as many as the
    one host above) that share the demo index in PostgreSQL."""
    settings = {"KB_DATABASE_URL": database_url, "KB_WORKERS": "1"}
    hosts = [Server(plan.work / f"host-{n}", plan.content, plan.model, plan.work / f"serve-host-{n}.log",
                    f"127.0.0.{n}", settings) for n in (2, 3)]
    with hosts[0], hosts[1]:
        for host in hosts:
            warm(host, judged, passes=4)
        fresh = fresh_queries(judged)
        clients = max(plan.clients)
        for kind in ("repeated", "new"):
            queries = itertools.cycle(judged) if kind == "repeated" else fresh
            loads = [load([host.address for host in hosts], queries, clients, plan.seconds) for _ in range(plan.runs)]
            label = f"{clients} clients over two hosts, {kind} queries (PostgreSQL)"
            results.add(HTTP, f"{label}: throughput", "queries/s", [r.rate for r in loads])
            for q in (50, 95, 99):
                results.add(HTTP, f"{label}: latency p{q}", "ms", [percentile(r.latencies, q) for r in loads])
            results.add(HTTP, f"{label}: errors", "requests", [r.errors for r in loads])
            p95 = sorted(percentile(r.latencies, 95) for r in loads)[len(loads) // 2]
            errors = sum(r.errors for r in loads)
            results.target(f"HTTP, {clients} clients over two hosts, {kind} queries (PostgreSQL): no errors, "
                           "p95 ≤ 100 ms", p95, "ms", errors == 0 and p95 <= 100, f"{errors} errors")
    results.note(HTTP, (
        "Two hosts: two `kb serve` (one gunicorn worker each) on 127.0.0.2 and 127.0.0.3, both on the demo index "
        "in one PostgreSQL database (`bench/postgres.py`), the clients alternating between them; the same two "
        "cores serve both hosts, the database and the clients."))


def worker_memory(server: Server, judged: list[str]) -> list[float]:
    """RSS of each worker after a few searches (API and HTML page, which loads related learning)."""
    workers = server.wait_for_workers(1)
    warm(server, judged[:20], passes=2)
    return [rss_mib(pid) for pid in workers]


def run_memory(results: Results, plan: Plan, judged: list[str], large: Path | None, large_label: str) -> None:
    targets = [("demo index", plan.demo)] + ([(large_label, large)] if large else [])
    for label, data in targets:
        with Server(data, plan.content, plan.model, plan.work / f"serve-{data.name}.log") as server:
            rss = worker_memory(server, judged)
            health = json.loads(server.get("/api/health")[1])
            master = rss_mib(server.process.pid)
        results.add(MEMORY, f"{label} ({health['documents']} docs, {health['chunks']} chunks): worker RSS", "MiB", rss,
                    f"{len(rss)} workers of one server; gunicorn master {master:.0f} MiB")
    results.note(MEMORY, (
        "Resident set size (VmRSS) of each gunicorn worker after a few searches through the API and the HTML "
        "search page (which also loads related learning), with the default model loaded. Each worker is a "
        "separate process holding its own model, vector index and caches."))
