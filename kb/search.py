"""Hybrid search over one index generation: dense and keyword hits, fused, one result per document.

A search runs in phases: the candidates of both sides (``Searcher.candidates``), their fusion
and the results they make (``kb.fusion``), the passage shown for each result, and the facets of
the whole result list (``kb.facets``). The results are the fused documents that reach the model's
relevance floor: one set per query, which the filters only narrow, so the total is the same on
every page and a facet's count is what clicking it gives. A query that reaches no floor found
nothing, and says so; when a word of it is unknown, a spelling correction may find what it meant.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from kb.audience import ANYONE, Reader, Visibility
from kb.embeddings import QueryCache
from kb.errors import InvalidInput
from kb.facets import FacetTable
from kb.fusion import (
    Floor,
    Signals,
    above_floor,
    best_passages,
    fuse_for_mode,
    group_best,
    ranking,
    result_pool,
    strengths,
)
from kb.keyword import Analyzer, highlight
from kb.language import detect_language
from kb.profiles import ModelProfile, require_floor
from kb.spelling import Speller
from kb.storage import DocMeta, Storage, VectorSearch
from kb.term_index import TermIndex, term_index_for

MODES = ("hybrid", "dense", "keyword")
SORTS = ("relevance", "newest")
# Chunks taken from each side before fusion, whatever page is asked for: the fused ranking, the
# total and the facets all come from this one candidate set, so page 2 continues page 1.
CANDIDATES = 100
MAX_LIMIT = 100
MAX_OFFSET = 1000
SNIPPET_CHARS = 320
SIGNAL_DEPTH = 10  # the dense side's best documents its language share and score spread are read from
NEAREST = 5  # documents whose tags are offered as topics when nothing reached the floor
TOPICS = 6


@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    tag: str | None = None
    author: str | None = None
    lang: str | None = None
    date_from: str | None = None
    date_to: str | None = None

    def active(self) -> bool:
        return any(getattr(self, name) for name in self.__dataclass_fields__)

    def check(self) -> None:
        """InvalidInput for a date range that ends before it starts."""
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidInput(f"date_from ({self.date_from}) is after date_to ({self.date_to})")

    def accepts(self, meta: DocMeta) -> bool:
        if self.kind and meta.kind != self.kind:
            return False
        if self.lang and meta.lang != self.lang:
            return False
        if self.tag and self.tag.lower() not in meta.tags:
            return False
        if self.author and self.author.lower() not in (name.lower() for name in meta.authors):
            return False
        if self.date_from and (meta.date or "") < self.date_from:
            return False
        return not (self.date_to and (meta.date or "9999") > self.date_to)


@dataclass
class Result:
    id: str
    kind: str
    title: str
    snippet: str  # HTML: escaped text with the query's words in <mark>
    score: float
    author: str
    date: str | None
    tags: list[str]
    lang: str
    heading: str = ""


@dataclass
class Page:
    """One page of a query's results. ``total``, every page and ``facets`` come from one set: the
    documents above the floor that pass the filters, so a facet's count is the total its click gives."""

    query: str
    total: int
    took_ms: float
    results: list[Result]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # ms per phase
    answered: bool = True  # False: no document reached the floor, whatever the filters
    did_you_mean: str | None = None  # the query with unknown words corrected
    corrected_from: str | None = None  # set when the results are for ``did_you_mean``: the query as typed
    topics: list[str] = field(default_factory=list)  # when nothing was found: the tags that came closest


@dataclass
class Candidates:
    """Both sides' evidence for one query: per document its best dense and keyword score, per
    document its chunks' ``(chunk id, dense, keyword)`` scores, and what they say about how
    informative the keyword side is."""

    dense: dict[str, float] = field(default_factory=dict)
    keyword: dict[str, float] = field(default_factory=dict)
    passages: dict[str, list[tuple[int, float, float]]] = field(default_factory=dict)
    coverage: dict[str, float] = field(default_factory=dict)  # per keyword document, its best passage's
    signals: Signals = field(default_factory=Signals)
    timings: dict[str, float] = field(default_factory=lambda: dict.fromkeys(("embed", "vector", "keyword"), 0.0))


def clean_query(query: str | None, max_chars: int) -> str:
    """The query with whitespace collapsed; InvalidInput when empty or too long."""
    text = " ".join((query or "").split())
    if not text:
        raise InvalidInput("the search query is empty: type a few words")
    if len(text) > max_chars:
        raise InvalidInput(f"the search query is {len(text)} characters long; the limit is {max_chars}")
    return text


def check_page(limit: int, offset: int, mode: str = "hybrid", sort: str = "relevance") -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(f"offset must be between 0 and {MAX_OFFSET}, not {offset}")
    if mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}")
    if sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")


def result_set(found: Candidates, mode: str, profile: ModelProfile, floor: Floor) -> tuple[
        list[tuple[str, float]], float, list[tuple[str, float]]]:
    """From a query's candidates: every document fused (best first), the keyword weight used, and
    the documents that are results (in hybrid mode: the pool above ``floor``)."""
    fused, weight = fuse_for_mode(found.dense, found.keyword, found.signals, mode, profile.fusion)
    pool = result_pool(fused, found.dense, found.keyword, profile.dense_margin)
    if mode == "hybrid":
        pool = above_floor(pool, strengths(found.dense, found.coverage, floor), floor)
    return fused, weight, pool


class Searcher:
    """Search over one published generation: its vector search, chunk owners, terms and metadata."""

    def __init__(self, storage: Storage, generation: int, vectors: VectorSearch, queries: QueryCache,
                 profile: ModelProfile, previous: TermIndex | None = None) -> None:
        """``previous`` is the term index of the generation this one replaces, if at hand: a
        generation that only added and removed a few chunks (a note, a nightly run) extends it."""
        self.storage = storage
        self.generation = generation
        self.vectors = vectors
        self.queries = queries
        self.profile = profile
        with storage.snapshot():
            self.meta: dict[str, DocMeta] = storage.documents_meta()
            chunk_ids, owners = storage.chunk_owners()
            self.terms = term_index_for(storage.chunk_terms, chunk_ids, previous)
        self.owner = dict(zip(chunk_ids.tolist(), owners, strict=True))
        self.chunks_of: dict[str, list[int]] = {}
        for chunk, doc in self.owner.items():
            self.chunks_of.setdefault(doc, []).append(chunk)
        self.chunk_count = max(1, len(owners))
        self.analyzer = Analyzer(self.terms.terms())
        self.facets = FacetTable(self.meta)
        self.visibility = Visibility(self.meta)
        self._visible_chunks: dict[tuple, np.ndarray] = {}
        self._positions: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.speller = Speller(self.terms, self.analyzer, self._passage)  # reads its word list on first need

    def search(self, query: str, filters: Filters, limit: int, offset: int, mode: str = "hybrid",
               sort: str = "relevance", as_typed: bool = False, floor: Floor | None = None,
               reader: Reader = ANYONE) -> Page:
        """One page of results, each document once, with its best passage highlighted. The set of
        results does not depend on the page, the filters only narrow it, and ``offset`` and
        ``limit`` only cut it. When the query as typed finds nothing and a spelling correction of
        it does, the page holds the correction's results (unless ``as_typed``). Only documents
        ``reader`` may see take part, inside both candidate searches."""
        started = time.perf_counter()
        check_page(limit, offset, mode, sort)
        filters.check()
        floor = floor or require_floor(self.profile)
        visible = self.visible_chunks(reader)
        page = self._search(query, filters, limit, offset, mode, sort, floor, visible)
        if mode == "hybrid":
            page.did_you_mean = self.speller.suggest(query, self._row_mask(reader, visible))
            if page.did_you_mean and not page.answered and not as_typed:
                corrected = self._search(page.did_you_mean, filters, limit, offset, mode, sort, floor, visible)
                if corrected.answered:
                    corrected.did_you_mean, corrected.corrected_from = page.did_you_mean, query
                    corrected.timings = {key: value + page.timings.get(key, 0.0)  # both searches' phases
                                         for key, value in corrected.timings.items()}
                    page = corrected
        page.took_ms = (time.perf_counter() - started) * 1000
        page.timings["rest"] = page.took_ms - sum(page.timings.values())
        return page

    def _search(self, query: str, filters: Filters, limit: int, offset: int, mode: str, sort: str,
                floor: Floor, visible: np.ndarray | None) -> Page:
        groups = self.analyzer.query_terms(query)
        found = self.candidates(query, mode, CANDIDATES, None, groups, visible)
        tick = time.perf_counter()
        fused, weight, pool = result_set(found, mode, self.profile, floor)
        matches = pool if not filters.active() else [(doc, score) for doc, score in pool
                                                     if filters.accepts(self.meta[doc])]
        if sort == "newest":
            # stable: within a day, the better match first
            matches.sort(key=lambda match: self.meta[match[0]].date or "", reverse=True)
        page = matches[offset : offset + limit]
        fusion = time.perf_counter() - tick
        best = best_passages(page, found.passages, weight, found.keyword)
        rows = self.storage.chunks(best.values())
        seen: dict[str, bool] = {}
        results = [self._result(doc, score, rows.get(best.get(doc)), groups, seen) for doc, score in page]
        timings = {key: value * 1000 for key, value in {**found.timings, "fusion": fusion}.items()}
        return Page(query, len(matches), 0.0, results, self.facets.count([doc for doc, _ in matches]), timings,
                    answered=bool(pool), topics=[] if pool else self.nearest_topics(fused))

    def browse(self, filters: Filters, limit: int, offset: int, reader: Reader = ANYONE) -> Page:
        """Every document that passes the filters (a tag or a person, without words) and that
        ``reader`` may see, newest first."""
        started = time.perf_counter()
        check_page(limit, offset)
        filters.check()
        visible = self.visibility.documents(reader)
        matches = sorted((doc for doc, meta in self.meta.items()
                          if filters.accepts(meta) and (visible is None or doc in visible)),
                         key=lambda doc: (self.meta[doc].date or "", doc), reverse=True)
        page = matches[offset : offset + limit]
        rows = self.storage.chunks(min(self.chunks_of[doc]) for doc in page if doc in self.chunks_of)
        first = {row.doc_id: row for row in rows.values()}
        results = [self._result(doc, 0.0, first.get(doc), [], {}) for doc in page]
        return Page("", len(matches), (time.perf_counter() - started) * 1000, results, self.facets.count(matches))

    def nearest_topics(self, fused: list[tuple[str, float]]) -> list[str]:
        """The tags of the documents that came closest, when none was close enough."""
        counts = Counter(tag for doc, _ in fused[:NEAREST] for tag in self.meta[doc].tags)
        return [tag for tag, _ in counts.most_common(TOPICS)]

    def _passage(self, chunk_id: int) -> str:
        row = self.storage.chunks([chunk_id]).get(chunk_id)
        return f"{self.meta[row.doc_id].title} {row.heading} {row.text}" if row else ""

    def _visible_rows(self, visible: np.ndarray) -> np.ndarray:
        """The term index rows of a reader's visible chunks (``visible_chunks``), kept with them."""
        kept = self._positions.get(id(visible))
        if kept is not None and kept[0] is visible:
            return kept[1]
        rows = self.terms.positions(visible)
        if len(self._positions) >= Visibility.REMEMBERED:
            self._positions.clear()
        self._positions[id(visible)] = (visible, rows)
        return rows

    def _row_mask(self, reader: Reader, visible: np.ndarray | None) -> np.ndarray | None:
        """``visible`` as a mask over the term index's rows (for the speller), kept per reader."""
        if visible is None:
            return None
        key = ("rows", reader.key)
        mask = self._visible_chunks.get(key)
        if mask is None:
            mask = np.zeros(len(self.terms), dtype=bool)
            mask[self.terms.positions(visible)] = True
            self._visible_chunks[key] = mask
        return mask

    def visible_chunks(self, reader: Reader) -> np.ndarray | None:
        """The chunk ids of the documents ``reader`` may see (sorted), or None for all of them."""
        documents = self.visibility.documents(reader)
        if documents is None:
            return None
        key = reader.key
        chunks = self._visible_chunks.get(key)
        if chunks is None:
            chunks = np.sort(np.array([c for doc in documents for c in self.chunks_of.get(doc, ())], dtype=np.int64))
            if len(self._visible_chunks) >= Visibility.REMEMBERED:
                self._visible_chunks.clear()
            self._visible_chunks[key] = chunks
        return chunks

    def candidates(self, query: str, mode: str = "hybrid", depth: int = CANDIDATES, filters: Filters | None = None,
                   groups: list[set[str]] | None = None, visible: np.ndarray | None = None) -> Candidates:
        """The ``depth`` best chunks of each side that ``mode`` uses, grouped per document; only
        chunks that pass ``filters`` and are among the ``visible`` ones (None: all)."""
        found = Candidates()
        groups = self.analyzer.query_terms(query) if groups is None else groups
        allowed = self._allowed(filters or Filters())
        if visible is not None:
            allowed = visible if allowed is None else np.intersect1d(allowed, visible)
        if allowed is not None and not len(allowed):
            return found
        if mode in ("hybrid", "dense"):
            tick = time.perf_counter()
            vector = self.queries.vector(query)
            found.timings["embed"] = time.perf_counter() - tick
            tick = time.perf_counter()
            scores, ids = self.vectors.search(vector, min(depth, self.chunk_count), allowed)
            if allowed is not None:  # whatever the index does with the filter, nothing else passes
                keep = np.isin(ids, allowed)
                scores, ids = scores[keep], ids[keep]
            hits = [(i, self.owner[i], s) for s, i in zip(scores.tolist(), ids.tolist(), strict=True)
                    if i in self.owner]
            found.dense = {doc: score for doc, (score, _) in group_best(hits).items()}
            for chunk_id, doc, score in hits:
                found.passages.setdefault(doc, []).append((chunk_id, score, 0.0))
            found.timings["vector"] = time.perf_counter() - tick
        if mode in ("hybrid", "keyword"):
            tick = time.perf_counter()
            within = (None if allowed is None else self._visible_rows(allowed) if allowed is visible
                      else self.terms.positions(allowed))
            found_chunks = self.terms.search(groups, depth, within)
            hits = [(chunk_id, self.owner[chunk_id], score) for chunk_id, score in found_chunks]
            best = group_best(hits)
            found.keyword = {doc: score for doc, (score, _) in best.items()}
            for chunk_id, doc, score in hits:
                found.passages.setdefault(doc, []).append((chunk_id, 0.0, score))
            if best:
                chunks = np.array([chunk for _, chunk in best.values()], dtype=np.int64)
                found.coverage = dict(zip(best, self.terms.coverage(groups, chunks).tolist(), strict=True))
            if mode == "hybrid" and best:
                coverage = found.coverage[max(best, key=lambda doc: best[doc])]
                best_documents = ranking(found.dense)[:SIGNAL_DEPTH]
                spread = [found.dense[doc] for doc in best_documents]
                found.signals = Signals(coverage, self._same_language(query, best_documents),
                                        spread[0] - spread[-1] if spread else 1.0)
            found.timings["keyword"] = time.perf_counter() - tick
        return found

    def _allowed(self, filters: Filters) -> np.ndarray | None:
        """The chunk ids of the documents that pass the filters, or None when nothing is filtered."""
        if not filters.active():
            return None
        documents = [doc for doc, meta in self.meta.items() if filters.accepts(meta)]
        return np.array([chunk for doc in documents for chunk in self.chunks_of.get(doc, ())], dtype=np.int64)

    def _same_language(self, query: str, best: list[str]) -> float:
        """Share of the ``best`` dense documents written in the query's language (1 when the query
        does not show its language)."""
        language = detect_language(query, default="")
        if not language or not best:
            return 1.0
        return sum(self.meta[doc].lang == language for doc in best) / len(best)

    def _result(self, doc: str, score: float, chunk, groups, seen: dict[str, bool]) -> Result:
        meta = self.meta[doc]
        text = chunk.text if chunk else meta.title
        return Result(
            id=doc, kind=meta.kind, title=meta.title,
            snippet=highlight(_trim(text, SNIPPET_CHARS), groups, self.analyzer, seen),
            score=round(float(score), 4), author=", ".join(meta.authors), date=meta.date,
            tags=list(meta.tags), lang=meta.lang, heading=chunk.heading if chunk else "",
        )


def _trim(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut between words."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + " …"
