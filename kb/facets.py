"""Facet counts (kind, tag, author, language) over a result list, as one ``bincount``."""

from __future__ import annotations

import numpy as np

from kb.storage import DocMeta

FACETS = ("kind", "tag", "author", "lang")


class FacetTable:
    """Per document the numbers of its (facet, value) pairs, for one generation."""

    def __init__(self, meta: dict[str, DocMeta]) -> None:
        numbers: dict[tuple[str, str], int] = {}
        self.columns: dict[str, np.ndarray] = {}
        for doc, info in meta.items():
            pairs = [("kind", info.kind), ("lang", info.lang), *(("tag", tag) for tag in info.tags),
                     *(("author", author) for author in info.authors)]
            self.columns[doc] = np.array([numbers.setdefault(pair, len(numbers)) for pair in pairs],
                                         dtype=np.int64)
        self.pairs = list(numbers)

    def count(self, documents: list[str]) -> dict[str, dict[str, int]]:
        """Counts of each facet's values over ``documents``, commonest first, ties by value."""
        facets: dict[str, dict[str, int]] = {name: {} for name in FACETS}
        if not documents:
            return facets
        counts = np.bincount(np.concatenate([self.columns[doc] for doc in documents]), minlength=len(self.pairs))
        present = [(-int(counts[column]), self.pairs[column]) for column in np.flatnonzero(counts)]
        for count, (name, value) in sorted(present, key=lambda item: (item[0], item[1][1])):
            facets[name][value] = -count
        return facets
