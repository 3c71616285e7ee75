"""Exhaustive against approximate (HNSW) vector search at 100k and 1M chunks.

Each (size, dimension, kind) runs in its own process (``python -m bench.scale N DIM KIND``), so
its memory figure is the resident growth of building that index alone. Vectors are synthetic and
clustered: topics, sub-topics of about thirty passages each, and per passage isotropic noise;
queries are new points drawn the same way. The mix is set so that a query's 1st, 10th and 100th
nearest passages have about the cosines they have with the real model on the demo content
(USE: 0.64, 0.50, 0.35; synthetic: 0.56, 0.51, 0.35), i.e. a little harder at the very top.
Both kinds are built by ``kb.VectorIndex`` and searched as the searcher does
(one query at a time, the top 100). Recall@10 is the share of the exact top 10 that the HNSW
top 10 contains.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bench.machine import peak_rss_mib, rss_mib
from bench.report import Results, percentile
from kb import CANDIDATES, HNSW, Graph, VectorIndex

SECTION = "Scale: exact vs HNSW vector index (synthetic clustered vectors)"
ROOT = Path(__file__).resolve().parent.parent
QUERIES = 200
DEPTH = CANDIDATES  # what a search asks the vector index for
NOISE = 1.0  # noise norm relative to the sub-topic centre
SUBTOPIC = 30  # passages per sub-topic
SEED = 7
FILTER_SHARES = (0.01, 0.2)


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def clustered(n: int, dim: int, queries: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """``n`` passage vectors and ``queries`` query vectors, unit length, float32."""
    rng = np.random.default_rng(seed)
    topics = unit(rng.standard_normal((max(10, n // 5000), dim), dtype=np.float32))
    count = max(100, n // SUBTOPIC)
    subtopics = unit(topics[rng.integers(len(topics), size=count)]
                     + 0.9 * unit(rng.standard_normal((count, dim), dtype=np.float32)))

    def draw(size: int) -> np.ndarray:
        out = np.empty((size, dim), dtype=np.float32)
        for start in range(0, size, 50_000):
            block = min(50_000, size - start)
            noise = unit(rng.standard_normal((block, dim), dtype=np.float32)) * NOISE
            out[start : start + block] = unit(subtopics[rng.integers(count, size=block)] + noise)
        return out

    return draw(n), draw(queries)


def exact_top(data: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Exact top-k ids by inner product, blockwise in numpy (the ground truth)."""
    best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), k), dtype=np.int64)
    for start in range(0, len(data), 100_000):
        scores = queries @ data[start : start + 100_000].T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k] if scores.shape[1] > k else np.argsort(-scores, axis=1)
        merged_scores = np.concatenate([best_scores, np.take_along_axis(scores, top, 1)], axis=1)
        merged_ids = np.concatenate([best_ids, top + start], axis=1)
        order = np.argsort(-merged_scores, axis=1)[:, :k]
        best_scores = np.take_along_axis(merged_scores, order, 1)
        best_ids = np.take_along_axis(merged_ids, order, 1)
    return best_ids


def recall(index, queries: np.ndarray, truth: np.ndarray, within: np.ndarray | None = None) -> float:
    """Mean share of the exact top 10 found in the index's top 10."""
    found = 0
    for vector, expected in zip(queries, truth, strict=True):
        _, ids = index.search(vector, DEPTH, within)
        found += len(set(ids[:10].tolist()) & set(expected.tolist()))
    return found / (10 * len(queries))


def latencies(index, queries: np.ndarray, within: np.ndarray | None = None) -> list[float]:
    out = []
    for vector in queries:
        started = time.perf_counter()
        index.search(vector, DEPTH, within)
        out.append((time.perf_counter() - started) * 1000)
    return out


def worker(n: int, dim: int, kind: str, passes: int, ef_searches: list[int], graph: Graph = HNSW) -> dict:
    """Build one index and measure it; run in a process of its own."""
    data, queries = clustered(n, dim, QUERIES)
    gc.collect()
    before = rss_mib(os.getpid())
    index = VectorIndex(dim, approximate=kind == "hnsw", graph=graph)
    started = time.perf_counter()
    index.add(np.arange(n, dtype=np.int64), data)
    build = time.perf_counter() - started
    memory = rss_mib(os.getpid()) - before  # measured before the ground truth's temporaries come and go
    truth = exact_top(data, queries, 10) if kind == "hnsw" else None
    out = {"n": n, "dim": dim, "kind": kind, "build_s": build, "memory_mib": memory,
           "peak_rss_mib": peak_rss_mib(os.getpid()),
           "latency_ms": [latencies(index, queries) for _ in range(passes)]}
    if kind == "hnsw":
        out["params"] = {"M": graph.m, "efConstruction": graph.ef_construction, "efSearch": graph.ef_search}
        out["recall_at_10"] = recall(index, queries, truth)
        sweep = {}
        for ef in ef_searches:
            index.set_ef_search(ef)
            sweep[ef] = {"recall_at_10": recall(index, queries, truth),
                         "p50_ms": percentile(latencies(index, queries), 50)}
        index.set_ef_search(graph.ef_search)
        out["ef_sweep"] = sweep
        # Filters (kind, tag, author, language) let a share of the passages through.
        rng = np.random.default_rng(SEED)
        out["filtered"] = {}
        for share in FILTER_SHARES:
            allowed = np.sort(rng.choice(n, max(1, int(n * share)), replace=False))
            expected = allowed[exact_top(data[allowed], queries, 10)]
            out["filtered"][share] = {"recall_at_10": recall(index, queries, expected, allowed),
                                      "p50_ms": percentile(latencies(index, queries, allowed), 50)}
        # A week of nightly runs that edit 1% of the passages: HNSW cannot delete, so the
        # replaced passages stay in the graph, marked removed, until the next full run.
        index.remove(np.arange(0, n, 15, dtype=np.int64))
        out["latency_removed_ms"] = latencies(index, queries)
        out["removed"] = len(range(0, n, 15))
    return out


def measure(n: int, dim: int, kind: str, passes: int, ef_searches: list[int], graph: Graph | None) -> dict:
    """``worker`` in a fresh process; ``graph``: other HNSW settings than the indexer's."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "bench.scale", str(n), str(dim), kind, str(passes),
               ",".join(map(str, ef_searches)), json.dumps(asdict(graph or HNSW))]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"scale worker failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@dataclass
class ScalePlan:
    sizes: tuple[tuple[int, int], ...]  # (chunks, dimension)
    runs: int = 3
    ef_searches: tuple[int, ...] = (100, 256, 512, 1024)
    graph: Graph | None = None  # other HNSW settings than the indexer's (tuning)


def run(results: Results, plan: ScalePlan) -> dict:
    """Every size and kind; returns the raw figures (also kept in bench.json)."""
    raw: dict = {}
    for n, dim in plan.sizes:
        for kind in ("exact", "hnsw"):
            figures = measure(n, dim, kind, plan.runs, list(plan.ef_searches), plan.graph)
            raw[f"{n}-{dim}-{kind}"] = figures
            label = f"{_size(n)} × {dim}, {'exact (fp16, every vector compared)' if kind == 'exact' else 'HNSW'}"
            single = "1 run: one build per size and kind"
            results.add(SECTION, f"{label}: build", "s", [figures["build_s"]], single)
            results.add(SECTION, f"{label}: memory (RSS growth)", "MiB", [figures["memory_mib"]], single)
            for q in (50, 95, 99):
                results.add(SECTION, f"{label}: query p{q} (top {DEPTH})", "ms",
                            [percentile(p, q) for p in figures["latency_ms"]], f"{QUERIES} queries per run")
            if kind == "hnsw":
                params = figures["params"]
                results.add(SECTION, f"{label}: recall@10 vs exact", "", [figures["recall_at_10"]],
                            f"M={params['M']}, efConstruction={params['efConstruction']}, "
                            f"efSearch={params['efSearch']}")
                sweep = ", ".join(f"efSearch {ef}: recall {v['recall_at_10']:.3f}, p50 {v['p50_ms']:.2f} ms"
                                  for ef, v in figures["ef_sweep"].items())
                results.note(SECTION, f"{label}, same graph, other efSearch: {sweep}.")
                for share, figures_filtered in figures["filtered"].items():
                    results.add(SECTION, f"{label}: filter passing {float(share):.0%}: recall@10", "",
                                [figures_filtered["recall_at_10"]], f"p50 {figures_filtered['p50_ms']:.2f} ms")
                results.add(SECTION, f"{label}: query p50 with {figures['removed']} passages removed", "ms",
                            [percentile(figures["latency_removed_ms"], 50)],
                            "replaced passages stay in the graph until a full run")
    results.note(SECTION, (
        "Vectors: synthetic, clustered (topics → sub-topics of ~30 passages → isotropic noise), unit length, mixed so "
        "that a query's 1st/10th/100th nearest passages have cosines 0.56/0.51/0.35 (the real model on the demo "
        "content: 0.64/0.50/0.35); 200 queries drawn the same way, not in the index. Each size and kind is built in "
        "a process of its own by `kb.VectorIndex`; memory is the growth of that process's RSS during "
        "the build; queries go one at a time for the top 100, as the searcher asks. Build uses both cores."))
    return raw


def _size(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k"


if __name__ == "__main__":
    n, dim, kind, passes, efs, graph = sys.argv[1:7]
    print(json.dumps(worker(int(n), int(dim), kind, int(passes), [int(e) for e in efs.split(",") if e],
                            Graph(**json.loads(graph)))))
