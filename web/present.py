"""What the API answers, built from ``kb``'s data: addresses, reasons in words, rendered bodies.

Pages and the JSON API show the same data; the ``kb`` command prints this same JSON. Nothing
here needs a request, so the command can use it too.
"""

from __future__ import annotations

from urllib.parse import quote

from kb import Document, Page, describe, render_body
from web.wording import person_reason, reason

DOCUMENT_PATH = "/doc/"  # the document page's route; ids are paths, their slashes stay
RESULT_FIELDS = ("id", "kind", "title", "url", "snippet", "score", "author", "date", "tags", "lang")


def document_url(doc_id: str) -> str:
    return DOCUMENT_PATH + quote(doc_id, safe="/")


def search_json(page: Page) -> dict:
    """``GET /api/search``: the query, the total, the time taken and one page of results."""
    results = []
    for result in page.results:
        fields = {**vars(result), "url": document_url(result.id)}
        results.append({key: fields[key] for key in RESULT_FIELDS})
    return {"query": page.query, "total": page.total, "took_ms": round(page.took_ms, 2), "results": results,
            "facets": page.facets, "did_you_mean": page.did_you_mean, "showing_results_for":
            page.query if page.corrected_from else None, "searched_as_typed": page.corrected_from,
            "suggestions": {"topics": page.topics} if not page.answered else None}


def suggestion_json(item: dict, lang: str = "en") -> dict:
    """A related suggestion with its address and its reason in words (``why`` keeps the data)."""
    return {"id": item["id"], "kind": item["kind"], "title": item["title"], "url": document_url(item["id"]),
            "score": item["score"], "reason": reason(item["why"], lang), "why": item["why"]}


def person_json(person: dict, lang: str = "en") -> dict:
    return {"name": person["name"], "score": person["score"], "reason": person_reason(person["evidence"], lang),
            "evidence": person["evidence"], "documents": person["documents"]}


def related_json(answer: dict, lang: str = "en") -> dict:
    """``GET /api/documents/<id>/related`` (and "learn more" next to results)."""
    shaped = {"related": [suggestion_json(item, lang) for item in answer["related"]],
              "people": [person_json(person, lang) for person in answer["people"]]}
    return {"id": answer["id"], **shaped} if "id" in answer else shaped


def agenda_json(answer: dict, lang: str = "en") -> dict:
    """``GET /api/agenda``: the gaps with addresses for their nearest content and reasons in words
    for their possible hosts."""
    gaps = []
    for gap in answer["gaps"]:
        closed = gap["answered_by"]
        gaps.append({
            **{key: value for key, value in gap.items() if key != "prefill"},
            "nearest": [{"id": item["id"], "title": item["title"], "url": document_url(item["id"])}
                        for item in gap["nearest"]],
            "hosts": [{"name": person["name"], "reason": person_reason(person["evidence"], lang)}
                      for person in gap["hosts"]],
            "answered_by": {**closed, "url": document_url(closed["id"])} if closed else None})
    return {**answer, "gaps": gaps}


def document_json(doc: Document) -> dict:
    """``GET /api/documents/<id>``: the document with its body and posts as sanitised HTML."""
    return {
        "id": doc.id,
        "kind": doc.kind,
        "title": doc.title,
        "url": document_url(doc.id),
        "lang": doc.lang,
        "authors": doc.authors,
        "date": doc.date,
        "tags": doc.tags,
        "summary": doc.summary,
        "source_url": doc.source_url,
        "format": doc.format,
        "category": doc.category,
        "audience": describe(tuple(doc.audience)),
        "added_by": doc.added_by,
        "body_html": render_body(doc.body, doc.body_format) if doc.body else "",
        "posts": [
            {"author": post.author, "date": post.date, "accepted": post.accepted,
             "body_html": render_body(post.body, post.body_format)}
            for post in doc.posts
        ],
    }
