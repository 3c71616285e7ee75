"""Split documents into passages that follow their structure and fit the model's window.

Markdown and HTML bodies are cut into sections at headings, sections into paragraphs, and
paragraphs are packed into chunks of about ``max_words`` words. A paragraph that is too long on
its own is split at sentence ends, else between words; never inside a word. Forum threads give
one chunk per post (split the same way when long). Every chunk knows its document title and
section heading, which are prepended to the text that is embedded.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from kb.documents import Document
from kb.text import html_blocks, markdown_blocks

_SENTENCE_END = re.compile(r"(?<=[.!?…:;])\s+")
_MAX_TOKEN_CHARS = 60  # unbroken runs longer than this (CJK text, base64) are split by characters


@dataclass(frozen=True)
class Chunk:
    ord: int
    heading: str
    text: str
    title: str

    @property
    def embed_text(self) -> str:
        """What the embedder sees: title and heading give a passage its context."""
        context = " — ".join(part for part in (self.title, self.heading) if part)
        return f"{context}\n{self.text}" if context else self.text

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.embed_text.encode("utf-8")).hexdigest()


def chunk_document(doc: Document, max_words: int = 160) -> list[Chunk]:
    """All chunks of one document, in reading order. An empty document gives one title chunk."""
    sections: list[tuple[str, list[str]]] = []
    if doc.summary:
        sections.append(("", [doc.summary]))
    if doc.kind == "forum":
        for post in doc.posts:
            blocks = html_blocks(post.body) if post.body_format == "html" else markdown_blocks(post.body)
            label = post.author + (" (accepted answer)" if post.accepted else "")
            sections.append((label, [text for _, text in blocks]))
    else:
        blocks = html_blocks(doc.body) if doc.body_format == "html" else markdown_blocks(doc.body)
        sections.extend(_sections(blocks))
    chunks: list[Chunk] = []
    for heading, paragraphs in sections:
        for text in _pack(paragraphs, max_words):
            chunks.append(Chunk(len(chunks), heading, text, doc.title))
    if not chunks:
        chunks.append(Chunk(0, "", doc.title, doc.title))
    return chunks


def _sections(blocks: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """Group (kind, text) blocks under the nearest preceding heading."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    for kind, text in blocks:
        if kind == "heading":
            sections.append((text, []))
        else:
            sections[-1][1].append(text)
    return [(heading, paragraphs) for heading, paragraphs in sections if paragraphs]


def _pack(paragraphs: list[str], max_words: int) -> list[str]:
    """Greedy packing of whole paragraphs; oversized paragraphs are split first."""
    pieces: list[list[str]] = []
    for paragraph in paragraphs:
        words = _words(paragraph)
        if not words:
            continue
        if len(words) <= max_words:
            pieces.append(words)
        else:
            pieces.extend(_split_long(paragraph, max_words))
    chunks: list[str] = []
    current: list[str] = []
    count = 0
    for words in pieces:
        if current and count + len(words) > max_words:
            chunks.append("\n".join(current))
            current, count = [], 0
        current.append(" ".join(words))
        count += len(words)
    if current:
        chunks.append("\n".join(current))
    return chunks


def _split_long(paragraph: str, max_words: int) -> list[list[str]]:
    """Split at sentence ends when sentences fit, otherwise every ``max_words`` words."""
    out: list[list[str]] = []
    current: list[str] = []
    for sentence in _SENTENCE_END.split(paragraph):
        words = _words(sentence)
        while len(words) > max_words:
            if current:
                out.append(current)
                current = []
            out.append(words[:max_words])
            words = words[max_words:]
        if current and len(current) + len(words) > max_words:
            out.append(current)
            current = []
        current = current + words
    if current:
        out.append(current)
    return out


def _words(text: str) -> list[str]:
    words: list[str] = []
    for word in text.split():
        if len(word) <= _MAX_TOKEN_CHARS:
            words.append(word)
        else:
            words.extend(word[i : i + _MAX_TOKEN_CHARS // 3] for i in range(0, len(word), _MAX_TOKEN_CHARS // 3))
    return words
