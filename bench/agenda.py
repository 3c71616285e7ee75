"""The learning agenda's costs: a search with the log on against off, and the agenda over a large log.

The search figures are ``KnowledgeBase.search`` and then, with the log on, ``record_search``, as
the search page does; passes alternate between a knowledge base with the log on and one with it
off, on copies of the demo index, so that both see the same machine. The agenda runs over a copy
of the demo index holding 100,000 logged searches of 30 days: 5,000 distinct questions around 250
topics (vectors near a topic's own direction, of the model's dimension), asked as often as a Zipf
law says, 40% of them missing.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import time
from pathlib import Path

import numpy as np

from bench.latency import judged_queries, median_of
from bench.plan import Plan
from bench.report import Results, percentile
from kb import KnowledgeBase, LoggedSearch, load_settings

SECTION = "Learning agenda"
ROUNDS = 12  # alternating passes per setting: a cached search takes ~2 ms, so the machine's noise is large
LOGGED = 100_000
DISTINCT = 5_000
TOPICS = 250


def copy_of(plan: Plan, name: str) -> Path:
    """A fresh copy of the demo index's data folder (the logs written here stay out of it)."""
    target = plan.work / name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(plan.demo, target, ignore=shutil.ignore_patterns("postgres", "eval", "*.lock"))
    return target


def one_pass(kb: KnowledgeBase, queries: list[str], logged: bool) -> dict[str, list[float]]:
    """Every query once, as the search page asks: the search, and with the log on its entry."""
    totals = []
    for query in queries:
        started = time.perf_counter()
        page = kb.search(query)
        if logged:
            kb.record_search(page)
        totals.append((time.perf_counter() - started) * 1000)
    return {"total": totals}


def run(results: Results, plan: Plan, embedder) -> None:
    queries = judged_queries()
    bases = {}
    for log in ("off", "on"):
        data = copy_of(plan, f"agenda-log-{log}")
        settings = load_settings(overrides={"model": plan.model, "data_dir": data, "content_dir": plan.content,
                                            "search_log": log})
        kb = KnowledgeBase(settings, embedder=embedder)
        kb.load()
        one_pass(kb, queries, logged=log == "on")  # the query cache filled, code paths warm
        bases[log] = kb
    runs: dict[str, list[dict[str, list[float]]]] = {"off": [], "on": []}
    for number in range(ROUNDS):
        for log in ("off", "on") if number % 2 == 0 else ("on", "off"):  # neither always goes first
            runs[log].append(one_pass(bases[log], queries, logged=log == "on"))
    pages = [bases["on"].search(query) for query in queries]
    started = time.perf_counter()
    for page in pages:
        bases["on"].record_search(page)
    record = (time.perf_counter() - started) * 1000 / len(pages)
    bases["on"].flush_search_log()
    logged = len(bases["on"].logged_searches(1))
    for kb in bases.values():
        kb.shutdown()
    for log in ("off", "on"):
        for q in (50, 95):
            results.add(SECTION, f"demo, {len(queries)} judged queries, repeated, log {log}: total p{q}", "ms",
                        [percentile(r["total"], q) for r in runs[log]])
    results.add(SECTION, "record_search, per search (what the log adds to the request)", "ms", [record])
    on, off = median_of(runs["on"], "total", 50), median_of(runs["off"], "total", 50)
    ratio = on / off
    results.target("search p50 with the search log on ≤ 1.05× off (demo, repeated queries)", ratio, "×",
                   ratio <= 1.05, f"{on:.2f} vs {off:.2f} ms; {logged} searches logged")
    agenda_at_scale(results, plan, embedder)
    results.note(SECTION, __doc__.split("\n\n", 1)[1].replace("\n", " "))


def agenda_at_scale(results: Results, plan: Plan, embedder) -> None:
    data = copy_of(plan, "agenda-100k")
    settings = load_settings(overrides={"model": plan.model, "data_dir": data, "content_dir": plan.content})
    kb = KnowledgeBase(settings, embedder=embedder)
    kb.load()
    write_log(kb, embedder.dim)
    timings = []
    answer = {}
    for _ in range(max(5, plan.runs)):
        started = time.perf_counter()
        answer = kb.agenda(30, fresh=True)
        timings.append((time.perf_counter() - started) * 1000)
    kb.shutdown()
    best = sorted(timings)[len(timings) // 2]
    results.add(SECTION, f"agenda of 30 days over {LOGGED:,} logged searches ({DISTINCT:,} distinct)", "ms", timings,
                f"{len(answer['gaps'])} gaps shown of {answer['searches']:,} searches")
    results.target(f"/agenda < 500 ms with {LOGGED:,} logged searches", best, "ms", best < 500)


def write_log(kb: KnowledgeBase, dim: int) -> None:
    """``LOGGED`` searches over the last 30 days, with their vectors, as the search log stores them."""
    rng = np.random.default_rng(20261202)
    picker = random.Random(20261202)
    topics = rng.normal(size=(TOPICS, dim))
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    vectors = topics[np.arange(DISTINCT) % TOPICS] + rng.normal(scale=0.75 / np.sqrt(dim), size=(DISTINCT, dim))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    words = ["team", "werk", "planning", "review", "data", "klant", "release", "training", "proces", "tool"]
    texts = [f"{words[n % 10]} {words[(n // 10) % 10]} vraag {n}" for n in range(DISTINCT)]
    zipf = 1.0 / np.arange(1, DISTINCT + 1) ** 0.9
    asked = rng.choice(DISTINCT, size=LOGGED, p=zipf / zipf.sum())
    now = dt.datetime.now(dt.UTC)
    batch: list[LoggedSearch] = []
    opened: list[tuple[str, str]] = []
    stored = set()
    for number, query in enumerate(asked):
        at = (now - dt.timedelta(seconds=picker.uniform(0, 30 * 86400))).replace(microsecond=0).isoformat()
        miss = picker.random() < 0.4
        vector = None if query in stored else vectors[query]
        stored.add(query)
        batch.append(LoggedSearch(f"{number:032x}", at, texts[query], "nl", 0 if miss else 3,
                                  None if miss else 0.8, vector))
        if not miss:
            opened.append((f"{number:032x}", "articles/opened"))
        if len(batch) == 5000:
            kb._storage.log_searches(batch, opened, kb.settings.model)
            batch, opened = [], []
    kb._storage.log_searches(batch, opened, kb.settings.model)
