"""The knowledge base as one object: store, model and index, loaded lazily, swapped per generation.

The web app and the CLI both work through ``KnowledgeBase``. The embedding model loads on first
need; the vector index of the latest published generation loads on first search and is replaced
when a newer generation is published (by the nightly run or a note), without a restart.
"""

from __future__ import annotations

import json
import threading

from kb.config import Settings
from kb.documents import Document
from kb.embeddings import Embedder, QueryCache, load_embedder
from kb.errors import IndexMissing, NotFound
from kb.fusion import FusionParams
from kb.indexing import Applied, Changes, apply_changes, build_record
from kb.layout import Layout
from kb.related import Related
from kb.search import Filters, Page, Searcher
from kb.store import Store
from kb.vector_index import VectorIndex


class KnowledgeBase:
    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 params: FusionParams | None = None) -> None:
        self.settings = settings
        self.layout = Layout(settings.data_dir)
        self.params = params
        self._embedder = embedder
        self._queries: QueryCache | None = None
        self._searcher: Searcher | None = None
        self._related: Related | None = None
        self._local = threading.local()
        self._lock = threading.RLock()

    # resources -------------------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = load_embedder(self.settings.model)
            return self._embedder

    def store(self) -> Store:
        """This thread's connection to the store (SQLite connections are not shared across threads)."""
        store = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = Store(self.layout.database)
        return store

    def close(self) -> None:
        store = getattr(self._local, "store", None)
        if store is not None:
            store.close()
            self._local.store = None

    def searcher(self) -> Searcher:
        """The searcher of the latest published generation, loaded once per generation."""
        store = self.store()
        generation = store.generation()
        current = self._searcher
        if current is not None and current.generation == generation:
            return current
        with self._lock:
            if self._searcher is not None and self._searcher.generation == generation:
                return self._searcher
            if generation == 0:
                raise IndexMissing("nothing is indexed yet; run `make index` (kb index)")
            generation, index = self._load_index(store, generation)
            if self._queries is None or self._queries.embedder is not self.embedder:
                self._queries = QueryCache(self.embedder)
            # only a later generation of the same store builds on the previous term index
            previous = self._searcher.terms if self._searcher is not None and generation > self._searcher.generation else None
            self._searcher = Searcher(store, index, self._queries, self.settings.model, generation,
                                      self.params, self.settings.max_query_chars, previous)
            return self._searcher

    def _load_index(self, store: Store, generation: int) -> tuple[int, VectorIndex]:
        """The vector index of ``generation``, or of a newer one when runs or notes published
        newer generations and pruned this one while it was being opened."""
        while True:
            # built with the settings' model: VectorIndex.load reports an index of another model
            record = build_record(self.settings, self.settings.model, int(store.get_meta("dim", "0")))
            try:
                return generation, VectorIndex.load(self.layout.generation_file(generation), record)
            except (IndexMissing, OSError, RuntimeError):
                newer = store.generation()
                if newer == generation:
                    raise
                generation = newer

    def related(self) -> Related:
        """Related learning for the latest generation, built once per generation."""
        store = self.store()
        generation = store.generation()
        with self._lock:
            if self._related is None or self._related.generation != generation:
                model = store.get_meta("model") or self.settings.model
                with store.snapshot():
                    self._related = Related(store, model, generation)
            return self._related

    # operations ------------------------------------------------------------------------------

    def search(self, query: str, filters: Filters | None = None, limit: int | None = None, offset: int = 0,
               mode: str = "hybrid") -> Page:
        limit = self.settings.top_k if limit is None else limit
        return self.searcher().search(self.store(), query, filters or Filters(), limit, offset, mode)

    def document(self, doc_id: str) -> Document:
        doc = self.store().get_document(doc_id)
        if doc is None:
            raise NotFound(f"no document with id {doc_id!r}")
        return doc

    def apply(self, changes: Changes, **options) -> Applied:
        """Index changes now (used by notes and by the indexer pipeline)."""
        return apply_changes(self.settings, changes, lambda: self.embedder, **options)

    def add_document(self, doc: Document) -> Applied:
        """Index one document at once; it is searchable when this returns."""
        return self.apply(Changes(upserts=[doc]))

    def health(self) -> dict:
        store = self.store()
        documents, chunks = store.counts()
        generation = store.generation()
        health = {
            "status": "ok" if generation else "empty",
            "documents": documents,
            "chunks": chunks,
            "model": store.get_meta("model") or self.settings.model,
            "index_generation": generation,
        }
        if self.layout.last_run.exists():  # the summary the last index run wrote
            try:
                last = json.loads(self.layout.last_run.read_text())
                health["last_run"] = {key: last.get(key) for key in ("finished_at", "seconds", "added", "updated",
                                                                     "removed", "embedded")}
                health["last_run"]["skipped"] = len(last.get("skipped", []))
            except (OSError, ValueError):
                pass
        return health
