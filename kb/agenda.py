"""The learning agenda: the searches that found nothing, grouped by meaning into gaps.

A logged search is a *miss* when no result reached the relevance floor, when its best result was
weak, or when nobody opened any of its results. Misses are grouped by what they mean: each
distinct query is embedded once, and a query joins the gap whose centre is nearest when that is
close enough, else starts one, so a Dutch and an English question about one thing form one gap.
Pure functions on plain values; ``KnowledgeBase.agenda`` gives them the log, the vectors and the
nearest content.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

JOIN = 0.8  # cosine to a gap's centre from which a query belongs to it (the default model's scale)
WEAK = 0.0  # a best score below this is weak (0: only searches without results count as weak)


@dataclass(frozen=True)
class Search:
    at: str
    query: str
    results: int
    best: float | None
    opened: str | None


@dataclass
class Gap:
    queries: Counter = field(default_factory=Counter)  # distinct query -> how often it was asked
    last_asked: str = ""
    centre: np.ndarray | None = None
    week: int = 0  # searches in the last seven days

    @property
    def searches(self) -> int:
        return sum(self.queries.values())

    @property
    def label(self) -> str:
        """The query asked most often (the shortest of those asked as often)."""
        return min(self.queries, key=lambda query: (-self.queries[query], len(query), query))


def is_miss(search: Search, weak: float = WEAK) -> bool:
    """A search that found nothing, found only weak matches, or whose results nobody opened."""
    return search.results == 0 or (search.best is not None and search.best < weak) or search.opened is None


def group(searches: list[Search], vectors: dict[str, np.ndarray], join: float = JOIN,
          now: dt.datetime | None = None) -> list[Gap]:
    """The misses among ``searches`` grouped into gaps, most asked first; ``vectors`` holds the
    unit vector of each distinct query."""
    now = now or dt.datetime.now(dt.UTC)
    week_ago = (now - dt.timedelta(days=7)).isoformat()
    asked: dict[str, list[Search]] = {}
    for search in searches:
        if is_miss(search):
            asked.setdefault(search.query, []).append(search)
    gaps: list[Gap] = []
    for query in sorted(asked, key=lambda q: (-len(asked[q]), q)):  # the most asked found the gaps
        vector = vectors[query]
        scores = [float(gap.centre @ vector) for gap in gaps]
        best = int(np.argmax(scores)) if scores else -1
        gap = gaps[best] if best >= 0 and scores[best] >= join else None
        if gap is None:
            gap = Gap()
            gaps.append(gap)
        weight = len(asked[query])
        total = gap.searches
        centre = vector * weight if gap.centre is None else gap.centre * total + vector * weight
        gap.centre = centre / max(float(np.linalg.norm(centre)), 1e-9)
        gap.queries[query] += weight
        gap.last_asked = max(gap.last_asked, *(s.at for s in asked[query]))
        gap.week += sum(s.at >= week_ago for s in asked[query])
    return sorted(gaps, key=lambda gap: (-gap.searches, gap.label))


def rising(gap: Gap, window_days: int) -> bool:
    """More searches this week than the window's weekly average."""
    return gap.week > gap.searches * 7 / max(window_days, 7)
