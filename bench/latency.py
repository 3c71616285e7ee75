"""Query latency in-process: ``KnowledgeBase.search`` over the judged queries, split into phases.

On the demo index with the real model: first-time queries (the model embeds each one) and
repeated queries (served from the query cache; the model's calls are counted to prove it).
Then the index-size sweep on synthetic indexes (``bench.synthetic``): random unit vectors and
synthetic FTS5 rows, where the query's embedding is left out of the figures.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from bench import synthetic
from bench.plan import Plan
from bench.report import Results, percentile
from kb import ANYONE, NO_FLOOR, Floor, KnowledgeBase, Reader, load_settings

SECTION = "Query latency (in-process)"
SWEEP = "Query latency vs index size (synthetic vectors)"
ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "tests" / "eval" / "queries.jsonl"
PHASES = ("embed", "vector", "keyword", "fusion", "rest")


def judged_queries() -> list[str]:
    return [json.loads(line)["text"] for line in QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()]


class CountingEmbedder:
    """The real embedder, counting the queries it is asked to embed."""

    def __init__(self, embedder) -> None:
        self.inner = embedder
        self.name = embedder.name
        self.dim = embedder.dim
        self.queries = 0

    def embed_queries(self, texts):
        self.queries += len(texts)
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts):
        return self.inner.embed_passages(texts)


def one_pass(kb: KnowledgeBase, queries: list[str], floor: Floor | None = None,
             reader: Reader = ANYONE) -> dict[str, list[float]]:
    """Every query once: per query the phases (Page.timings), the wall time around
    ``KnowledgeBase.search``, and everything but the embedding; ``floor`` replaces the model's."""
    rows: dict[str, list[float]] = {name: [] for name in (*PHASES, "total", "without embedding")}
    for query in queries:
        started = time.perf_counter()
        page = kb.search(query, floor=floor, reader=reader)
        total = (time.perf_counter() - started) * 1000
        for name in PHASES:
            rows[name].append(page.timings.get(name, 0.0))
        rows["total"].append(total)
        rows["without embedding"].append(total - page.timings.get("embed", 0.0))
    return rows


def passes(make_kb, queries: list[str], runs: int, fresh: bool, floor: Floor | None = None,
           reader: Reader = ANYONE) -> tuple[list[dict[str, list[float]]], KnowledgeBase]:
    """``runs`` passes over the queries; with ``fresh`` each on a new query cache (first-time
    queries), else all on one cache that an unmeasured first pass filled (repeated queries)."""
    kb = make_kb()
    kb.load()  # loading the model and index is not a query's cost
    one_pass(kb, queries if not fresh else queries[:5], floor, reader)  # warm code paths (and the cache)
    out = []
    for _ in range(runs):
        if fresh:
            kb = make_kb()
            kb.load()
        out.append(one_pass(kb, queries, floor, reader))
    return out, kb


def add_percentiles(results: Results, section: str, label: str, runs: list[dict[str, list[float]]],
                    rows: tuple[tuple[str, tuple[int, ...]], ...], note: str = "") -> None:
    for name, qs in rows:
        for q in qs:
            results.add(section, f"{label}: {name} p{q}", "ms", [percentile(r[name], q) for r in runs], note)


def median_of(runs: list[dict[str, list[float]]], name: str, q: int) -> float:
    values = sorted(percentile(r[name], q) for r in runs)
    return values[len(values) // 2]


def run(results: Results, plan: Plan, embedder) -> None:
    queries = judged_queries()
    settings = load_settings(overrides={"model": plan.model, "data_dir": plan.demo, "content_dir": plan.content})
    counting = CountingEmbedder(embedder)

    def make_kb() -> KnowledgeBase:
        return KnowledgeBase(settings, embedder=counting)

    label = f"demo, {len(queries)} judged queries, first time"
    first, _ = passes(make_kb, queries, plan.runs, fresh=True)
    add_percentiles(results, SECTION, label, first, (
        ("total", (50, 95, 99)), ("embed", (50, 95, 99)), ("vector", (50, 95)), ("keyword", (50, 95)),
        ("fusion", (50, 95)), ("rest", (50, 95)), ("without embedding", (50, 95, 99))))
    before = counting.queries
    repeated, _ = passes(make_kb, queries, plan.runs, fresh=False)
    embedded_again = counting.queries - before - len(queries)  # the unmeasured filling pass is a first time
    label = f"demo, {len(queries)} judged queries, repeated"
    add_percentiles(results, SECTION, label, repeated, (("total", (50, 95, 99)), ("embed", (50, 99)),
                                                          ("without embedding", (50, 95, 99))),
                    "query cache: no query embedded again" if embedded_again == 0
                    else f"{embedded_again} queries embedded again")
    health = make_kb().health()
    documents, chunks = health["documents"], health["chunks"]
    results.note(SECTION, (
        f"The demo index: {documents} documents, {chunks} chunks, model `{plan.model}`, index built by the "
        f"indexing section (or `kb index` into the work folder). Each pass runs the {len(queries)} judged "
        "queries of tests/eval once, as `KnowledgeBase.search(query)`; first-time passes start from an empty "
        "query cache each time, repeated passes reuse one (the model's embed_queries calls are counted). "
        "Phases come from `Page.timings`; `total` is the wall time around `KnowledgeBase.search`; "
        "`without embedding` is total minus the query embedding."))
    total = median_of(first, "total", 50)
    results.target(f"total p50 ≤ 25 ms with the default model (demo, first-time queries, {plan.model})", total, "ms",
                   total <= 25, f"query embedding p50 {median_of(first, 'embed', 50):.1f} ms")
    results.target("repeated queries are not embedded again", embedded_again, "queries", embedded_again == 0)
    sweep(results, plan, embedder.dim, queries)
    audiences(results, plan, embedder.dim, queries)


def sweep(results: Results, plan: Plan, dim: int, queries: list[str]) -> None:
    """Each size on both backends: the embedded store, then the same index in PostgreSQL."""
    for label, documents in plan.sweep:
        data = synthetic.build(plan.work, plan.content, documents, plan.model, dim)
        embedded = load_settings(overrides={"model": plan.model, "data_dir": data, "content_dir": plan.content})
        backends = [("embedded", embedded)]
        if label != "10k chunks":  # the shared backend at the sizes its targets name
            url = synthetic.build_shared(plan.work, plan.content, documents, plan.model, dim)
            backends.append(("PostgreSQL", embedded.replace(database_url=url)))
        for backend, settings in backends:
            measure_size(results, plan, label, documents, backend, settings, dim, queries)
    results.note(SWEEP, (
        f"Synthetic indexes (`bench/synthetic.py`): documents from the synthetic corpus generator (real text, so "
        f"terms and keyword hits are realistic), indexed by the real pipeline, but with random unit vectors of "
        f"the default model's dimension ({dim}) instead of the model's, clustered as in the scale section "
        "(`ClusteredEmbedder`); query vectors are drawn the same way, and the "
        "query embedding is left out. No relevance floor applies: it is calibrated for the model's vectors, and "
        "under it most synthetic queries would find nothing and cost less than real ones. The 5k-document index "
        "holds the same documents as the synthetic corpus of the indexing section. The vector index is "
        "exact or HNSW as the indexer chooses at that size "
        "(KB_ANN_MIN_CHUNKS). Figures per pass over the judged queries, with a warm query cache. PostgreSQL: the "
        "same documents and vectors in a database of a local PostgreSQL 18 with pgvector 0.8 (`bench/postgres.py`, "
        "over a Unix socket), the vector search in the engine. Recall@10: the share of the exact 10 nearest "
        "passages that the vector search returns, for 200 new query vectors drawn like the passages."))


AUDIENCES = "Query latency with restricted documents (synthetic vectors)"


def audiences(results: Results, plan: Plan, dim: int, queries: list[str]) -> None:
    """The 5k-document index as it is, and again with every other document for one team only,
    searched by a reader outside that team: the cost of cutting candidates to what they may see."""
    figures = {}
    for restricted in (False, True):
        data = synthetic.build(plan.work, plan.content, 5000, plan.model, dim, restricted=restricted)
        settings = load_settings(overrides={"model": plan.model, "data_dir": data, "content_dir": plan.content})
        model = synthetic.stand_in(plan.model, dim, 5000)
        runs, kb = passes(lambda settings=settings, model=model: KnowledgeBase(settings, embedder=model), queries,
                          plan.runs, fresh=False, floor=NO_FLOOR)
        kb.shutdown()
        label = "half the documents for one team, reader outside it" if restricted else "every document for everyone"
        add_percentiles(results, AUDIENCES, f"5k documents, {label}", runs, (("without embedding", (50, 95)),))
        figures[restricted] = median_of(runs, "without embedding", 50)
    ratio = figures[True] / figures[False]
    results.target("search p50 with half the documents restricted ≤ 1.2× unrestricted (5k documents, embedded)",
                   ratio, "×", ratio <= 1.2, f"{figures[True]:.2f} vs {figures[False]:.2f} ms")
    results.note(AUDIENCES, "The synthetic 5k-document index of the sweep, built a second time with every other "
                 "document's visibility team:bench; the reader is not signed in, so the candidate searches "
                 "are limited to the 2,500 documents for everyone. No relevance floor, as in the sweep.")


def measure_size(results: Results, plan: Plan, label: str, documents: int, backend: str, settings, dim: int,
                 queries: list[str]) -> None:
    model = synthetic.stand_in(plan.model, dim, documents)

    def make_kb() -> KnowledgeBase:
        return KnowledgeBase(settings, embedder=model)

    # random vectors are not the model's: under its floor most synthetic queries would find nothing
    runs, kb = passes(make_kb, queries, plan.runs, fresh=False, floor=NO_FLOOR)
    health = kb.health()
    docs, chunks = health["documents"], health["chunks"]
    kind = kb.vector_kind()
    name = f"{label} ({docs} docs, {chunks} chunks, {kind}" + (", PostgreSQL)" if backend != "embedded" else ")")
    add_percentiles(results, SWEEP, name, runs, (("without embedding", (50, 95, 99)), ("vector", (50,)),
                                                ("keyword", (50, 95)), ("fusion", (50,)), ("rest", (50,))))
    p50 = median_of(runs, "without embedding", 50)
    shared = backend != "embedded"
    if documents == 5000:
        limit = 10 if shared else 3
        results.target(f"everything but query embedding p50 ≤ {limit} ms at 5k documents ({backend})", p50, "ms",
                       p50 <= limit, f"{chunks} chunks, {kind} index")
    if label.startswith("100k"):
        limit = 25 if shared else 10
        results.target(f"everything but query embedding p50 ≤ {limit} ms at 100k chunks ({backend})", p50, "ms",
                       p50 <= limit, f"{chunks} chunks, {kind} index")
        probes = model.embed_queries([f"probe {n}" for n in range(200)])  # new points, drawn the same way
        recall = kb.vector_recall(probes, 10)
        results.add(SWEEP, f"{name}: HNSW recall@10 against exact search", "", [recall])
        if shared:
            results.target("HNSW recall@10 ≥ 0.95 at 100k passages (PostgreSQL)", recall, "", recall >= 0.95)
    kb.shutdown()
