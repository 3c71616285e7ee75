"""One loader per file format, chosen by a plain mapping from suffix to function.

A loader takes the file's text and its path relative to the content folder and returns a
``kb.Document``, or raises ``ContentError`` saying what is wrong with the file.
"""

from __future__ import annotations

from collections.abc import Callable

from indexer.loaders.forum import load_forum
from indexer.loaders.html import load_html
from indexer.loaders.markdown import load_markdown
from kb import Document

LOADERS: dict[str, Callable[[str, str], Document]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".html": load_html,
    ".htm": load_html,
    ".json": load_forum,
}
