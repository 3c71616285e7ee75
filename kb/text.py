"""Plain text out of Markdown and HTML, as (kind, text) blocks for chunking and snippets."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")
_TAG = re.compile(r"<[^>]+>")

BLOCK_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "blockquote", "td", "th", "dt", "dd", "figcaption")
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def inline_text(markdown: str) -> str:
    """Markdown inline syntax removed: links keep their text, emphasis markers go."""
    text = _IMAGE.sub(r"\1", markdown)
    text = _LINK.sub(r"\1", text)
    text = _TAG.sub(" ", text)
    return _EMPHASIS.sub("", text).strip()


def markdown_blocks(markdown: str) -> list[tuple[str, str]]:
    """Headings, paragraphs (list items grouped) and code blocks of a Markdown text."""
    blocks: list[tuple[str, str]] = []
    paragraph: list[str] = []
    code: list[str] | None = None

    def flush() -> None:
        if paragraph:
            text = " ".join(paragraph).strip()
            if text:
                blocks.append(("paragraph", text))
            paragraph.clear()

    for line in markdown.splitlines():
        if code is not None:
            if _FENCE.match(line):
                if code:
                    blocks.append(("code", "\n".join(code)))
                code = None
            else:
                code.append(line)
            continue
        if _FENCE.match(line):
            flush()
            code = []
            continue
        heading = _HEADING.match(line)
        if heading:
            flush()
            blocks.append(("heading", inline_text(heading.group(2))))
        elif not line.strip():
            flush()
        elif _LIST_ITEM.match(line):
            paragraph.append(inline_text(_LIST_ITEM.sub("", line, count=1)))
        else:
            paragraph.append(inline_text(line))
    if code:
        blocks.append(("code", "\n".join(code)))
    flush()
    return blocks


def html_blocks(html: str) -> list[tuple[str, str]]:
    """Headings and innermost text blocks of an HTML fragment, in document order."""
    soup = BeautifulSoup(html, "html.parser")
    blocks: list[tuple[str, str]] = []
    for element in soup.find_all(BLOCK_TAGS):
        if element.name not in HEADINGS and element.find(BLOCK_TAGS):
            continue  # its inner blocks are taken one by one
        text = " ".join(element.get_text(" ").split())
        if text:
            blocks.append(("heading" if element.name in HEADINGS else "paragraph", text))
    if not blocks:
        text = " ".join(soup.get_text(" ").split())
        if text:
            blocks.append(("paragraph", text))
    return blocks
