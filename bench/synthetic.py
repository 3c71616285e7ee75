"""Synthetic indexes for the index-size sweep: synthetic documents, random unit vectors.

The documents come from ``bench.corpus`` (real text, so the keyword side and its FTS5 rows
behave as they would), and go through the real write path (``KnowledgeBase.index_run``), but
the embedder is ``ClusteredEmbedder``: a vector per text near one of many sub-topic centres,
the same for the same text.
Query latency without the query's embedding depends on the number and dimension of vectors,
not on their meaning. A built index is kept under the work folder and reused while the generator,
the schema and the settings are unchanged.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench import corpus, postgres, scale
from bench.plan import CHUNKS_PER_DOC
from indexer.pipeline import scan
from kb import ANN_MIN_CHUNKS, SCHEMA_VERSION, KnowledgeBase, VectorIndex, load_settings


class ClusteredEmbedder:
    """A stand-in model of any name and dimension whose vectors have neighbours: each text's vector
    lies near one of many sub-topic centres, drawn as in ``bench/scale.py`` (topics, sub-topics of
    about thirty passages, isotropic noise), seeded by the text, so the same text always gets the
    same vector. Uniformly random vectors have no real nearest neighbours, and an HNSW recall
    measured on them says nothing."""

    def __init__(self, name: str, dim: int, passages: int) -> None:
        self.name = name
        self.dim = dim
        rng = np.random.default_rng(scale.SEED)
        topics = scale.unit(rng.standard_normal((max(10, passages // 5000), dim), dtype=np.float32))
        count = max(100, passages // scale.SUBTOPIC)
        self._centres = scale.unit(topics[rng.integers(len(topics), size=count)]
                                   + 0.9 * scale.unit(rng.standard_normal((count, dim), dtype=np.float32)))

    def _vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal(self.dim, dtype=np.float32)
        vector = self._centres[rng.integers(len(self._centres))] + scale.NOISE * noise / np.linalg.norm(noise)
        return vector / np.linalg.norm(vector)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts]).astype(np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_passages(texts)


def stand_in(model: str, dim: int, documents: int) -> ClusteredEmbedder:
    """The embedder a synthetic index of ``documents`` documents is built and queried with."""
    return ClusteredEmbedder(model, dim, int(documents * CHUNKS_PER_DOC))


def build(work: Path, content: Path, documents: int, model: str, dim: int, restricted: bool = False) -> Path:
    """A data folder with ``documents`` synthetic documents indexed with random ``dim`` vectors
    under the name ``model``; built once, then reused (see ``_key``). With ``restricted``, every
    other document is for team ``bench`` only (the rest for everyone)."""
    settings = load_settings()
    approximate = documents * CHUNKS_PER_DOC >= (settings.ann_min_chunks or ANN_MIN_CHUNKS)  # as the indexer will
    key = _key(documents, model, dim, _index_kind(dim, approximate), settings.chunk_words, "clustered", restricted)
    data = work / (f"sweep-{documents}-{dim}" + ("-half-restricted" if restricted else ""))
    marker = data / ".complete"
    if marker.exists() and marker.read_text() == key:
        return data
    if data.exists():
        shutil.rmtree(data)
    _index(settings.replace(data_dir=data, content_dir=content, model=model, database_url=None), work, documents, dim,
           restricted=restricted)
    marker.write_text(key)
    return data


def build_shared(work: Path, content: Path, documents: int, model: str, dim: int) -> str:
    """The same synthetic index in a PostgreSQL database (``bench.postgres``); its URL. Built once
    (the embedding cache copied from the embedded one), then reused."""
    embedded = build(work, content, documents, model, dim)
    settings = load_settings().replace(content_dir=content, model=model)
    key = _key(documents, model, dim, "postgres", settings.chunk_words, settings.ann_min_chunks, "clustered",
               "passage_vectors")
    marker = work / f"sweep-{documents}-{dim}-postgres.complete"
    server = postgres.server(work)
    fresh = not (marker.exists() and marker.read_text() == key)
    url = postgres.database(server, f"sweep_{documents}_{dim}", fresh=fresh)
    if fresh:
        marker.unlink(missing_ok=True)
        _index(settings.replace(database_url=url), work, documents, dim, copy_from=embedded)
        marker.write_text(key)
    return url


def _index(settings, work: Path, documents: int, dim: int, copy_from: Path | None = None,
           restricted: bool = False) -> None:
    """Generate the corpus and index it into the store ``settings`` name (with the embedding cache
    of the embedded store in ``copy_from`` first, when given)."""
    source = work / f"sweep-content-{documents}"
    corpus.generate(source, documents, settings.content_dir)
    docs, _ = scan(source, 10_000_000)
    shutil.rmtree(source)
    if restricted:
        for doc in docs[1::2]:
            doc.audience = ["team:bench"]
    kb = KnowledgeBase(settings, embedder=stand_in(settings.model, dim, documents))
    try:
        if copy_from is not None:
            source_kb = KnowledgeBase(settings.replace(data_dir=copy_from, database_url=None))
            kb.import_embeddings(source_kb)
            source_kb.shutdown()
        with kb.index_run() as run:
            run.apply(docs, full=True)
    finally:
        kb.shutdown()


def _index_kind(dim: int, approximate: bool) -> str:
    """The FAISS index the indexer builds at this size, with its graph settings."""
    return VectorIndex(dim, approximate).describe()


def _key(*parts) -> str:
    """What shapes a built index: generator, schema, size, model name, dimension, settings.
    (Changes to how terms are analysed are not seen; ``python -m bench --clean`` rebuilds.)"""
    return repr((corpus.VERSION, corpus.SEED, SCHEMA_VERSION, *parts))
