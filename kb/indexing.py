"""The write path: decide what changed, chunk and embed it, and publish it as one new generation.

``IndexWriter`` is its one owner. An index run tells it which documents are present (the scan
of the content folder); a note tells it which document is new. The writer compares content
hashes with the store (read once when a run starts, and again in the publishing transaction,
where they decide) and decides what is added, updated, left alone and removed.
Embedding happens first, outside any lock, through the cache: a chunk whose text this model
embedded before is not embedded again, and fresh vectors are cached at once, so a killed run
loses none of them. Then the storage publishes the changes as one generation, or none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from kb.chunking import Chunk, chunk_document
from kb.config import Settings
from kb.documents import Document
from kb.embeddings import Embedder
from kb.errors import IndexMismatch
from kb.keyword import Analyzer, stem, tokens
from kb.storage import Build, Publication, Storage

EMBED_BATCH = 64  # passages per embedding call; the cache is written after each
Progress = Callable[[int, int, int], None]  # (passages embedded so far, passages to embed, passages from the cache)


@dataclass(frozen=True)
class Plan:
    """What one write does: documents to (re)index, ids to drop, and how many stay as they are."""

    upserts: list[Document]
    removals: list[str]
    known: dict[str, str]  # the content hashes the plan was made from
    unchanged: int
    full: bool


def plan_changes(known: dict[str, str], present: list[Document], kept: frozenset[str] = frozenset(),
                 full: bool = False, complete: bool = True) -> Plan:
    """Compare ``present`` documents with the ``known`` content hashes.

    A ``complete`` list (an index run's scan) removes every known document that is neither
    present nor ``kept`` (its file is there but did not load: its last good version stays). A
    ``full`` plan re-indexes every present document; otherwise unchanged hashes are left alone.
    """
    upserts = present if full else [doc for doc in present if known.get(doc.id) != doc.content_hash]
    unchanged = 0 if full else len(present) - len(upserts)
    ids = {doc.id for doc in present}
    removals = sorted(set(known) - ids - kept) if complete else []
    return Plan(upserts, removals, known, unchanged, full)


@dataclass(frozen=True)
class Applied:
    """What a write did."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded: int = 0
    cached: int = 0
    generation: int = 0


class IndexWriter:
    """Builds, embeds and publishes generations for one knowledge base."""

    def __init__(self, storage: Storage, settings: Settings, embedder: Callable[[], Embedder]) -> None:
        """``embedder`` gives the model, loaded only when something needs embedding."""
        self.storage = storage
        self.settings = settings
        self._embedder = embedder

    @contextmanager
    def run(self) -> Iterator[IndexRun]:
        """One index run: holds the run lock, and reads the stored hashes before the folder is
        scanned, so that a note added while the run works is never taken for a removed file."""
        with self.storage.run_lock():
            yield IndexRun(self, self.storage.hashes())

    def add(self, documents: list[Document]) -> Applied:
        """Index ``documents`` now (a note, a test's documents); nothing else is removed."""
        return self.write(plan_changes(self.storage.hashes(), documents, complete=False))

    def write(self, plan: Plan, progress: Progress | None = None,
              after_embedding: Callable[[], None] | None = None) -> Applied:
        """Carry out ``plan`` as one new generation (nothing to do: no new generation)."""
        if not plan.full:
            self._check_build()
        if not plan.full and not plan.upserts and not plan.removals:
            return Applied(unchanged=plan.unchanged, generation=self.storage.generation())
        chunked = {doc.id: chunk_document(doc, self.settings.chunk_words) for doc in plan.upserts}
        vectors, dim, embedded, cached = self._embed(chunked, progress)
        if after_embedding:
            after_embedding()
        build = Build(self.settings.model, dim, self.settings.chunk_words)
        adding = sum(len(chunks) for chunks in chunked.values())
        with self.storage.publish(plan.full, adding, build) as publication:
            stored = publication.hashes()
            # A note saved while this run worked may have taken a removed document's id, or be
            # one of the upserts already: what the store holds now decides.
            removals = [doc_id for doc_id in plan.removals if stored.get(doc_id) == plan.known[doc_id]]
            upserts = [doc for doc in plan.upserts if plan.full or stored.get(doc.id) != doc.content_hash]
            for doc_id in removals:
                publication.remove(doc_id)
            analyzer = self._analyzer(publication, plan.full, upserts, chunked)
            for doc in upserts:
                chunks = chunked[doc.id]
                publication.put(doc, chunks, [_terms(analyzer, doc, chunk) for chunk in chunks],
                                [vectors[chunk.hash] for chunk in chunks])
        updated = sum(1 for doc in upserts if doc.id in stored)
        return Applied(added=len(upserts) - updated, updated=updated, removed=len(removals),
                       unchanged=plan.unchanged + len(plan.upserts) - len(upserts), embedded=embedded,
                       cached=cached, generation=publication.generation)

    def _check_build(self) -> None:
        """An incremental write must not mix models or chunk sizes in one index."""
        build = self.storage.build()
        if build is None:
            return
        if build.model != self.settings.model or build.chunk_words != self.settings.chunk_words:
            raise IndexMismatch(
                f"the index was built with model={build.model!r}, chunk_words={build.chunk_words} but the "
                f"settings say model={self.settings.model!r}, chunk_words={self.settings.chunk_words}; "
                "run `make reindex` (kb index --full)"
            )

    def _embed(self, chunked: dict[str, list[Chunk]], progress: Progress | None
               ) -> tuple[dict[str, np.ndarray], int, int, int]:
        """(vector by chunk hash, dimension, passages embedded, passages from the cache). The
        cache key is the exact text, so a full run reuses it too."""
        model = self.settings.model
        texts = {chunk.hash: chunk.embed_text for chunks in chunked.values() for chunk in chunks}
        vectors = self.storage.cached_vectors(model, texts) if texts else {}
        missing = [digest for digest in texts if digest not in vectors]
        if progress:
            progress(0, len(missing), len(texts) - len(missing))
        live = self.storage.build()
        dim = live.dim if live is not None and live.model == model else 0
        if missing or not dim:
            embedder = self._embedder()
            dim = embedder.dim
            for start in range(0, len(missing), EMBED_BATCH):
                batch = missing[start : start + EMBED_BATCH]
                fresh = dict(zip(batch, embedder.embed_passages([texts[d] for d in batch]), strict=True))
                self.storage.cache_vectors(model, fresh)
                vectors.update(fresh)
                if progress:
                    progress(start + len(batch), len(missing), len(texts) - len(missing))
        return vectors, dim, len(missing), len(texts) - len(missing)

    @staticmethod
    def _analyzer(publication: Publication, full: bool, upserts: list[Document],
                  chunked: dict[str, list[Chunk]]) -> Analyzer:
        """Compound splitting knows the stored stems and those of the new documents. A full write
        knows only its own documents' words, so it gives the same index terms as a first index
        in an empty data folder, whatever earlier runs left in the vocabulary."""
        analyzer = Analyzer(() if full else publication.vocabulary())
        analyzer.learn(stem(token, doc.lang) for doc in upserts for chunk in chunked[doc.id]
                       for token in tokens(chunk.embed_text))
        return analyzer


class IndexRun:
    """An index run in progress (see ``IndexWriter.run``)."""

    def __init__(self, writer: IndexWriter, known: dict[str, str]) -> None:
        self.writer = writer
        self.known = known

    def apply(self, present: list[Document], kept: frozenset[str] = frozenset(), full: bool = False,
              progress: Progress | None = None,
              after_embedding: Callable[[], None] | None = None) -> Applied:
        """Make the index hold exactly the ``present`` documents (and the ``kept`` ids' last good
        versions); ``full`` rebuilds everything, with vectors from the cache."""
        plan = plan_changes(self.known, present, kept, full)
        return self.writer.write(plan, progress, after_embedding)


def _terms(analyzer: Analyzer, doc: Document, chunk: Chunk) -> tuple[str, str]:
    heading = chunk.heading if doc.kind != "forum" else ""
    return analyzer.index_terms(doc.title, doc.lang), analyzer.index_terms(heading + "\n" + chunk.text, doc.lang)
