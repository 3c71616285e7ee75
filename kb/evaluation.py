"""Retrieval metrics on judged queries: nDCG@k, Recall@k, MRR@k (pure functions on plain values)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def ndcg(ranked: Sequence[str], judged: Mapping[str, int], k: int = 10) -> float:
    """Normalised discounted cumulative gain with graded relevance as the gain."""
    gains = [judged.get(doc, 0) for doc in ranked[:k]]
    dcg = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(gains))
    ideal = sorted((grade for grade in judged.values() if grade > 0), reverse=True)[:k]
    idcg = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: Sequence[str], judged: Mapping[str, int], k: int = 10) -> float:
    relevant = {doc for doc, grade in judged.items() if grade > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def precision(ranked: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    relevant = {doc for doc, grade in judged.items() if grade > 0}
    return len(relevant & set(ranked[:k])) / k if k else 0.0


def mrr(ranked: Sequence[str], judged: Mapping[str, int], k: int = 10) -> float:
    for rank, doc in enumerate(ranked[:k], start=1):
        if judged.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def summarise(rankings: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]], k: int = 10) -> dict:
    """Mean nDCG@k, Recall@k and MRR@k over the queries that have judgments."""
    queries = [q for q in rankings if qrels.get(q)]
    if not queries:
        return {f"ndcg@{k}": 0.0, f"recall@{k}": 0.0, f"mrr@{k}": 0.0}
    mean = lambda metric: round(sum(metric(rankings[q], qrels[q], k) for q in queries) / len(queries), 4)  # noqa: E731
    return {f"ndcg@{k}": mean(ndcg), f"recall@{k}": mean(recall), f"mrr@{k}": mean(mrr)}


def floor_figures(floored: Mapping[str, Sequence[str]], unfloored: Mapping[str, Sequence[str]],
                  qrels: Mapping[str, Mapping[str, int]], no_answer: Sequence[str], k: int = 10) -> dict:
    """How well a relevance floor tells answers from non-answers: the share of the ``no_answer``
    queries left with no result, and of the judged-relevant documents in each answerable query's
    top ``k`` without a floor, the share still among its results with one (``floored`` holds every
    result, not just the first ``k``)."""
    empty = sum(not floored.get(qid) for qid in no_answer)
    relevant = kept = 0
    for qid, ranked in unfloored.items():
        judged = qrels.get(qid) or {}
        shown = set(floored.get(qid, ()))
        for doc in ranked[:k]:
            if judged.get(doc, 0) > 0:
                relevant += 1
                kept += doc in shown
    return {"no_answer": len(no_answer), "empty_state": round(empty / len(no_answer), 4) if no_answer else None,
            "relevant": relevant, "kept_relevant": round(kept / relevant, 4) if relevant else None}
