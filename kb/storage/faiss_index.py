"""The embedded backend's vector index, over FAISS: add, remove, search, save, load.

Exact inner-product search by default; HNSW above a size chosen from ``make bench``. A saved
index carries the settings that built it (model, dimension, chunking), and loading it under
other settings is an ``IndexMismatch`` that says to re-index.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from kb.errors import IndexMismatch, IndexMissing
from kb.openmp import one_thread
from kb.storage import Graph

# Chosen with `make bench` (bench/scale.py, clustered synthetic vectors), recall@10 against exact
# search at 1M x 384: M=32, efConstruction=80, efSearch=96 gave 0.79 (0.89 at efSearch 256);
# M=48, efConstruction=200 gives 0.995 at efSearch 100 and at 128 (1.1 and 1.4 ms a query; build
# 16 minutes on two cores, 1.9 GiB). A search asks for 100 candidates and FAISS walks
# max(efSearch, k) of them, so 100 is the least that means anything.
HNSW = Graph(m=48, ef_construction=200, ef_search=100)
# From this many passages on the index is HNSW (unless KB_ANN_MIN_CHUNKS says otherwise): at 100k
# x 896 comparing every vector takes 9.9 ms a query against 1.8 ms for the graph (`make bench`).
ANN_MIN_CHUNKS = 20_000
# A filtered search on an HNSW index that lets through at most this share of the passages
# compares them all instead of walking the graph (see VectorIndex._search_stored).
FILTER_EXACT = 0.1


def _faiss():
    import faiss

    return faiss


OVERFETCH_SHARE = 0.2  # from this share of passages allowed on, an exact scan fetches more and filters after


class VectorIndex:
    """Chunk vectors by chunk id. HNSW cannot delete, so removed ids are filtered until a rebuild."""

    def __init__(self, dim: int, approximate: bool = False, build: dict | None = None, graph: Graph = HNSW) -> None:
        """``build`` is the record a saved index carries (model, dimension, chunking)."""
        faiss = _faiss()
        self.dim = dim
        self.approximate = approximate
        self.build = dict(build or {})
        self.graph = graph
        if approximate:
            inner = faiss.IndexHNSWFlat(dim, graph.m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = graph.ef_construction
            inner.hnsw.efSearch = graph.ef_search
        else:
            # Every vector compared, stored in half precision: the scan is memory-bound, so it takes
            # about half the time and memory of float32, and scores move by ~1e-5 (top 10 of 6,000
            # random 896-dim vectors: 0.999 the same as float32; 0.35 instead of 0.72 ms a query).
            inner = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
        self._index = faiss.IndexIDMap2(inner)
        self._removed: set[int] = set()
        self._selectors: list[tuple[np.ndarray, tuple]] = []
        self._kept = None  # the selector that skips removed ids, built on first need
        self._ids = None  # chunk id by position in the HNSW storage, read on first need

    def __len__(self) -> int:
        return int(self._index.ntotal) - len(self._removed)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape[1] != self.dim:
            raise IndexMismatch(f"vectors have dimension {vectors.shape[1]}, the index {self.dim}; run `make reindex`")
        self._index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
        self._ids = None

    def remove(self, ids) -> None:
        ids = np.asarray(list(ids), dtype=np.int64)
        if len(ids) == 0:
            return
        if self.approximate:
            self._removed.update(int(i) for i in ids)
            self._kept = None
        else:
            self._index.remove_ids(ids)

    def search(self, vector: np.ndarray, k: int, within: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, chunk ids) for one query vector, best first; only ids in ``within`` if given."""
        if self._index.ntotal == 0 or k <= 0 or (within is not None and len(within) == 0):
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        faiss = _faiss()
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        fetch = min(int(self._index.ntotal), k)
        if within is None:
            params = faiss.SearchParameters(sel=self._without_removed()) if self._removed else None
        else:
            selector, _bits = self._selector(within)  # the bitmap lives while the search reads it
            share = len(within) / self._index.ntotal
            # An HNSW walk passes over what the filter drops: it looks further the fewer pass.
            params = (faiss.SearchParametersHNSW(sel=selector, efSearch=max(self.graph.ef_search, int(k / share)))
                      if self.approximate else faiss.SearchParameters(sel=selector))
        with one_thread(faiss):  # one query: see kb.openmp
            if self.approximate and within is not None and share <= FILTER_EXACT:
                scores, ids = self._search_stored(query, fetch, params.sel)
            elif not self.approximate and within is not None and share >= OVERFETCH_SHARE:
                scores, ids = self._overfetch(query, fetch, share, _bits, params)
            else:
                scores, ids = self._index.search(query, fetch, params=params)
        scores, ids = scores[0], ids[0]
        keep = ids >= 0
        if self._removed and within is not None:
            keep &= ~np.isin(ids, np.fromiter(self._removed, dtype=np.int64))
        return scores[keep], ids[keep]

    def exact(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if not self.approximate or self._index.ntotal == 0:
            return self.search(vector, k)
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        with one_thread(_faiss()):
            scores, ids = self._search_stored(query, min(k, int(self._index.ntotal)), _faiss().IDSelectorAll())
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def _search_stored(self, query: np.ndarray, k: int, selector) -> tuple[np.ndarray, np.ndarray]:
        """Exact search over the HNSW index's stored vectors, comparing only the selected ones.
        Under a filter that passes few passages a graph walk misses many of the best (recall@10
        0.71 with 1% of 100k passages allowed), and this costs at most a tenth of a full scan."""
        faiss = _faiss()
        storage = faiss.downcast_index(faiss.downcast_index(self._index.index).storage)
        translated = faiss.IDSelectorTranslated(self._index.id_map, selector)
        scores, positions = storage.search(query, k, params=faiss.SearchParameters(sel=translated))
        if self._ids is None:
            self._ids = faiss.vector_to_array(self._index.id_map)
        return scores, np.where(positions >= 0, self._ids[np.maximum(positions, 0)], -1)

    def _overfetch(self, query: np.ndarray, k: int, share: float, bits: np.ndarray, params):
        """The exact scan without a filter, asked for enough more that ``k`` allowed ones remain,
        then filtered: a scan that checks a filter per passage loses FAISS's batched distances
        (at half the passages allowed: 1.9 against 1.3 ms at 5k documents). When too few remain,
        the filtered scan after all."""
        fetch = min(int(self._index.ntotal), int(k / share * 2) + 16)
        scores, ids = self._index.search(query, fetch, params=self._plain_params())
        found = ids[0]
        allowed = (found >= 0) & (found >> 3 < len(bits))
        allowed[allowed] &= (bits[found[allowed] >> 3] >> (found[allowed] & 7)) & 1 == 1
        if allowed.sum() >= k or fetch >= self._index.ntotal:
            return scores[:, allowed][:, :k], ids[:, allowed][:, :k]
        return self._index.search(query, k, params=params)

    def _plain_params(self):
        faiss = _faiss()
        return faiss.SearchParameters(sel=self._without_removed()) if self._removed else None

    def _selector(self, within: np.ndarray):
        """(selector, bitmap) of the ids ``within``: a bitmap (one bit per id, a lookup per passage
        the scan meets rather than a hash) that the caller holds while it searches, since FAISS
        does not; kept for the arrays asked for lately, as a reader's visible passages are one
        array asked for again and again."""
        for array, selector in self._selectors:
            if array is within:
                return selector
        faiss = _faiss()
        ids = np.asarray(within, dtype=np.int64)
        bits = np.zeros((int(ids.max()) + 8) // 8 + 1, dtype=np.uint8)
        np.bitwise_or.at(bits, ids >> 3, (1 << (ids & 7)).astype(np.uint8))
        selector = (faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits)), bits)  # the bitmap must live on
        self._selectors = [(within, selector), *self._selectors[:7]]
        return selector

    def _without_removed(self):
        """A selector of every id but the removed ones. Removed passages are skipped inside the
        search, rather than fetched and dropped after it, which would make every search ask for
        k + removed results: slower after each nightly run until the next full one."""
        if self._kept is None:
            faiss = _faiss()
            removed = faiss.IDSelectorBatch(np.fromiter(self._removed, dtype=np.int64))
            self._kept = (removed, faiss.IDSelectorNot(removed))  # the Not only points to the batch
        return self._kept[1]

    def save(self, path: Path) -> None:
        """Write index and its build record; both land by rename, never half-written."""
        faiss = _faiss()
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        faiss.write_index(self._index, str(tmp))
        os.replace(tmp, path)
        record = {"dim": self.dim, "approximate": self.approximate, "removed": sorted(self._removed), **self.build}
        _write_json(path.with_suffix(".json"), record)

    def describe(self) -> str:
        """The FAISS index kind, with its graph settings when approximate."""
        inner = _faiss().downcast_index(self._index.index)
        graph = f" M={self.graph.m} efConstruction={self.graph.ef_construction}" if self.approximate else ""
        return type(inner).__name__ + graph

    def set_ef_search(self, ef_search: int) -> None:
        """Candidates an HNSW search walks (more: better recall, slower)."""
        self.graph = Graph(self.graph.m, self.graph.ef_construction, ef_search)
        if self.approximate:
            _faiss().downcast_index(self._index.index).hnsw.efSearch = ef_search

    @classmethod
    def load(cls, path: Path, expected: dict, graph: Graph = HNSW) -> VectorIndex:
        """Open a saved index; ``expected`` build settings must match what it was built with."""
        faiss = _faiss()
        path = Path(path)
        meta_path = path.with_suffix(".json")
        if not path.exists() or not meta_path.exists():
            raise IndexMissing(f"no vector index at {path}; run `make index`")
        record = json.loads(meta_path.read_text())
        for key, want in expected.items():
            if record.get(key) != want:
                raise IndexMismatch(
                    f"the index was built with {key}={record.get(key)!r} but the settings say {want!r}; "
                    "run `make reindex` (kb index --full) to rebuild it"
                )
        index = cls.__new__(cls)
        index.dim = record["dim"]
        index.approximate = record["approximate"]
        index.build = {k: v for k, v in record.items() if k not in ("dim", "approximate", "removed")}
        index._index = faiss.read_index(str(path))
        index._removed = set(record.get("removed", []))
        index._kept = None
        index._ids = None
        index._selectors = []
        index.graph = graph
        index.set_ef_search(graph.ef_search)
        return index


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)
