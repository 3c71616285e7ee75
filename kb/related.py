"""Related learning: what to read, attend or ask next, for a document and for a search.

Built from the index without re-embedding: a document's vector is the mean of its chunk
vectors. Candidates are scored by meaning plus shared tags, then a slate is chosen that mixes
kinds and avoids repeating one sub-topic; near-duplicates and the document itself are left
out, and nothing below the model's threshold (its profile) is shown. Each suggestion says why
it is shown as data (``why``: kinds, languages, shared tags and people, the matching passage);
the web layer puts that into words. Answers are cached per index generation.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from kb.audience import ANYONE, Reader, Visibility
from kb.documents import Document
from kb.people import rank_people
from kb.storage import DocMeta, Storage

DUPLICATE = 0.985  # cosine at which two documents are the same text (copies, re-posts)
SLATE = 5
DIVERSITY = 0.35  # how strongly a candidate close to an already chosen one is held back
CACHED = 2048  # answers kept per generation
PASSAGE_WORDS = 18


@dataclass(frozen=True)
class RelatedParams:
    threshold: float  # the model's related threshold (its profile)
    tag_weight: float = 0.08  # per shared tag, capped at three (tuned with the threshold)


@dataclass
class DocumentVectors:
    """One unit vector per document (mean of its chunks) for one generation."""

    ids: list[str]
    matrix: np.ndarray
    position: dict[str, int]

    @classmethod
    def build(cls, chunk_vectors: tuple[np.ndarray, np.ndarray, list[str]]) -> DocumentVectors:
        chunk_ids, vectors, owners = chunk_vectors
        if not len(chunk_ids):
            return cls([], np.zeros((0, 1), dtype=np.float32), {})
        ids = sorted(set(owners))
        position = {doc: i for i, doc in enumerate(ids)}
        matrix = np.zeros((len(ids), vectors.shape[1]), dtype=np.float32)
        np.add.at(matrix, [position[o] for o in owners], vectors)
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)
        return cls(ids, matrix, position)

    def of(self, doc_id: str) -> np.ndarray:
        return self.matrix[self.position[doc_id]]


class Related:
    """Related-learning answers for one generation, cached."""

    def __init__(self, storage: Storage, model: str, generation: int, params: RelatedParams) -> None:
        self.storage = storage
        self.model = model
        self.generation = generation
        self.params = params
        with storage.snapshot():
            self.meta: dict[str, DocMeta] = storage.documents_meta()
            self.vectors = DocumentVectors.build(storage.chunk_vectors(model))
        self._cache: OrderedDict[tuple, dict] = OrderedDict()
        self._lock = threading.Lock()
        self.visibility = Visibility(self.meta)

    def _hidden(self, reader: Reader) -> set[str]:
        """The documents ``reader`` may not see: never suggested, never evidence."""
        visible = self.visibility.documents(reader)
        return set() if visible is None else set(self.meta) - visible

    def for_document(self, doc: Document, reader: Reader = ANYONE) -> dict:
        """``{"id", "related": [suggestion], "people": [person]}`` for the document page, from
        what ``reader`` may see (cached per document and per kind of reader)."""
        key = (doc.id, reader.key if self.visibility.restricted else None)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        if doc.id not in self.vectors.position:
            answer = {"id": doc.id, "related": [], "people": []}
        else:
            vector = self.vectors.of(doc.id)
            scored = self.scored(vector, set(doc.tags), {doc.id} | self._hidden(reader), self.params)
            slate = choose_slate(scored, self.vectors, self.meta, self.params.threshold)
            related = [self._suggestion(doc, vector, candidate, score) for candidate, score in slate]
            evidence = [(doc.id, 1.0)] + [(d, s) for d, s in scored[:15] if s >= self.params.threshold]
            answer = {"id": doc.id, "related": related, "people": rank_people(self.storage.document, evidence)}
        with self._lock:
            self._cache[key] = answer
            while len(self._cache) > CACHED:
                self._cache.popitem(last=False)
        return answer

    def for_results(self, result_ids: list[str], reader: Reader = ANYONE) -> dict:
        """"Learn more" next to search results: sessions, threads and people around the top
        results, from what ``reader`` may see."""
        top = [self.vectors.position[d] for d in result_ids[:3] if d in self.vectors.position]
        if not top:
            return {"related": [], "people": []}
        vector = self.vectors.matrix[top].mean(axis=0)
        vector /= max(float(np.linalg.norm(vector)), 1e-9)
        scored = self.scored(vector, set(), set(result_ids[:3]) | self._hidden(reader), self.params)
        scored = [(d, s) for d, s in scored if self.meta[d].kind in ("session", "forum")]
        slate = choose_slate(scored, self.vectors, self.meta, self.params.threshold, size=3)
        related = [{"id": d, "kind": self.meta[d].kind, "title": self.meta[d].title, "lang": self.meta[d].lang,
                    "score": round(s, 4), "why": {"kind": self.meta[d].kind, "near_results": True}}
                   for d, s in slate]
        evidence = [(d, 1.0) for d in result_ids[:3]] + [(d, s) for d, s in scored[:6] if s >= self.params.threshold]
        return {"related": related, "people": rank_people(self.storage.document, evidence)[:3]}

    def suggest(self, doc: Document, params: RelatedParams) -> list[tuple[str, float]]:
        """The slate for ``doc`` under other ``params``, uncached (for calibrating them)."""
        if doc.id not in self.vectors.position:
            return []
        scored = self.scored(self.vectors.of(doc.id), set(doc.tags), {doc.id}, params)
        return choose_slate(scored, self.vectors, self.meta, params.threshold)

    def scored(self, vector: np.ndarray, tags: set[str], exclude: set[str], params: RelatedParams
               ) -> list[tuple[str, float]]:
        """The 60 documents nearest ``vector`` (``exclude`` left out), scored by cosine plus
        shared tags, best first."""
        similarity = self.vectors.matrix @ vector
        scored = []
        for index in np.argsort(-similarity):
            candidate = self.vectors.ids[index]
            cosine = float(similarity[index])
            if len(scored) >= 60:
                break
            if candidate in exclude or cosine >= DUPLICATE:
                continue  # the document itself, or a copy of it
            shared = len(tags & set(self.meta[candidate].tags))
            scored.append((candidate, cosine + params.tag_weight * min(shared, 3)))
        return sorted(scored, key=lambda item: -item[1])

    def _suggestion(self, doc: Document, vector: np.ndarray, candidate: str, score: float) -> dict:
        meta = self.meta[candidate]
        why = {"kind": meta.kind, "lang": meta.lang, "source_kind": doc.kind, "source_lang": doc.lang,
               "shared_tags": [tag for tag in meta.tags if tag in doc.tags][:3],
               "shared_people": [name for name in meta.authors if name in doc.people()][:2],
               "passage": self._passage(candidate, vector)}
        return {"id": candidate, "kind": meta.kind, "title": meta.title, "lang": meta.lang,
                "score": round(score, 4), "why": why}

    def _passage(self, doc_id: str, vector: np.ndarray) -> str:
        """The opening words of the candidate's chunk closest to the source document."""
        chunks = self.storage.chunks_of(doc_id)
        if not chunks:
            return ""
        vectors = self.storage.cached_vectors(self.model, [c.hash for c in chunks])
        best = max(chunks, key=lambda c: float(vectors[c.hash] @ vector) if c.hash in vectors else -1.0)
        words = best.text.split()
        return " ".join(words[:PASSAGE_WORDS]) + (" …" if len(words) > PASSAGE_WORDS else "")


def choose_slate(scored: list[tuple[str, float]], vectors: DocumentVectors, meta: dict[str, DocMeta],
                 threshold: float, size: int = SLATE) -> list[tuple[str, float]]:
    """Up to ``size`` suggestions above ``threshold``: the best of each kind first, then by
    score held back by closeness to what is already chosen (maximal marginal relevance)."""
    eligible = [(d, s) for d, s in scored if s >= threshold]
    chosen: list[tuple[str, float]] = []
    for kind in ("session", "forum", "article"):
        best = next(((d, s) for d, s in eligible if meta[d].kind == kind), None)
        if best:
            chosen.append(best)
    chosen = sorted(chosen, key=lambda item: -item[1])[:size]
    rest = [item for item in eligible if item not in chosen]
    while rest and len(chosen) < size:
        best = max(rest, key=lambda item: _marginal(item, chosen, vectors, threshold))
        chosen.append(best)
        rest.remove(best)
    return sorted(chosen, key=lambda item: -item[1])


def _marginal(item: tuple[str, float], chosen: list[tuple[str, float]], vectors: DocumentVectors,
              threshold: float) -> float:
    """A candidate's score, held back by how close it is to the closest one already chosen."""
    if not chosen:
        return item[1]
    vector = vectors.of(item[0])
    closeness = max(float(vectors.of(doc) @ vector) for doc, _ in chosen)
    return item[1] - DIVERSITY * max(0.0, closeness - threshold)
