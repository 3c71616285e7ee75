"""The storage seam: everything Kennisbank persists, behind one narrow interface.

Documents, passages (chunks), their vectors and analysed terms, the embedding cache, index
generations, run reports, notes and the form-signing key all go through a ``Storage``. Search,
related learning and the index writer ask it, and know nothing of which backend answers. The
embedded backend (``kb.storage.embedded``: SQLite in WAL mode and FAISS generation files under
the data folder, notes as files in the content folder) is the default; the shared one
(``kb.storage.postgres``: PostgreSQL with pgvector, notes as rows) serves several hosts;
``open_storage`` chooses.

A generation is what one index run or one note publishes: the documents, their passages and
the vector index that belong together. Readers see the live generation until the next one is
committed as a whole; a write that fails or is killed leaves the live one in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from kb.chunking import Chunk
    from kb.config import Settings
    from kb.documents import Document


@dataclass(frozen=True)
class DocMeta:
    """What filters, grouping and result cards need, without the body."""

    id: str
    kind: str
    title: str
    lang: str
    date: str | None
    authors: tuple[str, ...]
    tags: tuple[str, ...]
    audience: tuple[str, ...] = ("everyone",)  # who may read it (kb.audience)


@dataclass(frozen=True)
class ChunkRow:
    id: int
    doc_id: str
    ord: int
    heading: str
    text: str
    hash: str


@dataclass(frozen=True)
class Build:
    """How an index was built; opening it with other settings is an error that says to re-index."""

    model: str
    dim: int
    chunk_words: int

    def record(self) -> dict:
        return {"model": self.model, "dim": self.dim, "chunk_words": self.chunk_words}


@dataclass(frozen=True)
class Graph:
    """HNSW settings: links per node, candidates while building, candidates while searching.
    Each backend chooses its own (``make bench`` measures them)."""

    m: int
    ef_construction: int
    ef_search: int


class VectorSearch(Protocol):
    """The nearest passages of one generation to a query vector."""

    approximate: bool

    def search(self, vector: np.ndarray, k: int, within: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, chunk ids), best first; only chunk ids in ``within`` when given."""

    def exact(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` by comparing every passage: what an approximate ``search`` is measured against."""


class Publication(Protocol):
    """The next generation while it is written; committed when its ``publish`` block ends."""

    generation: int  # the live generation it replaces; the new number once committed

    def hashes(self) -> dict[str, str]:
        """Content hash of every stored document, by id, as this transaction sees them."""

    def vocabulary(self) -> set[str]:
        """Every analysed term the stored passages hold (for compound splitting)."""

    def remove(self, doc_id: str) -> None:
        """Drop a document with its passages and vectors."""

    def put(self, doc: Document, chunks: list[Chunk], terms: list[tuple[str, str]],
            vectors: list[np.ndarray]) -> None:
        """Insert or replace a document with its passages, their analysed (title, text) terms
        and their vectors."""


class Storage(Protocol):
    """What a backend provides. Reads see the live generation; each thread has its own connection."""

    # the live generation ------------------------------------------------------------------------
    def generation(self) -> int:
        """The number of the live generation; 0 before the first index run."""

    def build(self) -> Build | None:
        """How the live index was built; None before the first index run."""

    def vector_search(self, generation: int, build: Build) -> tuple[int, VectorSearch]:
        """The vector search of ``generation``, or of a newer one if that was replaced meanwhile;
        ``IndexMismatch`` when it was built otherwise than ``build`` says."""

    def snapshot(self) -> AbstractContextManager[None]:
        """A consistent read view across several of the reads below."""

    def documents_meta(self) -> dict[str, DocMeta]:
        """Every stored document's metadata, by id."""

    def document(self, doc_id: str) -> Document | None:
        """The stored document, or None."""

    def hashes(self) -> dict[str, str]:
        """Content hash of every stored document, by id."""

    def counts(self) -> tuple[int, int]:
        """(documents, chunks)."""

    def chunk_owners(self) -> tuple[np.ndarray, list[str]]:
        """(chunk ids, their document ids), by chunk id."""

    def chunk_terms(self, after: int = 0) -> Iterable[tuple[int, str, str]]:
        """(chunk id, title terms, text terms) of the chunks above ``after``, by chunk id."""

    def chunk_vectors(self, model: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(chunk ids, vectors, document ids) of every chunk, by chunk id."""

    def chunks(self, ids: Iterable[int]) -> dict[int, ChunkRow]:
        """The chunks with these ids that exist, by id."""

    def chunks_of(self, doc_id: str) -> list[ChunkRow]:
        """A document's chunks in reading order."""

    # embedding cache ----------------------------------------------------------------------------
    def cached_vectors(self, model: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """The vectors ``model`` gave before for these chunk hashes, by hash."""

    def cache_vectors(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        """Keep fresh vectors by chunk hash, durably at once (a killed run keeps them)."""

    def embedding_cache(self, batch: int = 1000) -> Iterable[tuple[str, dict[str, np.ndarray]]]:
        """The whole embedding cache, as (model, vectors by chunk hash) in batches."""

    # writing ------------------------------------------------------------------------------------
    def run_lock(self) -> AbstractContextManager[None]:
        """Held by an index run; a second run meanwhile raises ``Busy`` at once."""

    def publish(self, full: bool, adding: int, build: Build) -> AbstractContextManager[Publication]:
        """Write the next generation (``full``: rebuilt from scratch; ``adding`` passages new)
        and commit it as a whole when the block ends; waits for another writer to finish."""

    # what else persists -------------------------------------------------------------------------
    def log_searches(self, searches: list, opened: list[tuple[str, str]], model: str = "") -> None:
        """Store logged searches (``kb.search_log.LoggedSearch``) and the results opened from
        them, as (search id, document id); a search keeps the first result opened. A search
        that carries its query's vector keeps it under ``model`` (the first one kept stays)."""

    def prune_searches(self, before: str) -> int:
        """Forget the searches logged before ``before`` (ISO time), the query vectors no logged
        search needs any more and the plans made before then; how many searches were forgotten."""

    def asked(self, since: str, week_ago: str) -> list[tuple]:
        """The distinct queries logged from ``since`` on (``kb.agenda.Asked``'s fields): query,
        searches, missed, first and last missed, missed from ``week_ago`` on, and the time of the
        latest search that found something that was opened."""

    def opened_at(self, query: str, at: str) -> str | None:
        """The document opened from the search of ``query`` at ``at`` that found something."""

    def query_vectors(self, model: str, queries: Iterable[str]) -> dict[str, np.ndarray]:
        """The kept vectors of these logged queries under ``model``, by query."""

    def keep_query_vectors(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        """Keep vectors of logged queries (embedded for the agenda), by query."""

    def plan_gap(self, gap_id: str, at: str, label: str, queries: list[str]) -> None:
        """Remember that a session is planned for a gap of the agenda and which queries it had."""

    def plans(self) -> list[tuple[str, str, str, list[str]]]:
        """The planned gaps: (id, at, label, queries), oldest first."""

    def searches(self, since: str) -> list[tuple]:
        """The searches logged from ``since`` on: (id, at, query, lang, results, best, opened)."""

    def save_report(self, report: dict) -> None:
        """Keep the summary of the latest index run."""

    def last_report(self) -> dict | None:
        """The summary of the latest index run, if any."""

    def save_note(self, stem: str, text: str) -> str:
        """Store a new note's Markdown under ``sessions/`` as ``stem[-n].md`` (never replacing
        one), durably before returning; returns its path relative to the content folder."""

    def stored_notes(self) -> list[tuple[str, str]]:
        """Notes kept in the store and not yet files: (path under the content folder, text)."""

    def notes_exported(self, paths: list[str]) -> None:
        """These stored notes were written into the content folder: the files count from now on."""

    def secret_key(self) -> str:
        """The key that signs forms, created once."""

    def copy_to(self, data_dir) -> bool:
        """A consistent copy of the live generation into another data folder (False: none yet)."""

    def close(self) -> None:
        """Release this thread's connection."""

    def shutdown(self) -> None:
        """Release every connection for good (a process that exits needs not)."""


def cache_batches(rows: Iterable[tuple[str, str, bytes]]) -> Iterator[tuple[str, dict[str, np.ndarray]]]:
    """(model, vectors by chunk hash) per model within each batch of embedding-cache rows
    ``(model, hash, float32 bytes)``: what ``Storage.embedding_cache`` yields."""
    for model in dict.fromkeys(row[0] for row in rows):
        yield model, {digest: np.frombuffer(blob, dtype=np.float32) for name, digest, blob in rows if name == model}


def open_storage(settings: Settings) -> Storage:
    """The backend the settings choose: PostgreSQL when ``KB_DATABASE_URL`` is set, else the
    embedded one. An unreachable database is a ``StoreUnavailable`` that names the setting."""
    if settings.database_url:
        from kb.storage.postgres import PostgresStorage

        return PostgresStorage(settings)
    from kb.storage.embedded import EmbeddedStorage

    return EmbeddedStorage(settings)

