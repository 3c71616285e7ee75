"""The JSON API (see ``web/openapi.py`` for the contract, served at ``/api/openapi.json``)."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from kb import InvalidInput
from web import knowledge, reader
from web.agenda import note_form_url, window
from web.auth import note_writer
from web.notes import save_note
from web.openapi import describe_response, openapi, schema_text
from web.present import agenda_json, document_json, document_url, related_json, search_json
from web.search import read_query, run

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/search")
def search():
    query = read_query(request.args)
    if not query.text.strip():
        raise InvalidInput("the search query is empty: give q (to list a tag or a person, use /search?tag=…)")
    return jsonify(search_json(run(query)))


@bp.post("/searches/<search_id>/opened")
def opened(search_id: str):
    """A result of a logged search was opened (the page's beacon sends the document id as text)."""
    doc_id = request.get_data(as_text=True)[:300].strip()
    knowledge().record_opened(search_id, doc_id)
    return "", 204


@bp.get("/documents/<path:doc_id>")
def document(doc_id: str):
    return jsonify(document_json(knowledge().document(doc_id, reader())))


@bp.get("/documents/<path:doc_id>/related")
def related(doc_id: str):
    return jsonify(related_json(knowledge().related(doc_id, reader())))


def json_body(what: str):
    """The request's JSON body: 415 when it is not JSON, 413 when it is over the size limit (also
    when it comes in chunks), 400 when it does not parse or nests too deeply."""
    if not request.is_json:
        raise UnsupportedMediaType(f"send {what} as JSON with Content-Type: application/json")
    raw = request.get_data(cache=True)  # RequestEntityTooLarge past MAX_CONTENT_LENGTH when its length is sent
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is None and limit and len(raw) >= limit:
        raise RequestEntityTooLarge()  # sent in chunks: Werkzeug stops reading at the limit, silently
    try:
        return json.loads(raw)
    except RecursionError:
        raise InvalidInput("the request body nests arrays or objects too deeply") from None
    except ValueError:
        raise InvalidInput("the request body is not valid JSON") from None


@bp.post("/notes")
def notes():
    data = json_body("the note")
    if data is None:
        raise InvalidInput("the request body is not valid JSON")
    doc = save_note(data)
    response = jsonify({"id": doc.id, "url": document_url(doc.id)})
    response.status_code = 201
    response.headers["Location"] = url_for("api.document", doc_id=doc.id)
    return response


@bp.get("/agenda")
def agenda():
    """The learning agenda: what colleagues looked for and did not find, grouped by meaning."""
    return jsonify(agenda_json(knowledge().agenda(window(request.args), reader(), fresh=True)))


@bp.post("/agenda/<gap_id>/plan")
def plan(gap_id: str):
    """Mark a gap as planned; the gap, and the note form that starts the session's notes."""
    data = json_body('{} (or {"days": N})')
    if not isinstance(data, dict):
        raise InvalidInput("the request body must be a JSON object, such as {}")
    kb = knowledge()
    note_writer(kb.settings, reader())
    planned = kb.plan_session(gap_id, window({"days": str(data.get("days", 30))}), reader())
    gap = agenda_json({"gaps": [planned]})["gaps"][0]
    return jsonify({"gap": gap, "note_form": note_form_url(planned["prefill"])})


@bp.get("/health")
def health():
    return jsonify(knowledge().health())


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi())


@bp.get("/docs")
def docs():
    """The OpenAPI document as a page people read, rendered here (no scripts, nothing fetched elsewhere)."""
    spec = openapi()
    return render_template("api_docs.html", spec=spec, schema_text=schema_text,
                           describe_response=lambda response: describe_response(spec, response))
