"""Kennisbank core: documents, storage, chunking, embeddings, hybrid search, related learning.

``web`` and ``indexer`` (and the tools in ``bench``) use ``kb`` only through what this module
exports; ``kb`` imports neither. The door is ``KnowledgeBase``: search, documents, related
learning, people to ask, topics, notes, index runs, health. The rest are the data it answers
with, the content model the loaders build, and pure functions the tuning tools call.
"""

from kb.agenda import Gap, PastSearch
from kb.agenda import questions as agenda_questions
from kb.audience import ANYONE, Reader, describe, team_names
from kb.chunking import chunk_document
from kb.config import SETTINGS, Settings, load_settings, require_content_dir
from kb.documents import (
    KIND_FOLDERS,
    KINDS,
    Document,
    Post,
    build_document,
    doc_id_for,
    is_valid_id,
    markdown_document,
    parse_date,
    text_field,
)
from kb.embeddings import CombinedEmbedder
from kb.errors import (
    AudienceError,
    Busy,
    ConfigError,
    ContentError,
    Forbidden,
    IndexMismatch,
    IndexMissing,
    InvalidInput,
    KbError,
    ModelUnavailable,
    NotFound,
    StoreUnavailable,
)
from kb.evaluation import floor_figures, ndcg, precision, recall, summarise
from kb.frontmatter import join_front_matter
from kb.fusion import NO_FLOOR, Floor, FusionParams, above_floor, fuse_for_mode, result_pool, strengths
from kb.indexing import EMBED_BATCH, Applied
from kb.knowledge import KnowledgeBase
from kb.language import LANGUAGES, detect_language
from kb.notes import FORMATS, FieldError, NoteInvalid
from kb.profiles import load_embedder, profile_for
from kb.related import RelatedParams
from kb.rendering import render_body, render_markdown
from kb.search import CANDIDATES, MAX_LIMIT, MAX_OFFSET, MODES, SORTS, Filters, Page, Result, result_set
from kb.search_log import LoggedSearch, normalise_query
from kb.storage.faiss_index import ANN_MIN_CHUNKS, HNSW, Graph, VectorIndex
from kb.storage.migrations import SCHEMA_VERSION
from kb.text import html_blocks, markdown_blocks

__all__ = [
    # the door, and what it answers with
    "KnowledgeBase", "Settings", "load_settings", "require_content_dir", "SETTINGS",
    "Filters", "Page", "Result", "Applied", "MODES", "SORTS", "MAX_LIMIT", "MAX_OFFSET", "FORMATS", "FieldError",
    "NoteInvalid",
    # the learning agenda: logged searches and the gaps they make (its evaluation and benchmark)
    "Gap", "PastSearch", "agenda_questions", "LoggedSearch", "normalise_query",
    # who reads
    "Reader", "ANYONE", "team_names", "describe",
    # errors
    "KbError", "AudienceError", "Busy", "ConfigError", "ContentError", "Forbidden", "IndexMismatch", "IndexMissing",
    "InvalidInput", "ModelUnavailable", "NotFound", "StoreUnavailable",
    # content: documents as the loaders build them, and their bodies as safe HTML
    "Document", "Post", "KINDS", "KIND_FOLDERS", "LANGUAGES", "build_document", "markdown_document",
    "doc_id_for", "is_valid_id", "parse_date", "text_field", "detect_language", "render_body", "render_markdown",
    # what evaluation, benchmarks and tuning call: models, ranking maths, metrics, the embedded vector index
    "load_embedder", "profile_for", "CombinedEmbedder", "FusionParams", "fuse_for_mode", "result_pool",
    "Floor", "NO_FLOOR", "strengths", "above_floor", "floor_figures", "result_set",
    "RelatedParams", "CANDIDATES", "EMBED_BATCH", "ndcg", "precision", "recall", "summarise", "chunk_document",
    "join_front_matter", "html_blocks", "markdown_blocks", "VectorIndex", "Graph", "HNSW", "ANN_MIN_CHUNKS",
    "SCHEMA_VERSION",
]
