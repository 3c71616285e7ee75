"""What one benchmark run measures, and on what: the plan every section reads."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

CHUNKS_PER_DOC = 1.66  # measured on the synthetic corpus (1-2 chunks per document)


def documents_for(chunks: int) -> int:
    """Synthetic documents that make about ``chunks`` chunks."""
    return math.ceil(chunks / CHUNKS_PER_DOC)


SWEEP = (("5k documents", 5000), ("10k chunks", documents_for(10_000)), ("100k chunks", documents_for(100_000)))


@dataclass
class Plan:
    model: str
    work: Path  # indexes, corpora and logs the sections build
    content: Path  # the demo content
    runs: int = 3  # repetitions of each cheap measurement
    demo: Path | None = None  # the demo index: built by the indexing section, or brought up to date
    # indexing
    synthetic_docs: int = 5000
    subsample_docs: int = 300  # synthetic documents indexed with the (slow) default model
    fast_model: str = "use-multilingual"  # for the whole synthetic corpus
    full_runs: int = 1  # full index runs with the default model (minutes each)
    fast_runs: int = 1  # full runs of the whole synthetic corpus with the fast model
    edit_share: float = 0.01
    # search: (label, synthetic documents) of the index-size sweep
    sweep: tuple[tuple[str, int], ...] = SWEEP
    # http
    seconds: float = 10.0  # per load run
    clients: tuple[int, ...] = (1, 8)
