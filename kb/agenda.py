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
from typing import NamedTuple

import numpy as np
from scipy import sparse

JOIN = 0.735  # average closeness from which two groups of questions are one gap (the default model's scale)
LEXICAL = 0.1  # the weight of shared letter trigrams in the closeness of two questions
TRIGRAM_BINS = 4096
CLUSTERED = 600  # the most asked distinct questions that are grouped pairwise; rarer ones join a group
STATUSES = ("open", "planned", "answered")


@dataclass(frozen=True)
class PastSearch:
    at: str
    query: str
    results: int
    best: float | None
    opened: str | None

    @property
    def missed(self) -> bool:
        """Found nothing above the floor, or nothing anyone opened."""
        return self.results == 0 or self.opened is None


class Asked(NamedTuple):
    """One distinct question of the window: how often it was searched and missed, when it missed,
    and the latest search of it that found something that was opened."""

    query: str
    searches: int
    missed: int
    first_missed: str | None = None
    last_missed: str | None = None
    week_missed: int = 0  # misses in the last seven days
    answered_at: str | None = None
    answered_by: str | None = None


def questions(searches: Iterable[PastSearch], now: dt.datetime | None = None) -> list[Asked]:
    """Logged searches as distinct questions (what the stores compute in SQL), in query order."""
    week_ago = ((now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=7)).isoformat()
    rows: dict[str, dict] = {}
    for search in searches:
        row = rows.setdefault(search.query, {"searches": 0, "missed": 0, "first_missed": None, "last_missed": None,
                                             "week_missed": 0, "answered_at": None, "answered_by": None})
        row["searches"] += 1
        if search.missed:
            row["missed"] += 1
            row["first_missed"] = min(row["first_missed"] or search.at, search.at)
            row["last_missed"] = max(row["last_missed"] or search.at, search.at)
            row["week_missed"] += search.at >= week_ago
        elif row["answered_at"] is None or search.at >= row["answered_at"]:
            row["answered_at"], row["answered_by"] = search.at, search.opened
    return [Asked(query, **rows[query]) for query in sorted(rows)]


@dataclass
class Gap:
    queries: Counter = field(default_factory=Counter)  # distinct query -> how often it missed
    first_asked: str = ""
    last_asked: str = ""
    week: int = 0  # misses in the last seven days
    answered_by: str | None = None  # the document opened after the last miss (None: not looked up yet)
    answered_at: str | None = None
    answered_query: str | None = None

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


def group(asked: Iterable[Asked], vectors: dict[str, np.ndarray], join: float = JOIN) -> list[Gap]:
    """The questions that missed grouped into gaps, most asked first, each marked answered when a
    later search of one of its questions found something that was opened. ``vectors`` holds the
    unit vector of each question that missed.

    Grouping is average linkage: the two groups whose questions are closest on average (each
    question weighted by how often it missed) merge while that average reaches ``join``. The
    closeness of two questions is their cosine plus a little for the letter trigrams they share,
    which holds a typo to its question. The ``CLUSTERED`` most asked questions are grouped so;
    each rarer one joins the group it is closest to on average, or stands alone."""
    missed = sorted((a for a in asked if a.missed), key=lambda a: (-a.missed, a.query))
    if not missed:
        return []
    queries = [a.query for a in missed]
    clustered = min(len(queries), CLUSTERED)
    weights = np.array([a.missed for a in missed], dtype=np.float64)
    units = np.stack([np.asarray(vectors[q], dtype=np.float32) for q in queries])
    letters = _trigrams(queries)
    head = slice(0, clustered)
    groups = _average_linkage(_closeness(units[head], letters[head], units[head], letters[head]),
                              weights[head], join)
    if len(queries) > clustered:
        groups = _attach(groups, units, letters, weights, clustered, join)
    gaps = []
    for members in groups:
        gap = Gap()
        for index in members:
            question = missed[index]
            gap.queries[question.query] += question.missed
            gap.first_asked = min(gap.first_asked or question.first_missed, question.first_missed)
            gap.last_asked = max(gap.last_asked, question.last_missed)
            gap.week += question.week_missed
        later = [missed[i] for i in members if missed[i].answered_at and missed[i].answered_at > gap.last_asked]
        if later:
            latest = max(later, key=lambda question: question.answered_at)
            gap.answered_by, gap.answered_at = latest.answered_by, latest.answered_at
            gap.answered_query = latest.query
        gaps.append(gap)
    return sorted(gaps, key=lambda gap: (-gap.searches, gap.founder))


def _trigrams(queries: list[str]) -> sparse.csr_matrix:
    """Each query's letter trigrams (of `` query ``) as a sparse 0/1 row, hashed into
    ``TRIGRAM_BINS`` by arithmetic on their code points (the same in every process)."""
    padded = [f" {query} " for query in queries]
    lengths = np.array([len(text) for text in padded])
    codes = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    rows = np.repeat(np.arange(len(queries)), lengths)
    position = np.arange(len(codes)) - np.repeat(starts, lengths)
    first = np.nonzero(position <= np.repeat(lengths, lengths) - 3)[0]  # trigrams within one query
    bins = (codes[first] * 1_000_003 + codes[first + 1] * 10_007 + codes[first + 2]) % TRIGRAM_BINS
    letters = sparse.csr_matrix((np.ones(len(first), dtype=np.float32), (rows[first], bins)),
                                shape=(len(queries), TRIGRAM_BINS))
    letters.sum_duplicates()
    letters.data[:] = 1.0  # a trigram twice in a query counts once
    return letters


def _closeness(units_a: np.ndarray, letters_a: sparse.csr_matrix, units_b: np.ndarray,
               letters_b: sparse.csr_matrix) -> np.ndarray:
    """Cosine plus ``LEXICAL`` times the Jaccard overlap of the letter trigrams, for every pair."""
    return (units_a @ units_b.T).astype(np.float64) + LEXICAL * _overlap(letters_a, letters_b)


def _overlap(letters_a: sparse.csr_matrix, letters_b: sparse.csr_matrix) -> np.ndarray:
    """The Jaccard overlap of the letter trigrams of every pair."""
    shared = (letters_a @ letters_b.T).toarray()
    sizes_a = np.asarray(letters_a.sum(1)).ravel()
    sizes_b = np.asarray(letters_b.sum(1)).ravel()
    return shared / np.maximum(sizes_a[:, None] + sizes_b[None, :] - shared, 1.0)


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


def _attach(groups: list[list[int]], units: np.ndarray, letters: sparse.csr_matrix, weights: np.ndarray,
            clustered: int, join: float) -> list[list[int]]:
    """The rarer queries (from ``clustered`` on) joined to the group closest on average, or alone
    (each is one search or a few: grouping them pair by pair would cost more than it changes)."""
    share = np.zeros((clustered, len(groups)), dtype=np.float32)
    for number, members in enumerate(groups):
        share[members, number] = weights[members] / weights[members].sum()
    # the average cosine to a group is the cosine to its members' weighted sum (it is linear); the
    # average trigram overlap is taken as the overlap with the group's weighted trigram profile
    average = (units[clustered:] @ (units[:clustered].T @ share)).astype(np.float64)
    head, tail = letters[:clustered], letters[clustered:]
    shared = np.asarray(tail @ (head.T @ share))
    sizes = np.asarray(head.sum(1)).ravel() @ share
    union = np.asarray(tail.sum(1)).ravel()[:, None] + sizes[None, :] - shared
    average += LEXICAL * shared / np.maximum(union, 1.0)
    best = average.argmax(1)
    reaches = average[np.arange(len(best)), best] >= join
    joined = [list(members) for members in groups]
    for offset in np.flatnonzero(reaches):
        joined[best[offset]].append(clustered + int(offset))
    joined += [[clustered + int(offset)] for offset in np.flatnonzero(~reaches)]
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
