"""Markdown with YAML front matter: articles and session notes."""

from __future__ import annotations

from kb.documents import Document, build_document
from kb.frontmatter import split_front_matter


def load_markdown(text: str, path: str) -> Document:
    fields, body = split_front_matter(text, path)
    return build_document(path, fields, body, "markdown")
