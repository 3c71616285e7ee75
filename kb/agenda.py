"""The learning agenda: the searches that found nothing, grouped by meaning into gaps.

A logged search is a *miss* when no result reached the relevance floor, or when nobody opened any
of its results. Misses are grouped by what they mean: each distinct query is embedded once (the
search log keeps the vector the search computed) and questions that are close on average form
one gap, so a Dutch and an English question about one thing are one gap. A gap is *answered*
when, after the last time one of its queries missed, one of them found a result that was opened;
*planned* when someone planned a session on it.
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

JOIN = 0.735  # average closeness from which two groups of questions are one gap (the default model's scale)
LEXICAL = 0.1  # the weight of shared letter trigrams in the closeness of two questions
TRIGRAM_BINS = 4096
CLUSTERED = 600  # the most asked distinct questions that are grouped pairwise; rarer ones join a group
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
    unit vector of each distinct query that missed.

    Grouping is average linkage: the two groups whose questions are closest on average (each
    question weighted by how often it was asked) merge while that average reaches ``join``. The
    closeness of two questions is their cosine plus a little for the letter trigrams they share,
    which holds a typo to its question. The ``CLUSTERED`` most asked questions are grouped so;
    each rarer one joins the group it is closest to on average, or stands alone."""
    now = now or dt.datetime.now(dt.UTC)
    week_ago = (now - dt.timedelta(days=7)).isoformat()
    missed: dict[str, list[Search]] = {}
    opened: dict[str, Search] = {}  # the latest search of each query that found something opened
    for search in searches:
        if search.missed:
            missed.setdefault(search.query, []).append(search)
        elif search.query not in opened or search.at >= opened[search.query].at:
            opened[search.query] = search
    queries = sorted(missed, key=lambda q: (-len(missed[q]), q))
    if not queries:
        return []
    head = queries[:CLUSTERED]
    weights = np.array([len(missed[q]) for q in queries], dtype=np.float64)
    units = np.stack([np.asarray(vectors[q], dtype=np.float32) for q in queries])
    letters = _trigrams(queries)
    groups = _average_linkage(_closeness(units[:len(head)], letters[:len(head)], units[:len(head)],
                                         letters[:len(head)]), weights[:len(head)], join)
    if len(queries) > len(head):
        groups = _attach(groups, units, letters, weights, len(head), join)
    gaps = []
    for members in groups:
        gap = Gap()
        for index in members:
            asked = missed[queries[index]]
            gap.queries[queries[index]] += len(asked)
            times = [s.at for s in asked]
            gap.first_asked = min(gap.first_asked or times[0], *times)
            gap.last_asked = max(gap.last_asked, *times)
            gap.week += sum(at >= week_ago for at in times)
        later = [opened[q] for q in gap.queries if q in opened and opened[q].at > gap.last_asked]
        if later:
            latest = max(later, key=lambda s: s.at)
            gap.answered_by, gap.answered_at = latest.opened, latest.at
        gaps.append(gap)
    return sorted(gaps, key=lambda gap: (-gap.searches, gap.founder))


def _trigrams(queries: list[str]) -> np.ndarray:
    """Each query's letter trigrams (of `` query ``) as a 0/1 row, hashed into ``TRIGRAM_BINS``."""
    rows = np.zeros((len(queries), TRIGRAM_BINS), dtype=np.float32)
    for row, query in enumerate(queries):
        padded = f" {query} "
        for start in range(len(padded) - 2):
            digest = hashlib.blake2b(padded[start:start + 3].encode(), digest_size=4).digest()
            rows[row, int.from_bytes(digest, "little") % TRIGRAM_BINS] = 1.0
    return rows


def _closeness(units_a: np.ndarray, letters_a: np.ndarray, units_b: np.ndarray, letters_b: np.ndarray) -> np.ndarray:
    """Cosine plus ``LEXICAL`` times the Jaccard overlap of the letter trigrams, for every pair."""
    shared = letters_a @ letters_b.T
    union = letters_a.sum(1)[:, None] + letters_b.sum(1)[None, :] - shared
    return (units_a @ units_b.T).astype(np.float64) + LEXICAL * shared / np.maximum(union, 1.0)


def _average_linkage(closeness: np.ndarray, weights: np.ndarray, join: float) -> list[list[int]]:
    """Merge the two closest groups while their weighted average closeness reaches ``join``."""
    size = len(weights)
    close = closeness.copy()
    np.fill_diagonal(close, -np.inf)
    weight = weights.copy()
    members = [[index] for index in range(size)]
    while size > 1:
        a, b = divmod(int(np.argmax(close)), size)
        if close[a, b] < join:
            break
        merged = (weight[a] * close[a] + weight[b] * close[b]) / (weight[a] + weight[b])
        close[a], close[:, a] = merged, merged
        close[b], close[:, b] = -np.inf, -np.inf
        close[a, a] = -np.inf
        weight[a] += weight[b]
        members[a] += members[b]
        members[b] = []
    return [group for group in members if group]


def _attach(groups: list[list[int]], units: np.ndarray, letters: np.ndarray, weights: np.ndarray,
            clustered: int, join: float) -> list[list[int]]:
    """The rarer queries (from ``clustered`` on) joined to the group closest on average, or alone."""
    closeness = _closeness(units[clustered:], letters[clustered:], units[:clustered], letters[:clustered])
    share = np.zeros((clustered, len(groups)))
    for number, members in enumerate(groups):
        share[members, number] = weights[members] / weights[members].sum()
    average = closeness @ share
    best = average.argmax(1)
    joined = [list(members) for members in groups]
    for offset, number in enumerate(best):
        if average[offset, number] >= join:
            joined[number].append(clustered + offset)
        else:
            joined.append([clustered + offset])
    return joined


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
