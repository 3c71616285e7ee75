"""The document page: the document, its related learning and the colleagues to ask."""

from __future__ import annotations

from flask import Blueprint, render_template

from web import knowledge, reader
from web.present import DOCUMENT_PATH, document_json
from web.search import evidence_ids

bp = Blueprint("documents", __name__)


@bp.get(DOCUMENT_PATH + "<path:doc_id>")
def page(doc_id: str):
    kb = knowledge()
    who = reader()
    doc = kb.document(doc_id, who)
    related = kb.related(doc.id, who)
    return render_template("document.html", doc=document_json(doc), related=related,
                           titles=kb.titles(evidence_ids(related), who))
