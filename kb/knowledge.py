"""The knowledge base as one object: the door through which the web app, the CLI and the tools work.

``KnowledgeBase`` owns its storage, its model and its index writer; callers ask it and never
hand its parts back to it. The embedding model loads on first need; the searcher and the
related-learning answers of the latest published generation load on first use and are
replaced when a newer generation is published (by the nightly run or a note), without a restart.
"""

from __future__ import annotations

import atexit
import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TypeVar

import numpy as np

from kb import agenda
from kb.audience import ANYONE, EVERYONE, Reader, Visibility
from kb.config import Settings
from kb.documents import Document, is_valid_id, markdown_document
from kb.embeddings import Embedder, QueryCache
from kb.errors import IndexMissing, NotFound
from kb.fusion import NO_FLOOR, Floor, FusionParams
from kb.indexing import Applied, IndexRun, IndexWriter
from kb.language import detect_language
from kb.notes import note_fields, note_file, validate_note
from kb.profiles import ModelProfile, load_embedder, profile_for, require_floor, with_floor
from kb.related import Related, RelatedParams
from kb.search import CANDIDATES, Candidates, Filters, Page, Searcher, clean_query
from kb.search_log import SearchLog, entry, normalise_query
from kb.storage import Build, DocMeta, open_storage

T = TypeVar("T")
ANYONE_AUDIENCE = (EVERYONE,)
WARM_UP = "kennissessie feedback onboarding"  # the search a worker runs before it serves
AGENDA_SECONDS = 30  # an agenda is computed at most this often per reader (the home page shows it)


class KnowledgeBase:
    """Everything one knowledge base answers and accepts, over the storage its settings choose.

    One per process (the web app keeps one per worker); safe to share between threads.
    """

    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 fusion: FusionParams | None = None) -> None:
        """``embedder`` replaces the configured model (tests, benchmarks); ``fusion`` replaces
        the profile's fusion settings (tuning)."""
        self.settings = settings
        profile = with_floor(profile_for(settings.model), settings.relevance_floor)
        self.profile: ModelProfile = profile if fusion is None else replace(profile, fusion=fusion)
        self._storage = open_storage(settings)
        self._writer = IndexWriter(self._storage, settings, lambda: self.embedder)
        self._embedder = embedder
        self._queries = QueryCache(lambda: self.embedder)
        self._searcher: Searcher | None = None
        self._related: Related | None = None
        self._catalog: Catalog | None = None
        self._lock = threading.RLock()  # loading a generation's searcher, related learning, catalog
        self._log = SearchLog(self._store_log) if settings.search_log == "on" else None
        self._agendas: dict[tuple, tuple[float, dict]] = {}  # (days, reader, limit) -> (when, answer)
        self._vectors_logged: set[str] = set()  # queries whose vector this process has handed to the log
        if self._log is not None:
            atexit.register(self._log.flush, 2.0)  # a worker that stops stores what it logged last
        self._model_lock = threading.Lock()  # loading the model
        self._warm = False  # warm() done: the model and index are loaded and have run

    def _store_log(self, searches: list, opened: list[tuple[str, str]]) -> None:
        self._storage.log_searches(searches, opened, self.settings.model)

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use."""
        embedder = self._embedder
        if embedder is not None:
            return embedder
        with self._model_lock:
            if self._embedder is None:
                self._embedder = load_embedder(self.settings.model)
            return self._embedder

    def relevance_floor(self) -> Floor:
        """The floor searches apply; ConfigError for a model without one (the web app checks at start)."""
        return require_floor(self.profile)

    def close(self) -> None:
        """Release this thread's connection to the store (the web app does so after each request)."""
        self._storage.close()

    def shutdown(self) -> None:
        """Close the store for good: every connection (tests and tools that open many), after
        the logged searches are stored."""
        self.flush_search_log()
        self._storage.shutdown()

    def load(self) -> None:
        """Load the model and the live index now rather than on the first search."""
        self._current_searcher()
        self.embedder  # noqa: B018 - loads the model

    def warm(self) -> None:
        """Load everything a first request needs (model, index, related learning, the catalog)
        and run the model and a search once, so that their first real use costs what any other
        does; ``ready`` in ``health`` from then on. IndexMissing before the first index run."""
        self.load()
        page = self.search(WARM_UP)  # not logged: only the search page logs
        self.learn_more([r.id for r in page.results])
        self.topics()
        self._warm = True

    # reading ----------------------------------------------------------------------------------

    def search(self, query: str, filters: Filters | None = None, limit: int | None = None, offset: int = 0,
               mode: str = "hybrid", sort: str = "relevance", as_typed: bool = False,
               floor: Floor | None = None, reader: Reader = ANYONE) -> Page:
        """One page of results for ``query``, sorted by relevance or newest first; with ``as_typed``
        never the results of a spelling correction. ``floor`` replaces the model's (evaluation
        compares with none). Only what ``reader`` may see is found, counted or suggested.
        InvalidInput for an empty query or a bad page."""
        searcher = self._current_searcher()
        text = clean_query(query, self.settings.max_query_chars)
        limit = self.settings.top_k if limit is None else limit
        return searcher.search(text, filters or Filters(), limit, offset, mode, sort, as_typed, floor, reader)

    def browse(self, filters: Filters, limit: int | None = None, offset: int = 0, reader: Reader = ANYONE) -> Page:
        """Every document that passes ``filters`` (a tag or a person without words) and that
        ``reader`` may see, newest first."""
        limit = self.settings.top_k if limit is None else limit
        return self._current_searcher().browse(filters, limit, offset, reader)

    def candidates(self, query: str, mode: str = "hybrid", depth: int = CANDIDATES) -> Candidates:
        """Both sides' candidates for ``query`` before fusion (for tuning the fusion)."""
        return self._current_searcher().candidates(clean_query(query, self.settings.max_query_chars), mode, depth)

    # the search log -----------------------------------------------------------------------------

    def record_search(self, page: Page, reader: Reader = ANYONE) -> str | None:
        """Log a search a colleague made (not who made it), off the request path; its id, for
        telling later which result was opened, or None when it is not logged. The query's vector,
        which the search computed, is kept with it for the agenda. A search that found something
        not everyone may see is not logged: its words could tell what a private or team document
        holds, and the agenda is for everyone."""
        if self._log is None:
            return None
        if reader.principals != ANYONE.principals:
            meta = self._current_catalog().meta
            if any(tuple(meta[r.id].audience) != ANYONE_AUDIENCE for r in page.results if r.id in meta):
                return None
        best = page.results[0].score if page.results else None
        query = normalise_query(page.corrected_from or page.query)
        vector = None
        if query not in self._vectors_logged:  # a question's meaning is kept once, not with every search
            vector = self._queries.cached(page.query)
            if len(self._vectors_logged) >= 100_000:
                self._vectors_logged.clear()
            self._vectors_logged.add(query)
        logged = entry(query, detect_language(page.query, default="") or "", page.total, best, vector=vector)
        self._log.record(logged)
        return logged.id

    def record_opened(self, search_id: str, doc_id: str) -> None:
        """Log that a result of a logged search was opened (logged searches found only documents
        everyone may see, so any other is ignored)."""
        if self._log is None or not (is_valid_id(doc_id) and len(search_id) == 32 and search_id.isalnum()):
            return
        meta = self._current_catalog().meta.get(doc_id)
        if meta is not None and tuple(meta.audience) == ANYONE_AUDIENCE:
            self._log.opened(search_id, doc_id)

    def flush_search_log(self) -> None:
        """Wait until the logged searches are stored (tests, and before a process ends)."""
        if self._log is not None:
            self._log.flush()

    def prune_search_log(self, now: dt.datetime | None = None) -> int:
        """Forget searches older than ``KB_SEARCH_LOG_DAYS`` (the nightly run does); how many."""
        before = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=self.settings.search_log_days)
        return self._storage.prune_searches(before.replace(microsecond=0).isoformat())

    def logged_searches(self, days: int, now: dt.datetime | None = None) -> list[agenda.PastSearch]:
        """The searches of the last ``days``, oldest first."""
        since = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=days)
        rows = self._storage.searches(since.replace(microsecond=0).isoformat())
        return [agenda.PastSearch(at, query, results, best, opened) for _, at, query, _, results, best, opened in rows]

    def gaps(self, asked: list[agenda.Asked], join: float | None = None) -> list[agenda.Gap]:
        """Distinct questions' misses grouped by meaning, most asked first (the agenda, and its
        evaluation); ``join`` replaces the model's (calibration)."""
        return self._grouped(asked, join)[0]

    def _grouped(self, asked: list[agenda.Asked], join: float | None = None
                 ) -> tuple[list[agenda.Gap], dict[str, np.ndarray]]:
        """The gaps, and the unit vector of each question that missed (for their nearest content)."""
        vectors = self._query_vectors({a.query for a in asked if a.missed})
        return agenda.group(asked, vectors, self.profile.agenda_join if join is None else join), vectors

    def _asked(self, days: int, now: dt.datetime | None = None) -> list[agenda.Asked]:
        """The distinct questions of the last ``days``, summed up by the store."""
        now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        since, week_ago = now - dt.timedelta(days=days), now - dt.timedelta(days=7)
        return [agenda.Asked(*row) for row in self._storage.asked(since.isoformat(), week_ago.isoformat())]

    def agenda(self, days: int = 30, reader: Reader = ANYONE, limit: int = 20,
               now: dt.datetime | None = None, fresh: bool = False) -> dict:
        """The learning agenda of the last ``days``: the logged searches that missed, grouped by
        meaning into gaps, each with its closest content and colleagues who could host a session
        on it (from what ``reader`` may see), and its status. Queries asked fewer than
        ``KB_AGENDA_MIN_COUNT`` times are counted but never shown. The answer is kept for
        ``AGENDA_SECONDS`` (the home page shows it too) unless ``fresh``."""
        key = (days, reader, limit)
        with self._lock:
            kept = self._agendas.get(key)
        if kept and not fresh and now is None and time.monotonic() - kept[0] < AGENDA_SECONDS:
            return kept[1]
        asked = self._asked(days, now)
        gaps, vectors = self._grouped(asked)
        plans, key = self._storage.plans(), self.secret_key()
        answer = {"window_days": days, "searches": sum(a.searches for a in asked),
                  "gaps": [self._gap(gap, days, plans, key, vectors, reader) for gap in gaps[:limit]]}
        if now is None:
            with self._lock:
                self._agendas[key] = (time.monotonic(), answer)
                while len(self._agendas) > 64:
                    self._agendas.pop(next(iter(self._agendas)))
        return answer

    def plan_session(self, gap_id: str, days: int = 30, reader: Reader = ANYONE) -> dict:
        """Mark a gap of the agenda as planned: a session on it is being prepared. The gap as the
        agenda shows it now, with what a note form about it starts from (``prefill``: title,
        tags, speakers). NotFound when no gap of the last ``days`` has this id."""
        plans, key = self._storage.plans(), self.secret_key()
        gaps, vectors = self._grouped(self._asked(days))
        for gap in gaps:
            if self._gap_id(gap, plans, key) != gap_id:
                continue
            shown = self._gap(gap, days, plans, key, vectors, reader)
            if shown["status"] == "open":
                now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
                self._storage.plan_gap(gap_id, now, gap.founder, sorted(gap.queries))
                shown = {**shown, "status": "planned", "planned_at": now}
                with self._lock:
                    self._agendas.clear()
            return {**shown, "prefill": self._prefill(shown, reader)}
        raise NotFound(f"no gap {gap_id!r} on the agenda of the last {days} days")

    @staticmethod
    def _gap_id(gap: agenda.Gap, plans: list, key: str) -> str:
        """The plan's id for a planned gap, else one derived from its most asked question."""
        plan = agenda.plan_for(gap, plans)
        return plan[0] if plan else agenda.gap_id(key, gap.founder)

    def _gap(self, gap: agenda.Gap, days: int, plans: list, key: str, vectors: dict[str, np.ndarray],
             reader: Reader) -> dict:
        shown = gap.shown(self.settings.agenda_min_count)
        near = self._nearest(gap, vectors.get(gap.founder), reader)
        hosts = self.learn_more([r["id"] for r in near], reader)["people"] if near else []
        plan = agenda.plan_for(gap, plans)
        if gap.answered_at and gap.answered_by is None:  # the store sums up without it: look it up
            gap.answered_by = self._storage.opened_at(gap.answered_query, gap.answered_at)
        status = "answered" if gap.answered_at else "planned" if plan else "open"
        answered_by = None
        if gap.answered_by:
            title = self.titles([gap.answered_by], reader).get(gap.answered_by)
            answered_by = {"id": gap.answered_by, "title": title} if title else None
        return {"id": self._gap_id(gap, plans, key),
                "label": shown[0] if shown else None, "searches": gap.searches, "queries": len(gap.queries),
                "first_asked": gap.first_asked, "last_asked": gap.last_asked, "examples": shown[:5],
                "nearest": near, "hosts": hosts, "rising": agenda.rising(gap, days), "status": status,
                "planned_at": plan[1] if plan else None, "answered_at": gap.answered_at,
                "answered_by": answered_by}

    def _nearest(self, gap: agenda.Gap, vector: np.ndarray | None, reader: Reader) -> list[dict]:
        """The three documents closest to a gap's most asked query, however weak; ``vector`` is
        that query's, as the log kept it (so the model does not run again)."""
        text = clean_query(gap.founder, self.settings.max_query_chars)
        if vector is not None and self._queries.cached(text) is None:
            self._queries.put(text, vector)
        page = self.search(text, limit=3, reader=reader, floor=NO_FLOOR)
        return [{"id": r.id, "title": r.title, "tags": r.tags} for r in page.results]

    def _prefill(self, gap: dict, reader: Reader) -> dict:
        """A note form about a gap: its question as the title, the tags its nearest documents
        share, its possible hosts as speakers."""
        tags = Counter(tag for item in gap["nearest"] for tag in item["tags"])
        return {"title": gap["label"] or "", "tags": [tag for tag, count in tags.most_common(3) if count > 1],
                "speakers": [host["name"] for host in gap["hosts"][:3]]}

    def _query_vectors(self, queries: set[str]) -> dict[str, np.ndarray]:
        """Unit vectors of logged queries: kept by the log, else embedded now (and kept)."""
        model = self.settings.model
        vectors = self._storage.query_vectors(model, queries)
        missing = sorted(queries - vectors.keys())
        if missing:
            fresh = dict(zip(missing, self.embedder.embed_queries(missing), strict=True))
            self._storage.keep_query_vectors(model, fresh)
            vectors.update(fresh)
        names = list(vectors)
        matrix = np.stack([vectors[name] for name in names]) if names else np.zeros((0, 1), dtype=np.float32)
        matrix = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)
        return dict(zip(names, matrix, strict=True))

    def document(self, doc_id: str, reader: Reader = ANYONE) -> Document:
        """The document with this id; NotFound for unknown ids, path-like ones, and documents
        ``reader`` may not see, alike."""
        doc = self._storage.document(doc_id) if is_valid_id(doc_id) else None
        if doc is None or not reader.can_see(tuple(doc.audience)):
            raise NotFound(f"no document with id {doc_id!r}")
        return doc

    def related(self, doc_id: str, reader: Reader = ANYONE) -> dict:
        """Related learning for a document: ``{"id", "related", "people"}``, each with its
        reasons, from what ``reader`` may see."""
        doc = self.document(doc_id, reader)
        return self._current_related().for_document(doc, reader)

    def learn_more(self, result_ids: list[str], reader: Reader = ANYONE) -> dict:
        """Sessions, threads and people around a result page's top results (none shown twice)."""
        if not result_ids:
            return {"related": [], "people": []}
        answer = self._current_related().for_results(result_ids, reader)
        return {**answer, "related": [item for item in answer["related"] if item["id"] not in result_ids]}

    def suggestions(self, doc_id: str, params: RelatedParams) -> list[tuple[str, float]]:
        """The related slate of a document under other settings (for calibrating them)."""
        return self._current_related().suggest(self.document(doc_id), params)

    def titles(self, doc_ids, reader: Reader = ANYONE) -> dict[str, str]:
        """Titles of the given documents that exist and ``reader`` may see, by id."""
        catalog = self._current_catalog()
        return {doc_id: catalog.meta[doc_id].title for doc_id in doc_ids
                if doc_id in catalog.meta and catalog.visibility.can_see(reader, doc_id)}

    def topics(self, count: int = 12, reader: Reader = ANYONE) -> list[str]:
        """The most used tags of what ``reader`` may see, commonest first (none before the first index run)."""
        catalog = self._current_catalog()
        visible = catalog.visibility.documents(reader)
        if visible is None:
            return [tag for tag, _ in catalog.tags.most_common(count)]
        tags = Counter(tag for doc in visible for tag in catalog.meta[doc].tags)
        return [tag for tag, _ in tags.most_common(count)]

    def vector_kind(self) -> str:
        """``HNSW`` or ``exact``: the kind of vector search the live generation has."""
        return "HNSW" if self._current_searcher().vectors.approximate else "exact"

    def vector_recall(self, queries: np.ndarray, k: int = 10) -> float:
        """Share of the exact ``k`` nearest passages of each query vector that the live vector
        search returns: 1.0 for exact search, below for an approximate one (``make bench``)."""
        vectors = self._current_searcher().vectors
        found = total = 0
        for query in queries:
            truth = set(vectors.exact(query, k)[1].tolist())
            found += len(truth & set(vectors.search(query, k)[1].tolist()))
            total += len(truth)
        return found / total if total else 1.0

    def passage_vectors(self) -> tuple[np.ndarray, list[str]]:
        """(vectors, document ids) of every stored passage (for tuning a model's weights)."""
        _, vectors, owners = self._storage.chunk_vectors(self.settings.model)
        return vectors, owners

    def health(self) -> dict:
        """What is served: ``{"status", "documents", "chunks", "model", "index_generation"}``,
        and the last index run's summary when there was one."""
        documents, chunks = self._storage.counts()
        generation = self._storage.generation()
        build = self._storage.build()
        health = {
            "status": "ok" if generation else "empty",
            "documents": documents,
            "chunks": chunks,
            "model": build.model if build else self.settings.model,
            "index_generation": generation,
            "ready": self._warm,
        }
        last = self._storage.last_report()
        if last is not None:
            health["last_run"] = {key: last.get(key) for key in ("finished_at", "seconds", "added", "updated",
                                                                 "removed", "embedded")}
            health["last_run"]["skipped"] = len(last.get("skipped", []))
        return health

    # writing ----------------------------------------------------------------------------------

    @contextmanager
    def index_run(self) -> Iterator[IndexRun]:
        """An index run: one at a time (``Busy`` otherwise); ``apply`` the scanned documents."""
        with self._writer.run() as run:
            yield run

    def add_documents(self, documents: list[Document]) -> Applied:
        """Index documents at once; they are searchable when this returns."""
        return self._writer.add(documents)

    def add_note(self, fields: dict, added_by: str | None = None, teams: frozenset[str] | None = None) -> Document:
        """Validate a session note (NoteInvalid lists every bad field), store its Markdown (a
        file in the content folder, or a row of the shared database) and index it: it is kept
        for good and searchable when this returns."""
        note = validate_note(fields, teams)
        stem, text = note_file(note, added_by)
        doc = markdown_document(self._storage.save_note(stem, text), text)
        self._writer.add([doc])
        return doc

    def add_note_markdown(self, text: str, added_by: str | None = None) -> Document:
        """A note given as Markdown with front matter (``kb add-note``)."""
        return self.add_note(note_fields(text), added_by)

    def stored_notes(self) -> list[tuple[str, str]]:
        """Notes the store keeps apart from the content folder, as (path, Markdown): the shared
        backend's, until they are exported; the embedded one writes notes into the folder."""
        return self._storage.stored_notes()

    def notes_exported(self, paths: list[str]) -> None:
        """These stored notes are files in the content folder now; the files count from now on."""
        self._storage.notes_exported(paths)

    def record_run(self, report: dict) -> None:
        """Keep an index run's summary (``health`` and ``kb stats`` show it)."""
        self._storage.save_report(report)

    def secret_key(self) -> str:
        """The key that signs forms when ``KB_SECRET_KEY`` is not set; created once."""
        return self.settings.secret_key or self._storage.secret_key()

    def import_embeddings(self, source: KnowledgeBase) -> int:
        """Copy ``source``'s embedding cache into this store (moving to another backend: nothing
        is embedded twice); returns the number of vectors copied."""
        copied = 0
        for model, vectors in source._storage.embedding_cache():
            self._storage.cache_vectors(model, vectors)
            copied += len(vectors)
        return copied

    def copy_to(self, data_dir) -> bool:
        """A consistent copy of the live index into another data folder (False: nothing indexed)."""
        return self._storage.copy_to(data_dir)

    # the live generation ----------------------------------------------------------------------

    def _for_generation(self, name: str, build: Callable[[int], T]) -> T:
        """What ``build(generation)`` gives for the latest published generation, built once per
        generation and kept in ``self.<name>``; read without a lock once it is there."""
        generation = self._storage.generation()
        current = getattr(self, name)
        if current is not None and current.generation == generation:
            return current
        with self._lock:
            current = getattr(self, name)
            if current is None or current.generation != generation:
                current = build(generation)
                setattr(self, name, current)
            return current

    def _current_searcher(self) -> Searcher:
        return self._for_generation("_searcher", self._new_searcher)

    def _current_related(self) -> Related:
        return self._for_generation("_related", self._new_related)

    def _current_catalog(self) -> Catalog:
        return self._for_generation("_catalog", self._new_catalog)

    def _new_searcher(self, generation: int) -> Searcher:
        if generation == 0:
            raise IndexMissing("nothing is indexed yet; run `make index` (kb index)")
        build = self._storage.build()
        # opened with the settings' model: a saved index of another model is an IndexMismatch
        generation, vectors = self._storage.vector_search(
            generation, Build(self.settings.model, build.dim if build else 0, self.settings.chunk_words))
        # only a later generation of the same store builds on the previous term index
        previous = self._searcher.terms if self._searcher and generation > self._searcher.generation else None
        return Searcher(self._storage, generation, vectors, self._queries, self.profile, previous)

    def _new_related(self, generation: int) -> Related:
        build = self._storage.build()
        model = build.model if build else self.settings.model
        # the threshold of the model the index was built with: scores are that model's
        return Related(self._storage, model, generation, RelatedParams(profile_for(model).related_threshold))

    def _new_catalog(self, generation: int) -> Catalog:
        """Titles and tag counts (no model, no index loaded)."""
        meta = self._storage.documents_meta()
        return Catalog(generation, meta, Counter(tag for m in meta.values() for tag in m.tags), Visibility(meta))


@dataclass(frozen=True)
class Catalog:
    """What pages show about documents without searching: their metadata and the tags in use."""

    generation: int
    meta: dict[str, DocMeta]
    tags: Counter
    visibility: Visibility
