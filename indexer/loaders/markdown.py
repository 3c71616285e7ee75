"""Markdown with YAML front matter: articles and session notes (read as ``kb`` reads a note)."""

from __future__ import annotations

from kb import Document, markdown_document


def load_markdown(text: str, path: str) -> Document:
    return markdown_document(path, text)
