"""The API contract as an OpenAPI 3.1 document, written by hand next to the code it describes."""

from __future__ import annotations

from kb import FORMATS, KINDS, MAX_LIMIT, MAX_OFFSET, SORTS


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    return {str(status): {"$ref": f"#/components/responses/{status}"} for status in statuses}


def _object(properties: dict, required: list[str] | None = None) -> dict:
    return {"type": "object", "properties": properties, "required": required or list(properties)}


STRING = {"type": "string"}
DATE = {"type": ["string", "null"], "format": "date"}
STRINGS = {"type": "array", "items": STRING}
DOC_ID = {
    "name": "id", "in": "path", "required": True, "schema": STRING,
    "description": "Document id, a path such as `sessions/2025-03-12-feedback-geven`; its slashes may be "
                   "sent as they are or percent-encoded",
}

SCHEMAS = {
    "Error": _object({"error": _object(
        {"code": STRING, "message": STRING,
         "fields": {"type": "object", "additionalProperties": STRING,
                    "description": "per-field messages (invalid notes only)"}},
        required=["code", "message"])}),
    "SearchResult": _object({
        "id": STRING, "kind": {"enum": list(KINDS)}, "title": STRING, "url": STRING,
        "snippet": {"type": "string", "description": "HTML-escaped passage; matched terms in <mark>"},
        "score": {"type": "number"}, "author": STRING, "date": DATE, "tags": STRINGS,
        "lang": {"enum": ["nl", "en"]},
    }),
    "SearchPage": _object({
        "query": {"type": "string", "description": "the query the results are for (a spelling correction of "
                  "the one sent when `showing_results_for` is set)"},
        "total": {"type": "integer", "description": "documents above the model's relevance floor that pass the "
                  "filters; the same on every page; 0 when nothing matches closely enough"},
        "took_ms": {"type": "number"},
        "results": {"type": "array", "items": _ref("SearchResult")},
        "facets": {"type": "object", "description": "per facet (kind, tag, author, lang) the count of each value "
                   "among the `total` results, commonest first: a value's count is the total that filtering "
                   "on it gives", "properties": {name: {"type": "object", "additionalProperties": {"type": "integer"}}
                                                 for name in ("kind", "tag", "author", "lang")}},
        "did_you_mean": {"type": ["string", "null"], "description": "the query with words the index does not know "
                         "replaced by close ones it does"},
        "showing_results_for": {"type": ["string", "null"], "description": "set when the query as sent found "
                                "nothing and the results are for `did_you_mean` instead"},
        "searched_as_typed": {"type": ["string", "null"], "description": "with `showing_results_for`: the query "
                              "as sent (ask again with `as_typed=1` for its own, empty, answer)"},
        "suggestions": {"oneOf": [{"type": "null"}, _object({"topics": STRINGS})],
                        "description": "when nothing matched closely enough: the tags of what came closest"},
    }),
    "Post": _object({"author": STRING, "date": DATE, "accepted": {"type": "boolean"},
                     "body_html": {"type": "string", "description": "sanitised HTML"}}),
    "Document": _object({
        "id": STRING, "kind": {"enum": list(KINDS)}, "title": STRING, "url": STRING,
        "lang": {"enum": ["nl", "en"]}, "authors": STRINGS, "date": DATE, "tags": STRINGS,
        "summary": STRING, "source_url": STRING, "format": STRING, "category": STRING,
        "audience": {"type": "object", "description": "who may read it: {\"everyone\": true}, "
                     "{\"private\": [names]} or {\"teams\": [names]}"},
        "added_by": {"type": "string", "description": "who added it through Kennisbank (empty for files)"},
        "body_html": {"type": "string", "description": "the rendered, sanitised body (empty for forum threads)"},
        "posts": {"type": "array", "items": _ref("Post")},
    }),
    "Suggestion": _object({"id": STRING, "kind": {"enum": list(KINDS)}, "title": STRING, "url": STRING,
                           "reason": STRING, "score": {"type": "number"},
                           "why": {"type": "object", "description": "the parts of the reason: kind, lang, source_kind, "
                                   "source_lang, shared_tags, shared_people, passage (or near_results for search)"}}),
    "Person": _object({"name": STRING, "score": {"type": "number"}, "reason": STRING,
                       "evidence": {"type": "object", "additionalProperties": {"type": "integer"},
                                    "description": "documents per role: session, article, accepted, post"},
                       "documents": {"type": "array", "items": STRING, "description": "document ids"}}),
    "Related": _object({"id": STRING, "related": {"type": "array", "items": _ref("Suggestion")},
                        "people": {"type": "array", "items": _ref("Person")}}),
    "NewNote": _object({
        "title": {"type": "string", "maxLength": 200},
        "date": {"type": "string", "format": "date"},
        "speakers": {"oneOf": [STRINGS, {"type": "string", "description": "comma-separated"}]},
        "tags": {"oneOf": [STRINGS, {"type": "string", "description": "comma-separated"}]},
        "language": {"enum": ["nl", "en"]},
        "format": {"enum": list(FORMATS)},
        "body": {"type": "string", "description": "Markdown"},
        "visibility": {"type": "string", "default": "everyone", "description": "who may read it: everyone, "
                       "private (the writer) or team:<name>[, team:<name>]; private and team need a signed-in "
                       "writer (KB_AUTH=header or token)"},
    }, required=["title", "date", "speakers", "language", "format", "body"]),
    "NoteCreated": _object({"id": STRING, "url": STRING}),
    "Health": _object({"status": {"enum": ["ok", "empty"]}, "documents": {"type": "integer"},
                       "chunks": {"type": "integer"}, "model": STRING,
                       "index_generation": {"type": "integer"},
                       "ready": {"type": "boolean", "description": "this worker has loaded the model and the index "
                                 "and run them once (kb serve's workers do so before they accept requests)"},
                       "last_run": {"type": "object", "description": "summary of the last index run: finished_at, "
                                    "seconds, added, updated, removed, embedded, skipped (count)"}},
                      required=["status", "documents", "chunks", "model", "index_generation", "ready"]),
    "Gap": _object({
        "id": {"type": "string", "description": "stable while the gap's most asked question is (or its plan's id)"},
        "label": {"type": ["string", "null"], "description": "the most asked question, when it was asked at least "
                  "KB_AGENDA_MIN_COUNT times; null otherwise"},
        "searches": {"type": "integer", "description": "searches that missed"},
        "queries": {"type": "integer", "description": "distinct questions among them"},
        "first_asked": {"type": "string", "format": "date-time"},
        "last_asked": {"type": "string", "format": "date-time"},
        "examples": {**STRINGS, "description": "up to five questions asked at least KB_AGENDA_MIN_COUNT times"},
        "nearest": {"type": "array", "items": _object({"id": STRING, "title": STRING, "url": STRING}),
                    "description": "the closest existing content the reader may see, however weak"},
        "hosts": {"type": "array", "items": _object({"name": STRING, "reason": STRING}),
                  "description": "colleagues who could host a session, from the nearest content"},
        "rising": {"type": "boolean", "description": "more searches this week than the window's weekly average"},
        "status": {"enum": ["open", "planned", "answered"]},
        "planned_at": {"type": ["string", "null"], "format": "date-time"},
        "answered_at": {"type": ["string", "null"], "format": "date-time",
                        "description": "when one of its questions last found a result that was opened, after its "
                                       "last miss"},
        "answered_by": {"oneOf": [{"type": "null"}, _object({"id": STRING, "title": STRING, "url": STRING})],
                        "description": "the document opened then (null when the reader may not see it)"},
    }),
    "Agenda": _object({"window_days": {"type": "integer"},
                       "searches": {"type": "integer", "description": "searches logged in the window"},
                       "gaps": {"type": "array", "items": _ref("Gap"), "description": "most asked first"}}),
    "Planned": _object({"gap": _ref("Gap"), "note_form": {
        "type": "string", "description": "the note form, filled in with the gap's question, tags and hosts"}}),
}

RESPONSES = {
    str(status): _json(_ref("Error"), description)
    for status, description in (
        (400, "invalid input (`invalid_input`)"),
        (403, "not allowed to write (`forbidden`)"),
        (404, "no such document or address (`not_found`)"),
        (405, "method not allowed; the Allow header lists the allowed ones"),
        (413, "request body over 256 KB"),
        (415, "request body is not JSON"),
        (503, "not ready: nothing indexed, index built with other settings, model missing, or busy"),
    )
}


def _filter(name: str, description: str, schema: dict = STRING) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


PATHS = {
    "/api/search": {"get": {
        "summary": "Hybrid search: one result per document above the relevance floor, best passage highlighted",
        "parameters": [
            {"name": "q", "in": "query", "required": True, "schema": {**STRING, "minLength": 1},
             "description": "the question or keywords, in Dutch or English"},
            _filter("kind", "only this kind", {"enum": list(KINDS)}),
            _filter("tag", "only documents with this tag"),
            _filter("author", "only documents by this author or speaker"),
            _filter("lang", "only documents in this language", {"enum": ["nl", "en"]}),
            _filter("date_from", "only documents of this day or later", {"type": "string", "format": "date"}),
            _filter("date_to", "only documents of this day or earlier", {"type": "string", "format": "date"}),
            _filter("sort", "best match first (default) or newest first", {"enum": list(SORTS),
                                                                           "default": "relevance"}),
            _filter("as_typed", "1: never answer with a spelling correction's results", {"enum": ["0", "1", "true"]}),
            _filter("limit", "results per page (default: the top_k setting)",
                    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
            _filter("offset", "results to skip", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET,
                                                   "default": 0}),
        ],
        "responses": {"200": _json(_ref("SearchPage"), "a page of results"), **_errors(400, 405, 503)},
    }},
    "/api/documents/{id}": {"get": {
        "summary": "One document with its body rendered to sanitised HTML",
        "parameters": [DOC_ID],
        "responses": {"200": _json(_ref("Document"), "the document"), **_errors(404, 405)},
    }},
    "/api/documents/{id}/related": {"get": {
        "summary": "Related learning: sessions, threads and articles, and people to ask, each with a reason",
        "parameters": [DOC_ID],
        "responses": {"200": _json(_ref("Related"), "suggestions"), **_errors(404, 405, 503)},
    }},
    "/api/notes": {"post": {
        "summary": "Add a session note; it is searchable when the response returns",
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewNote")}}},
        "responses": {
            "201": {**_json(_ref("NoteCreated"), "the note was saved and indexed"),
                    "headers": {"Location": {"schema": STRING,
                                             "description": "/api/documents/{id} of the new note"}}},
            **_errors(400, 403, 405, 413, 415, 503),
        },
    }},
    "/api/searches/{id}/opened": {"post": {
        "summary": "Tell the search log which result of a search was opened (the search page's beacon)",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": STRING,
                        "description": "the search's id, from the result list's data-search attribute"}],
        "requestBody": {"required": True, "content": {"text/plain": {"schema": {
            "type": "string", "description": "the id of the document opened"}}}},
        "responses": {"204": {"description": "noted (or ignored: the log is off, or the ids are not ids)"},
                      **_errors(405)},
    }},
    "/api/agenda": {"get": {
        "summary": "The learning agenda: logged searches that found nothing (or nothing opened), grouped by meaning",
        "parameters": [_filter("days", "the window, in days (default 30)",
                               {"type": "integer", "minimum": 1, "maximum": 3650, "default": 30})],
        "responses": {"200": _json(_ref("Agenda"), "the agenda"), **_errors(400, 405, 503)},
    }},
    "/api/agenda/{id}/plan": {"post": {
        "summary": "Plan a session on a gap: it shows as planned until its questions find what they look for",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": STRING,
                        "description": "the gap's id, from GET /api/agenda"}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _object(
            {"days": {"type": "integer", "minimum": 1, "maximum": 3650, "default": 30,
                      "description": "the agenda's window the id is from"}}, required=[])}}},
        "responses": {"200": _json(_ref("Planned"), "the gap, now planned"), **_errors(400, 403, 404, 405, 415, 503)},
    }},
    "/feed.atom": {"get": {
        "summary": "Atom feed of new and updated articles, session notes and forum threads, newest first (50)",
        "description": "Entries are dated by the document's own date; filtered like a search, and holding only "
                       "what the reader may see.",
        "parameters": [_filter("kind", "only this kind", {"enum": list(KINDS)}),
                       _filter("tag", "only documents with this tag"),
                       _filter("author", "only documents by this author or speaker"),
                       _filter("lang", "only documents in this language", {"enum": ["nl", "en"]})],
        "responses": {"200": {"description": "Atom 1.0", "content": {"application/atom+xml": {}}}, **_errors(400)},
    }},
    "/agenda.atom": {"get": {
        "summary": "Atom feed of the learning agenda's gaps whose question may be shown, newest first",
        "parameters": [_filter("days", "the window, in days (default 30)",
                               {"type": "integer", "minimum": 1, "maximum": 3650, "default": 30})],
        "responses": {"200": {"description": "Atom 1.0", "content": {"application/atom+xml": {}}}, **_errors(400)},
    }},
    "/api/health": {"get": {
        "summary": "Documents, chunks, model and index generation being served",
        "responses": {"200": _json(_ref("Health"), "status"), **_errors(405)},
    }},
    "/api/docs": {"get": {
        "summary": "This document as a page to read (HTML)",
        "responses": {"200": {"description": "the page", "content": {"text/html": {}}}},
    }},
    "/api/openapi.json": {"get": {
        "summary": "This document",
        "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
    }},
}


def openapi() -> dict:
    """The OpenAPI 3.1 description of ``/api/``."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Kennisbank API", "version": "1",
                 "description": "Bilingual (Dutch/English) search and related learning over articles, "
                                "session notes and forum threads. Errors are "
                                "`{\"error\": {\"code\", \"message\"}}` with the HTTP status."},
        "paths": PATHS,
        "components": {"schemas": SCHEMAS, "responses": RESPONSES},
    }


def schema_text(schema: dict | None) -> str:
    """A schema in a few words for the API page: ``string``, ``integer | null``, ``SearchResult[]``, ``"a" | "b"``."""
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "enum" in schema:
        return " | ".join(f'"{value}"' for value in schema["enum"])
    if "oneOf" in schema:
        return " | ".join(schema_text(part) for part in schema["oneOf"])
    kind = schema.get("type", "")
    if kind == "array":
        return schema_text(schema.get("items")) + "[]"
    if isinstance(kind, list):
        return " | ".join(kind)
    if kind == "object" and "properties" in schema:
        return "{" + ", ".join(schema["properties"]) + "}"
    return kind + (f" ({schema['format']})" if "format" in schema else "")


def describe_response(spec: dict, response: dict) -> str:
    """A response in words: its description and what its body is."""
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    kinds = [f"{kind} {schema_text(content.get('schema'))}".strip() for kind, content in
             response.get("content", {}).items()]
    return response.get("description", "") + (f" ({'; '.join(kinds)})" if kinds else "")
