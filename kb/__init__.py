"""Kennisbank core: documents, store, chunking, embeddings, vector index, hybrid search, related learning.

The public API is small; ``web`` and ``indexer`` build on it, and it imports neither.
"""

from kb.config import Settings, load_settings
from kb.documents import Document, Post
from kb.errors import KbError
from kb.indexing import Changes
from kb.knowledge import KnowledgeBase
from kb.search import Filters, Page, Result

__all__ = ["Changes", "Document", "Filters", "KbError", "KnowledgeBase", "Page", "Post", "Result", "Settings",
           "load_settings"]
