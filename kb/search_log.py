"""The search log: what colleagues look for, never who looks.

Each search is kept as its normalised query, when it was asked, its language, how many results
reached the relevance floor and the best score; later, which result was opened. No name, no
address, no session. Entries wait in memory and one thread writes them in batches, so a search
never waits for the log, and a log that cannot be written drops its entries with a warning
instead of failing a search. The nightly run prunes what is older than ``KB_SEARCH_LOG_DAYS``.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger("kb.search_log")

BATCH = 500  # entries written at once
INTERVAL = 2.0  # seconds the writer waits for more before it writes what it has
CAPACITY = 20_000  # entries held in memory; beyond, new ones are dropped (with a warning)


@dataclass(frozen=True)
class LoggedSearch:
    id: str
    at: str  # ISO time, UTC, to the second
    query: str
    lang: str
    results: int  # documents above the relevance floor
    best: float | None  # the best result's score (None: nothing found)
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)  # the query's meaning, if known


def normalise_query(query: str) -> str:
    """The query as it is logged and grouped: case folded, whitespace collapsed."""
    return " ".join(query.casefold().split())


def entry(query: str, lang: str, results: int, best: float | None, now: dt.datetime | None = None,
          vector: np.ndarray | None = None) -> LoggedSearch:
    """A new log entry for a search just answered; ``vector`` is the query's embedding, which the
    search already computed (the agenda groups by it without running the model again)."""
    when = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    return LoggedSearch(uuid.uuid4().hex, when.isoformat(), normalise_query(query), lang, results, best, vector)


class SearchLog:
    """Searches and opened results, queued and written in batches by one background thread."""

    def __init__(self, write: Callable[[list[LoggedSearch], list[tuple[str, str]]], None],
                 batch: int = BATCH, interval: float = INTERVAL, capacity: int = CAPACITY) -> None:
        """``write(searches, opened)`` stores a batch: new searches, and (search id, document id)
        pairs of results opened."""
        self._write = write
        self._queue: queue.Queue = queue.Queue(maxsize=capacity)
        self._batch = batch
        self._interval = interval
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self._idle = threading.Condition()
        self._pending = 0

    def record(self, search: LoggedSearch) -> None:
        """Queue a search; never blocks, never raises."""
        self._put(("search", search))

    def opened(self, search_id: str, doc_id: str) -> None:
        """Queue that a result of a logged search was opened."""
        self._put(("opened", (search_id, doc_id)))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is written (tests, shutdown); False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _put(self, item: tuple) -> None:
        self._ensure_thread()
        with self._idle:
            self._pending += 1
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._done(1)
            log.warning("search log: %d entries waiting, one dropped", self._queue.qsize())

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._start:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="search-log", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            items = [self._queue.get()]
            while len(items) < self._batch:
                try:
                    items.append(self._queue.get(timeout=self._interval if len(items) < 2 else 0.05))
                except queue.Empty:
                    break
            searches = [value for kind, value in items if kind == "search"]
            opened = [value for kind, value in items if kind == "opened"]
            try:
                self._write(searches, opened)
            except Exception as exc:  # noqa: BLE001 - a log that cannot be written never fails a search
                log.warning("search log: %d entries dropped: %s: %s", len(items), exc.__class__.__name__, exc)
            self._done(len(items))

    def _done(self, count: int) -> None:
        with self._idle:
            self._pending -= count
            self._idle.notify_all()
