"""The learning agenda: the searches that found nothing, grouped by meaning into gaps.

A logged search is a *miss* when no result reached the relevance floor, or when nobody opened any
of its results. Misses are grouped by what they mean: each distinct query is embedded once (the
search log keeps the vector the search computed), and a query joins the gap whose centre is
nearest when that is close enough, else starts one, so a Dutch and an English question about one
thing form one gap. A gap is *answered* when, after the last time one of its queries missed, one
of them found a result that was opened; *planned* when someone planned a session on it.
Pure functions on plain values; ``KnowledgeBase.agenda`` gives them the log, the vectors, the
plans and the nearest content.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

JOIN = 0.8  # cosine to a gap's centre from which a query belongs to it (the default model's scale)
STATUSES = ("open", "planned", "answered")


@dataclass(frozen=True)
class Search:
    at: str
    query: str
    results: int
    best: float | None
    opened: str | None

    @property
    def missed(self) -> bool:
        """Found nothing above the floor, or nothing anyone opened."""
        return self.results == 0 or self.opened is None


@dataclass
class Gap:
    queries: Counter = field(default_factory=Counter)  # distinct query -> how often it missed
    first_asked: str = ""
    last_asked: str = ""
    week: int = 0  # misses in the last seven days
    centre: np.ndarray | None = None
    answered_by: str | None = None  # the document opened after the last miss
    answered_at: str | None = None

    @property
    def searches(self) -> int:
        return sum(self.queries.values())

    @property
    def founder(self) -> str:
        """The query asked most often (the shortest of those asked as often): the gap's name."""
        return min(self.queries, key=lambda query: (-self.queries[query], len(query), query))

    def shown(self, min_count: int) -> list[str]:
        """The queries asked at least ``min_count`` times, most asked first: those shown word for word."""
        return [query for query, count in sorted(self.queries.items(), key=lambda item: (-item[1], item[0]))
                if count >= min_count]


def group(searches: Iterable[Search], vectors: dict[str, np.ndarray], join: float = JOIN,
          now: dt.datetime | None = None) -> list[Gap]:
    """The misses among ``searches`` grouped into gaps, most asked first, each marked answered
    when a later search of its queries found something that was opened. ``vectors`` holds the
    unit vector of each distinct query that missed."""
    now = now or dt.datetime.now(dt.UTC)
    week_ago = (now - dt.timedelta(days=7)).isoformat()
    missed: dict[str, list[Search]] = {}
    opened: dict[str, Search] = {}  # the latest search of each query that found something opened
    for search in searches:
        if search.missed:
            missed.setdefault(search.query, []).append(search)
        elif search.query not in opened or search.at >= opened[search.query].at:
            opened[search.query] = search
    gaps: list[Gap] = []
    centres = np.zeros((0, 0), dtype=np.float32)
    for query in sorted(missed, key=lambda q: (-len(missed[q]), q)):  # the most asked found the gaps
        vector = np.asarray(vectors[query], dtype=np.float32)
        if not gaps:
            centres = np.zeros((0, vector.shape[0]), dtype=np.float32)
        scores = centres @ vector
        best = int(np.argmax(scores)) if len(gaps) else -1
        if best >= 0 and scores[best] >= join:
            gap = gaps[best]
        else:
            gap = Gap(first_asked=min(s.at for s in missed[query]))
            gaps.append(gap)
            centres = np.vstack([centres, vector[None, :]])
            best = len(gaps) - 1
        asked = missed[query]
        centre = vector * len(asked) if gap.centre is None else gap.centre * gap.searches + vector * len(asked)
        gap.centre = centre / max(float(np.linalg.norm(centre)), 1e-9)
        centres[best] = gap.centre
        gap.queries[query] += len(asked)
        gap.first_asked = min(gap.first_asked, *(s.at for s in asked))
        gap.last_asked = max(gap.last_asked, *(s.at for s in asked))
        gap.week += sum(s.at >= week_ago for s in asked)
    for gap in gaps:
        later = [opened[q] for q in gap.queries if q in opened and opened[q].at > gap.last_asked]
        if later:
            latest = max(later, key=lambda s: s.at)
            gap.answered_by, gap.answered_at = latest.opened, latest.at
    return sorted(gaps, key=lambda gap: (-gap.searches, gap.founder))


def rising(gap: Gap, window_days: int) -> bool:
    """More searches this week than the window's weekly average."""
    return gap.week > gap.searches * 7 / max(window_days, 7)


def gap_id(key: str, founder: str) -> str:
    """A gap's address: the same while its most asked query is, and telling nothing about that
    query to someone who does not hold ``key``."""
    return "gap-" + hmac.new(key.encode(), founder.encode(), hashlib.sha256).hexdigest()[:12]


def plan_for(gap: Gap, plans: list[tuple[str, str, str, list[str]]]) -> tuple[str, str] | None:
    """(plan id, planned at) of the plan made for this gap: the latest that shares a query with it."""
    mine = [(plan_id, at) for plan_id, at, _, queries in plans if set(queries) & gap.queries.keys()]
    return max(mine, key=lambda plan: plan[1]) if mine else None
