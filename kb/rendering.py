"""Document bodies as safe HTML: Markdown rendered, then every body cleaned by one allow-list.

Content files and notes come from colleagues and from saved web pages, so nothing they contain
is trusted: only formatting tags survive, links keep http, https and mailto targets and get
``rel="noopener nofollow"``, and images load only from http(s) addresses.

Markdown is parsed by markdown-it-py (CommonMark): its time grows linearly with the text and
its nesting is bounded, so no note body, however odd, can tie up a worker or overflow the stack.
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt

TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
    "ul", "ol", "li", "dl", "dt", "dd",
    "a", "strong", "em", "b", "i", "del", "s", "sub", "sup", "abbr", "q", "cite", "kbd", "mark",
    "code", "pre", "blockquote", "figure", "figcaption", "img",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
}
ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "td": {"align", "colspan", "rowspan"},
}
URL_SCHEMES = {"http", "https", "mailto"}
_MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_MARKDOWN.validateLink = lambda url: True  # every link reaches the allow-list, which drops bad targets


def _only_web_images(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not value.lower().startswith(("http://", "https://")):
        return None
    return value


BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")  # embeddings, overrides, isolates


def visible_bidi(html: str) -> str:
    """Bidi embedding, override and isolate characters shown as their code point: kept, but inert
    (they could make a passage read otherwise than it is written)."""
    return BIDI_CONTROLS.sub(lambda match: f"[U+{ord(match.group()):04X}]", html)


def sanitize_html(html: str) -> str:
    """``html`` reduced to the formatting allow-list; scripts, styles and handlers are gone; bidi
    controls are shown, not obeyed."""
    return visible_bidi(nh3.clean(
        html or "",
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener nofollow",
        attribute_filter=_only_web_images,
        strip_comments=True,
    ))


def render_markdown(text: str) -> str:
    """Markdown (CommonMark with tables and strikethrough; raw HTML allowed) as sanitised HTML."""
    return sanitize_html(_MARKDOWN.render(text or ""))


def render_body(text: str, body_format: str) -> str:
    """A document or forum post body, whichever format it was written in, as sanitised HTML."""
    return sanitize_html(text) if body_format == "html" else render_markdown(text)
