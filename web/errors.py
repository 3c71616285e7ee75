"""The one place where errors become responses: JSON under ``/api/``, an error page elsewhere.

Domain errors (``kb.errors``) carry a code and no HTTP; ``STATUS`` maps each code to a status.
HTTP errors from routing and request parsing (404, 405, 413, 415, ...) take the same path.
"""

from __future__ import annotations

from flask import Flask, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from kb import KbError, NoteInvalid
from web.i18n import STRINGS
from web.wording import field_messages, invalid_note

STATUS = {
    "invalid_input": 400,
    "forbidden": 403,
    "not_found": 404,
    "busy": 503,
    "index_missing": 503,
    "index_mismatch": 503,
    "model_unavailable": 503,
    "store_unavailable": 503,
    "bad_setting": 500,
}
# Short messages for HTTP errors that the app does not raise with its own description.
HTTP_MESSAGES = {
    404: "there is nothing at this address",
    405: "this address does not accept {method} requests",
    413: "the request body is too large (at most 256 KB)",
    415: "send the request body as JSON (Content-Type: application/json)",
    500: "something went wrong on our side; the error is logged",
}


def register(app: Flask) -> None:
    app.register_error_handler(KbError, kb_error)
    app.register_error_handler(HTTPException, http_error)


def kb_error(error: KbError):
    if isinstance(error, NoteInvalid):
        fields = {"fields": field_messages(error.fields, "en")}
        return respond(400, error.code, invalid_note(error.fields, "en"), fields)
    return respond(STATUS.get(error.code, 500), error.code, error.message)


def http_error(error: HTTPException):
    status = error.code or 500
    code = "not_found" if status == 404 else error.name.lower().replace(" ", "_")
    own = error.description if error.description != type(error).description else None
    message = own or HTTP_MESSAGES.get(status, error.name.lower()).format(method=request.method)
    response = respond(status, code, message)
    if getattr(error, "valid_methods", None):  # 405 says what is allowed
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def respond(status: int, code: str, message: str, extra: dict | None = None):
    """``{"error": {"code", "message", ...}}`` for the API; the error page for people."""
    if request.path.startswith("/api/"):
        body = jsonify({"error": {"code": code, "message": message, **(extra or {})}})
    else:
        title = f"error_{status}" if f"error_{status}" in STRINGS["en"] else "error_500"
        body = render_template("error.html", status=status, title=title, message=message)
    return make_response(body, status)
