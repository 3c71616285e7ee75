"""BM25 over one generation's analysed chunk terms, held in memory as a sparse chunk × term matrix.

The store keeps each chunk's analysed terms in FTS5; asking FTS5 for the best matches of a query
made it compute bm25() row by row for every chunk that holds any query word, 15-70 ms per query
at 100k chunks, and it counted a word's alternative stems as separate words. Here every query
word (a group of alternative stems: Dutch, English, compound parts) is scored in a few numpy
operations over its postings, exactly: the alternatives' frequencies are added before saturation
and the word's IDF is that of its most common alternative.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Callable, Iterable

import numpy as np
from scipy import sparse

K1 = 1.2
B = 0.75
TITLE_WEIGHT = 2.0  # a title word counts as much as two body words
REBUILD_SHARE = 0.2  # built anew, not extended, when this share of chunks is new or of terms stale


class TermIndex:
    """Postings of every analysed term of a generation's chunks (title words weigh ``title_weight``)."""

    def __init__(self, rows: Iterable[tuple[int, str, str]], title_weight: float = TITLE_WEIGHT,
                 vocabulary: dict[str, int] | None = None) -> None:
        """``rows`` are (chunk id, title terms, text terms), terms space-separated, in chunk id
        order. Terms already in ``vocabulary`` keep their column numbers (see ``extended``)."""
        self.vocabulary: dict[str, int] = dict(vocabulary or {})
        number = self.vocabulary.setdefault
        ids, lengths, columns = array("q"), array("i"), array("i")  # compact: one row's words at a time
        for chunk_id, title, text in rows:
            ids.append(chunk_id)
            for words in (title.split(), text.split()):
                lengths.append(len(words))
                columns.extend([number(word, len(self.vocabulary)) for word in words])
        counts = np.frombuffer(lengths, dtype=np.int32).reshape(-1, 2)  # (title, text) words per chunk
        positions = np.repeat(np.arange(len(ids), dtype=np.int32), counts.sum(axis=1))
        weights = np.repeat(np.tile(np.array([title_weight, 1.0], dtype=np.float32), len(ids)), counts.ravel())
        columns = np.frombuffer(columns, dtype=np.int32)
        # duplicates (a term said twice in a chunk) are summed into the term's frequency
        matrix = sparse.coo_matrix((weights, (positions, columns)), shape=(len(ids), len(self.vocabulary))).tocsc()
        self.title_weight = title_weight
        self._set(np.frombuffer(ids, dtype=np.int64).copy(), matrix,
                  (title_weight * counts[:, 0] + counts[:, 1]).astype(np.float32))

    def extended(self, kept: np.ndarray, rows: Iterable[tuple[int, str, str]]) -> TermIndex:
        """The index of a later generation: this one's chunks ``kept`` (ids) plus the new ``rows``,
        whose ids are all higher (chunk ids only grow). Costs a fraction of building anew."""
        added = TermIndex(rows, self.title_weight, self.vocabulary)
        keep = self.positions(kept)
        old = self._matrix[keep]
        old.resize((len(keep), len(added.vocabulary)))
        matrix = sparse.vstack([old, added._matrix], format="csc")
        lengths = np.concatenate([self._lengths[keep], added._lengths])
        added._set(np.concatenate([self.ids[keep], added.ids]), matrix, lengths)
        return added

    def stale_share(self) -> float:
        """Share of vocabulary columns that no chunk holds any more (they grow with ``extended``)."""
        return float(np.mean(np.diff(self._starts) == 0)) if self.vocabulary else 0.0

    def _set(self, ids: np.ndarray, matrix, lengths: np.ndarray) -> None:
        matrix.sum_duplicates()
        self.ids = ids
        self._matrix = matrix
        self._starts = matrix.indptr
        self._chunks = matrix.indices
        self._frequencies = matrix.data.astype(np.float32, copy=False)
        self._lengths = lengths
        average = float(lengths.mean()) if len(lengths) else 1.0
        self._norm = (K1 * (1 - B + B * lengths / max(average, 1.0))).astype(np.float32)
        self.chunk_count = max(1, len(ids))

    def __len__(self) -> int:
        return len(self.ids)

    def document_frequency(self, term: str) -> int:
        """How many chunks hold ``term``."""
        column = self.vocabulary.get(term)
        return 0 if column is None else int(self._starts[column + 1] - self._starts[column])

    def idf(self, group: Iterable[str]) -> float:
        """The IDF of a query word: that of the commonest of its alternative stems."""
        return self._idf(max((self.document_frequency(term) for term in group), default=0))

    def _idf(self, frequency: int) -> float:
        return math.log((self.chunk_count - frequency + 0.5) / (frequency + 0.5) + 1.0)

    def positions(self, chunk_ids: np.ndarray) -> np.ndarray:
        """Row numbers of the given chunk ids (ids this generation does not hold are dropped)."""
        found = np.searchsorted(self.ids, chunk_ids)
        found = np.minimum(found, max(len(self.ids) - 1, 0))
        return found[self.ids[found] == chunk_ids] if len(self.ids) else found[:0]

    def search(self, groups: list[set[str]], k: int, within: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The ``k`` best (chunk id, BM25 score), best first; ``within`` limits to those row numbers.

        Each group of alternative stems is one query word; a word the query repeats counts once
        per occurrence (query term frequency)."""
        if not len(self.ids):
            return []
        scores = np.zeros(len(self.ids), dtype=np.float32)
        for group, repeats in Counter(frozenset(group) for group in groups).items():
            columns = [self.vocabulary[term] for term in group if term in self.vocabulary]
            if not columns:
                continue
            rows, frequencies = self._postings(columns)
            scores[rows] += repeats * self.idf(group) * frequencies * (K1 + 1) / (frequencies + self._norm[rows])
        if within is not None:
            keep = np.zeros(len(self.ids), dtype=bool)
            keep[within] = True
            scores[~keep] = 0.0
        matched = np.flatnonzero(scores)  # rows in chunk id order
        if len(matched) > k:
            values = scores[matched]
            cut = -np.partition(-values, k - 1)[k - 1]  # the k-th best score
            above, tied = matched[values > cut], matched[values == cut]
            matched = np.concatenate([above, tied[: k - len(above)]])  # ties at the cut: lowest ids
        order = np.lexsort((self.ids[matched], -scores[matched]))
        return [(int(self.ids[row]), float(scores[row])) for row in matched[order]]

    def present(self, chunk_id: int, terms: Iterable[str]) -> set[str]:
        """Those of ``terms`` that the chunk holds."""
        row = self.positions(np.array([chunk_id], dtype=np.int64))
        if not len(row):
            return set()
        out = set()
        for term in terms:
            column = self.vocabulary.get(term)
            if column is not None:
                postings = self._chunks[self._starts[column] : self._starts[column + 1]]
                at = np.searchsorted(postings, row[0])
                if at < len(postings) and postings[at] == row[0]:
                    out.add(term)
        return out

    def coverage(self, groups: list[set[str]], chunk_ids: np.ndarray) -> np.ndarray:
        """Per chunk, the share of the query's weight (the IDF of its words) among the words the
        chunk holds: near 1 when it holds the whole query, low when it only catches a word or two.
        Each term's postings are sorted by row, so a candidate is looked up, not scanned for."""
        rows = self.positions(chunk_ids)
        if len(rows) != len(chunk_ids):
            raise ValueError("coverage asked for chunks this generation does not hold")
        matched = np.zeros(len(rows), dtype=np.float64)
        total = 0.0
        for group in groups:
            weight = self.idf(group)
            total += weight
            held = np.zeros(len(rows), dtype=bool)
            for term in group:
                column = self.vocabulary.get(term)
                if column is None or not len(rows):
                    continue
                postings = self._chunks[self._starts[column] : self._starts[column + 1]]
                if len(postings):
                    at = np.minimum(np.searchsorted(postings, rows), len(postings) - 1)
                    held |= postings[at] == rows
            matched += weight * held
        return matched / total if total else matched

    def chunks_with(self, term: str, count: int, within: np.ndarray | None = None) -> list[int]:
        """The ids of the first ``count`` chunks that hold ``term`` (among the rows ``within``
        marks, a boolean mask, when given)."""
        column = self.vocabulary.get(term)
        if column is None:
            return []
        rows = self._chunks[self._starts[column] : self._starts[column + 1]]
        if within is not None:
            rows = rows[within[rows]]
        return self.ids[rows[:count]].tolist()

    def held_within(self, term: str, within: np.ndarray) -> bool:
        """Whether a row that ``within`` (a boolean mask over rows) marks holds ``term``; looks at
        the first postings before all of them, since a common word is nearly always held early."""
        column = self.vocabulary.get(term)
        if column is None:
            return False
        rows = self._chunks[self._starts[column] : self._starts[column + 1]]
        return bool(within[rows[:64]].any() or within[rows[64:]].any())

    def frequency_within(self, term: str, within: np.ndarray) -> int:
        """How many of the rows that ``within`` (a boolean mask over rows) marks hold ``term``."""
        column = self.vocabulary.get(term)
        if column is None:
            return 0
        return int(np.count_nonzero(within[self._chunks[self._starts[column] : self._starts[column + 1]]]))

    def terms(self) -> set[str]:
        """Every term that some chunk holds."""
        counts = np.diff(self._starts)
        return {term for term, column in self.vocabulary.items() if counts[column]}

    def _postings(self, columns: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(rows, summed frequencies) of the chunks that hold any of the columns' terms."""
        if len(columns) == 1:
            start, end = self._starts[columns[0]], self._starts[columns[0] + 1]
            return self._chunks[start:end], self._frequencies[start:end]
        rows = np.concatenate([self._chunks[self._starts[c] : self._starts[c + 1]] for c in columns])
        frequencies = np.concatenate([self._frequencies[self._starts[c] : self._starts[c + 1]] for c in columns])
        unique, inverse = np.unique(rows, return_inverse=True)
        return unique, np.bincount(inverse, weights=frequencies).astype(np.float32)


def term_index_for(rows: Callable[[int], Iterable[tuple[int, str, str]]], chunk_ids: np.ndarray,
                   previous: TermIndex | None, rebuild_share: float = REBUILD_SHARE) -> TermIndex:
    """A generation's term index over ``chunk_ids``: ``previous`` extended when most of its chunks
    are still there, else built from all chunk terms (a few seconds at 100k chunks). ``rows(after)``
    gives the (chunk id, title terms, text terms) of the chunks above ``after``."""
    if previous is not None and len(previous) and len(chunk_ids) and previous.stale_share() < rebuild_share:
        last = int(previous.ids[-1])
        kept = np.intersect1d(previous.ids, chunk_ids, assume_unique=True)
        added = int(np.count_nonzero(chunk_ids > last))
        if kept.size + added == len(chunk_ids) and kept.size >= (1 - rebuild_share) * len(chunk_ids):
            return previous.extended(kept, rows(last))
    return TermIndex(rows(0))
