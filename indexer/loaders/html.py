"""Saved web pages: title and meta tags, and the main text without navigation, scripts and footers."""

from __future__ import annotations

from bs4 import BeautifulSoup

from kb import ContentError, Document, build_document

CLUTTER = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg",
           "button", "template")
CLUTTER_HINTS = ("cookie", "consent", "banner", "newsletter", "share", "social", "sidebar", "related",
                 "breadcrumb", "comments", "advert", "promo", "subscribe", "skip-link")


def _meta(soup: BeautifulSoup, *names: str) -> str:
    for name in names:
        tag = soup.find("meta", attrs={"name": name}) or soup.find("meta", attrs={"property": name})
        if tag and tag.get("content", "").strip():
            return " ".join(tag["content"].split())
    return ""


def _is_clutter(tag) -> bool:
    if tag.name in ("html", "body", "main", "article") or tag.attrs is None:
        return False
    marks = " ".join([*tag.get("class", []), tag.get("id", ""), tag.get("role", "")]).lower()
    return any(hint in marks for hint in CLUTTER_HINTS)


def load_html(text: str, path: str) -> Document:
    soup = BeautifulSoup(text, "html.parser")
    title = _meta(soup, "og:title") or (soup.title.get_text(" ", strip=True) if soup.title else "")
    for tag in soup.find_all(CLUTTER):
        tag.decompose()
    for tag in [t for t in soup.find_all(True) if _is_clutter(t)]:
        if not tag.decomposed:
            tag.decompose()
    main = soup.find("article") or soup.find("main") or soup.find(attrs={"role": "main"}) or soup.body or soup
    heading = main.find("h1")
    if heading:
        title = heading.get_text(" ", strip=True) or title
        heading.decompose()
    if not main.get_text(strip=True):
        raise ContentError(f"{path}: the page has no main text")
    html_lang = (soup.html.get("lang", "") if soup.html else "")[:2].lower()
    author = _meta(soup, "kb:shared-by", "author", "article:author")
    canonical = soup.find("link", rel="canonical")
    fields = {
        "title": title,
        "author": [author] if author else [],
        "date": _meta(soup, "article:published_time", "date", "dc.date") or None,
        "tags": _meta(soup, "keywords", "article:tag"),
        "language": html_lang,
        "summary": _meta(soup, "description", "og:description"),
        "source_url": canonical.get("href", "") if canonical else "",
    }
    body = "".join(str(child) for child in main.children).strip()
    return build_document(path, fields, body, "html")
