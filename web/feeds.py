"""Atom feeds (RFC 4287), so colleagues can follow Kennisbank in a feed reader or a chat channel."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

from flask import request

NS = "http://www.w3.org/2005/Atom"
UNDATED = "1970-01-01T00:00:00Z"  # Atom needs a time; a document without a date sorts last
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # no XML 1.0 document holds these


def _text(value: str) -> str:
    return NOT_XML.sub("", value)


def timestamp(value: str | None) -> str:
    """A date (``2025-03-12``) or ISO time as an Atom time in UTC."""
    if not value:
        return UNDATED
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return UNDATED
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def atom(title: str, self_path: str, home_path: str, entries: list[dict], html: bool = True) -> bytes:
    """A feed of ``entries`` (``id``, ``title``, ``url``, ``updated`` and optionally ``author``,
    ``summary``, ``categories``, ``lang``), with addresses made absolute on this request's host;
    ``html``: the summaries are HTML (else plain text)."""
    root = request.url_root.rstrip("/")
    feed = ET.Element("feed", xmlns=NS)
    ET.SubElement(feed, "title").text = _text(title)
    ET.SubElement(feed, "id").text = root + self_path
    ET.SubElement(feed, "link", rel="self", href=root + self_path, type="application/atom+xml")
    ET.SubElement(feed, "link", rel="alternate", href=root + home_path, type="text/html")
    times = [timestamp(entry.get("updated")) for entry in entries]
    ET.SubElement(feed, "updated").text = max(times, default=UNDATED)
    ET.SubElement(feed, "generator").text = "Kennisbank"
    for entry, updated in zip(entries, times, strict=True):
        item = ET.SubElement(feed, "entry")
        if entry.get("lang"):
            item.set("xml:lang", entry["lang"])
        ET.SubElement(item, "id").text = root + entry["id"]
        ET.SubElement(item, "title").text = _text(entry["title"])
        ET.SubElement(item, "link", rel="alternate", href=root + entry["url"], type="text/html")
        ET.SubElement(item, "updated").text = updated
        if entry.get("author"):
            ET.SubElement(ET.SubElement(item, "author"), "name").text = _text(entry["author"])
        for term in entry.get("categories", []):
            ET.SubElement(item, "category", term=_text(term))
        if entry.get("summary"):
            ET.SubElement(item, "summary", type="html" if html else "text").text = _text(entry["summary"])
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
