"""Apply document changes to the store and the vector index, and publish a new index generation.

Embedding happens first, outside any lock (chunk vectors come from the cache when their text is
unchanged). Then, under the write lock and in one SQLite transaction, documents and chunks are
replaced, the next FAISS generation is written beside the live one, and the generation number
is committed. Until that commit, readers keep the previous generation; a crash at any point
leaves it serving.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from kb.chunking import Chunk, chunk_document
from kb.config import Settings
from kb.documents import Document
from kb.embeddings import Embedder
from kb.errors import IndexMismatch
from kb.keyword import Analyzer, stem, tokens
from kb.layout import Layout
from kb.locks import file_lock
from kb.store import Store
from kb.vector_index import VectorIndex


@dataclass
class Changes:
    """What a run or a note asks for. ``removed`` ids are dropped only if ``still_gone(id)`` holds."""

    upserts: list[Document] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    full: bool = False


@dataclass
class Applied:
    added: int = 0
    updated: int = 0
    removed: int = 0
    embedded: int = 0
    cached: int = 0
    generation: int = 0


def build_record(settings: Settings, embedder_name: str, dim: int) -> dict:
    """The settings a saved index must be opened with."""
    return {"model": embedder_name, "dim": dim, "chunk_words": settings.chunk_words}


def apply_changes(
    settings: Settings,
    changes: Changes,
    embedder: Callable[[], Embedder],
    still_gone: Callable[[str], bool] = lambda doc_id: True,
    progress: Callable[[int], None] | None = None,
    after_embedding: Callable[[], None] | None = None,
) -> Applied:
    """Chunk, embed (through the cache) and publish ``changes`` as one new generation."""
    layout = Layout(settings.data_dir)
    result = Applied()
    store = Store(layout.database)
    try:
        _check_settings(store, settings, changes.full)
        known = store.hashes()
        if not changes.full:
            changes.upserts = [doc for doc in changes.upserts if known.get(doc.id) != doc.content_hash]
            if not changes.upserts and not any(doc_id in known for doc_id in changes.removed):
                result.generation = store.generation()
                return result
        chunked = {doc.id: chunk_document(doc, settings.chunk_words) for doc in changes.upserts}
        vectors, model, dim = _embed(store, settings, chunked, embedder, changes.full, result, progress)
        if after_embedding:
            after_embedding()
        with file_lock(layout.write_lock, what="the index"):
            _publish(store, settings, layout, changes, chunked, vectors, model, dim, still_gone, result)
    finally:
        store.close()
    layout.prune_generations(keep=result.generation)
    return result


def _check_settings(store: Store, settings: Settings, full: bool) -> None:
    """An incremental run must not mix models or chunk sizes in one index."""
    model, words = store.get_meta("model"), store.get_meta("chunk_words")
    if full or model is None:
        return
    if model != settings.model or int(words or 0) != settings.chunk_words:
        raise IndexMismatch(
            f"the index was built with model={model!r}, chunk_words={words} but the settings say "
            f"model={settings.model!r}, chunk_words={settings.chunk_words}; run `make reindex` (kb index --full)"
        )


def _embed(store, settings, chunked, embedder_factory, full, result, progress):
    """Vectors for every chunk hash, from the cache when the text was embedded before by this
    model (also in a full run: the cache key is the exact text); new ones are cached at once."""
    wanted = list(dict.fromkeys(chunk.hash for chunks in chunked.values() for chunk in chunks))
    texts = {chunk.hash: chunk.embed_text for chunks in chunked.values() for chunk in chunks}
    model = settings.model
    cached = store.cached_vectors(model, wanted) if wanted else {}
    missing = [digest for digest in wanted if digest not in cached]
    result.cached = len(wanted) - len(missing)
    dim = int(store.get_meta("dim", "0")) if store.get_meta("model") == model else 0
    if missing or not dim:
        embedder = embedder_factory()
        dim = embedder.dim
        step = 64
        for start in range(0, len(missing), step):
            batch = missing[start : start + step]
            fresh = embedder.embed_passages([texts[digest] for digest in batch])
            new = dict(zip(batch, fresh, strict=True))
            with store.transaction():
                store.cache_vectors(model, new)
            cached.update(new)
            result.embedded += len(batch)
            if progress:
                progress(len(batch))
    return cached, model, dim


def _publish(store, settings, layout, changes, chunked, vectors, model, dim, still_gone, result):
    with store.transaction():
        generation = store.generation()
        record = build_record(settings, model, dim)
        total_after = _estimate_total(store, changes, chunked)
        approximate = total_after >= settings.ann_min_chunks
        index = None
        if not changes.full and generation and store.get_meta("model") == model:
            index = VectorIndex.load(layout.generation_file(generation), record)
            if index.approximate != approximate:
                index = None  # crossing the switch size: rebuild in the other kind
        rebuild = index is None
        known = store.hashes()
        if changes.full:  # everything not in this run goes, unless its file appeared meanwhile (a note)
            changes.removed = [doc_id for doc_id in known if doc_id not in chunked]
        index = VectorIndex(dim, approximate, record) if rebuild else index
        for doc_id in changes.removed:
            if doc_id in known and still_gone(doc_id):
                index.remove(store.delete_document(doc_id))
                result.removed += 1
        # A full run knows only the words of its own documents, so it gives the same index terms as
        # a first index in an empty data folder, whatever earlier runs left in the vocabulary.
        analyzer = Analyzer(() if changes.full else store.vocabulary())
        docs = changes.upserts
        analyzer.learn(stem(t, doc.lang) for doc in docs for c in chunked[doc.id] for t in tokens(c.embed_text))
        for doc in docs:
            if doc.id in known:
                result.updated += 1
            else:
                result.added += 1
            chunks = chunked[doc.id]
            old_ids = store.delete_document(doc.id)
            if not rebuild:
                index.remove(old_ids)
            ids = store.put_document(doc, chunks, [_terms(analyzer, doc, chunk) for chunk in chunks])
            if not rebuild:
                index.add(np.array(ids), np.vstack([vectors[c.hash] for c in chunks]))
        if rebuild:
            chunk_ids, chunk_vectors, _ = store.chunk_vectors(model)
            if len(chunk_ids):
                index.add(chunk_ids, chunk_vectors)
        generation += 1
        index.save(layout.generation_file(generation))
        store.set_meta("generation", str(generation))
        store.set_meta("model", model)
        store.set_meta("dim", str(dim))
        store.set_meta("chunk_words", str(settings.chunk_words))
        result.generation = generation


def _terms(analyzer: Analyzer, doc: Document, chunk: Chunk) -> tuple[str, str]:
    heading = chunk.heading if doc.kind != "forum" else ""
    return analyzer.index_terms(doc.title, doc.lang), analyzer.index_terms(heading + "\n" + chunk.text, doc.lang)


def _estimate_total(store: Store, changes: Changes, chunked: dict[str, list[Chunk]]) -> int:
    new = sum(len(chunks) for chunks in chunked.values())
    if changes.full:
        return new
    return store.counts()[1] + new
