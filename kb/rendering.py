"""Document bodies as safe HTML: Markdown rendered, then every body cleaned by one allow-list.

Content files and notes come from colleagues and from saved web pages, so nothing they contain
is trusted: only formatting tags survive, links keep http, https and mailto targets and get
``rel="noopener nofollow"``, and images load only from http(s) addresses.
"""

from __future__ import annotations

import markdown
import nh3

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


def _only_web_images(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not value.lower().startswith(("http://", "https://")):
        return None
    return value


def sanitize_html(html: str) -> str:
    """``html`` reduced to the formatting allow-list; scripts, styles and handlers are gone."""
    return nh3.clean(
        html or "",
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener nofollow",
        attribute_filter=_only_web_images,
        strip_comments=True,
    )


def render_markdown(text: str) -> str:
    """Markdown (with tables, fenced code, definition lists) as sanitised HTML."""
    html = markdown.markdown(text or "", extensions=["extra", "sane_lists"], output_format="html")
    return sanitize_html(html)


def render_body(text: str, body_format: str) -> str:
    """A document or forum post body, whichever format it was written in, as sanitised HTML."""
    return sanitize_html(text) if body_format == "html" else render_markdown(text)
