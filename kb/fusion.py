"""Ranking maths on plain values: group chunk hits per document, weigh and fuse the two rankings.

The keyword side is strong on exact terms (names, codes, error messages) and useless across
languages; the dense side is the other way round. So the weight of the keyword side adapts per
query to how much it has to offer (``Signals``): how much of the query its best passage covers,
how far its top documents agree with the dense ranking, and whether the documents the dense side
finds are written in the query's language at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class FusionParams:
    """How the keyword side is weighed; each model's tuned values are in its profile (kb.profiles),
    chosen on the judged queries in tests/eval with bench/tune_fusion.py (never on the public sets)."""

    agreement_weight: float = 0.6  # keyword weight when its top documents are the dense ones too
    coverage_weight: float = 6.0  # keyword weight when its best passage matches all of the query
    coverage_power: float = 4.0  # >1 trusts only near-complete matches
    depth: int = 20  # how many top documents are compared for agreement
    language_weight: float = 0.0  # more coverage weight when the dense side's top documents share the query's language
    flat_weight: float = 0.0  # up to (1 + this) times the keyword weight when the dense scores are flat ...
    flat_gap: float = 0.06  # ... that is, when its best and tenth best documents are closer than this


@dataclass(frozen=True)
class Floor:
    """How strong a match must be to be a result, per model (its profile), chosen on the judged
    queries of tests/eval, answerable and not, with bench/tune_floor.py.

    A document's strength is its dense score plus ``coverage_weight`` times its keyword coverage
    (the share of the query's IDF its best keyword passage holds): a passage that names every word
    of the query counts even where the model knows little of them. A query whose strongest document
    stays below ``answer`` found nothing; otherwise its results are the documents that reach
    ``result``.
    """

    answer: float
    result: float
    coverage_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.result > self.answer:
            raise ValueError(f"the result floor ({self.result}) is above the answer floor ({self.answer})")


NO_FLOOR = Floor(-1.0, -1.0)  # every candidate a result, as before floors existed (evaluation, benchmarks)


@dataclass(frozen=True)
class Signals:
    """What a query's candidates say about how informative the keyword side is."""

    coverage: float = 0.0  # share of the query's weight (IDF) in the best keyword passage
    same_language: float = 1.0  # share of the top dense documents in the query's language (1: unknown)
    dense_spread: float = 1.0  # the dense side's best document score minus its tenth best


def group_best(hits: Iterable[tuple[int, str, float]]) -> dict[str, tuple[float, int]]:
    """Per document, its best (score, chunk id) among chunk hits ``(chunk id, doc id, score)``."""
    best: dict[str, tuple[float, int]] = {}
    for chunk_id, doc_id, score in hits:
        if doc_id not in best or score > best[doc_id][0]:
            best[doc_id] = (score, chunk_id)
    return best


def relative(scores: dict[str, float], floor: float | None = None) -> dict[str, float]:
    """Scores rescaled so the best is 1 and ``floor`` (default: the lowest) is 0."""
    if not scores:
        return {}
    top = max(scores.values())
    low = min(scores.values()) if floor is None else floor
    span = top - low
    if span <= 1e-9:
        return {key: 1.0 for key in scores}
    return {key: max(0.0, (value - low) / span) for key, value in scores.items()}


def agreement(first: list[str], second: list[str], depth: int) -> float:
    """Share of the top ``depth`` of ``second`` that also appears in the top ``depth`` of ``first``."""
    top_second = second[:depth]
    if not top_second:
        return 0.0
    return len(set(first[:depth]) & set(top_second)) / len(top_second)


def keyword_weight(dense_ranking: list[str], keyword_ranking: list[str], signals: Signals,
                   params: FusionParams) -> float:
    """How much the keyword side counts for this query.

    Coverage is high for a name, a code or an error message that the best keyword passage
    contains, low for a Dutch query over English answers, where keyword hits only catch a word or
    two; a query over documents in its own language can trust its words more. And where the
    dense side cannot tell its best documents from the tenth, its words count more still.
    """
    if not keyword_ranking:
        return 0.0
    coverage_weight = params.coverage_weight + params.language_weight * signals.same_language
    weight = (params.agreement_weight * agreement(dense_ranking, keyword_ranking, params.depth)
              + coverage_weight * signals.coverage ** params.coverage_power)
    flatness = max(0.0, params.flat_gap - signals.dense_spread) / params.flat_gap if params.flat_gap else 0.0
    return weight * (1.0 + params.flat_weight * flatness)


def fuse(dense: dict[str, float], keyword: dict[str, float], weight: float) -> list[tuple[str, float]]:
    """Weighted sum of relative scores, best first; ties broken by id for stable pages."""
    dense_rel = relative(dense)
    keyword_rel = relative(keyword, floor=0.0)
    combined = {doc: dense_rel.get(doc, 0.0) + weight * keyword_rel.get(doc, 0.0) for doc in set(dense) | set(keyword)}
    return sorted(combined.items(), key=lambda item: (-item[1], item[0]))


def ranking(scores: dict[str, float]) -> list[str]:
    return [doc for doc, _ in sorted(scores.items(), key=lambda item: (-item[1], item[0]))]


def fuse_for_mode(dense: dict[str, float], keyword: dict[str, float], signals: Signals, mode: str,
                  params: FusionParams) -> tuple[list[tuple[str, float]], float]:
    """(documents best first, the keyword weight used) for ``mode``: one side alone, or both fused."""
    if mode == "dense":
        return sorted(dense.items(), key=lambda item: (-item[1], item[0])), 0.0
    if mode == "keyword":
        return sorted(keyword.items(), key=lambda item: (-item[1], item[0])), 1.0
    weight = keyword_weight(ranking(dense), ranking(keyword), signals, params)
    return fuse(dense, keyword, weight), weight


def result_pool(fused: list[tuple[str, float]], dense: dict[str, float], keyword: dict[str, float],
                margin: float) -> list[tuple[str, float]]:
    """The documents that are results: every keyword match, and the dense hits within ``margin``
    of the best one (the model's dense margin)."""
    if not dense:
        return fused
    best = max(dense.values())
    return [(doc, score) for doc, score in fused if doc in keyword or dense.get(doc, -1) >= best - margin]


def strengths(dense: dict[str, float], coverage: dict[str, float], floor: Floor) -> dict[str, float]:
    """Each candidate document's strength (see ``Floor``). A keyword match outside the dense
    candidates scores at most the lowest dense candidate, so that score stands in for its own."""
    unseen = min(dense.values(), default=0.0)
    return {doc: dense.get(doc, unseen) + floor.coverage_weight * coverage.get(doc, 0.0)
            for doc in set(dense) | set(coverage)}


def above_floor(pool: list[tuple[str, float]], strength: dict[str, float], floor: Floor) -> list[tuple[str, float]]:
    """The documents of ``pool`` that are results: none when the strongest is below the answer
    floor, else those that reach the result floor."""
    if not pool or max(strength.get(doc, 0.0) for doc, _ in pool) < floor.answer:
        return []
    return [(doc, score) for doc, score in pool if strength.get(doc, 0.0) >= floor.result]


def best_passages(page: list[tuple[str, float]], passages: dict[str, list[tuple[int, float, float]]],
                  weight: float, keyword: dict[str, float]) -> dict[str, int]:
    """For each document on the page, the chunk that best answers the query, from its chunks'
    ``(chunk id, dense score, keyword score)``; the keyword side counts at least 0.3 here."""
    top_keyword = max(keyword.values(), default=0.0) or 1.0
    best: dict[str, int] = {}
    for doc, _ in page:
        candidates: dict[int, list[float]] = {}
        for chunk_id, dense_score, keyword_score in passages.get(doc, []):
            entry = candidates.setdefault(chunk_id, [0.0, 0.0])
            entry[0] = max(entry[0], dense_score)
            entry[1] = max(entry[1], keyword_score)
        if candidates:  # on a tie, the passage that comes first
            best[doc] = max(candidates, key=lambda c: (candidates[c][0] + max(weight, 0.3) * candidates[c][1]
                                                       / top_keyword, -c))
    return best
