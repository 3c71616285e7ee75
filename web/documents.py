"""The document page, and the document as data that the page and the API share."""

from __future__ import annotations

from flask import Blueprint, render_template

from kb.documents import Document, is_valid_id
from kb.errors import NotFound
from kb.rendering import render_body
from web import knowledge
from web.search import titles_of

bp = Blueprint("documents", __name__)


def find_document(doc_id: str) -> Document:
    """The document with this id; NotFound for unknown ids and for path-like ones alike."""
    if not is_valid_id(doc_id):
        raise NotFound(f"no document with id {doc_id!r}")
    return knowledge().document(doc_id)


def document_data(doc: Document) -> dict:
    """The document with its body and forum posts rendered to sanitised HTML."""
    return {
        "id": doc.id,
        "kind": doc.kind,
        "title": doc.title,
        "url": doc.url,
        "lang": doc.lang,
        "authors": doc.authors,
        "date": doc.date,
        "tags": doc.tags,
        "summary": doc.summary,
        "source_url": doc.source_url,
        "format": doc.format,
        "category": doc.category,
        "body_html": render_body(doc.body, doc.body_format) if doc.body else "",
        "posts": [
            {"author": post.author, "date": post.date, "accepted": post.accepted,
             "body_html": render_body(post.body, post.body_format)}
            for post in doc.posts
        ],
    }


def related_data(doc: Document) -> dict:
    """Related learning for the document: suggestions and people, each with a reason."""
    kb = knowledge()
    return kb.related().for_document(kb.store(), doc)


@bp.get("/doc/<path:doc_id>")
def page(doc_id: str):
    doc = find_document(doc_id)
    related = related_data(doc)
    return render_template("document.html", doc=document_data(doc), related=related,
                           titles=titles_of(knowledge(), related))
