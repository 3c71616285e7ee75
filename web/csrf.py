"""Cross-site request forgery protection for HTML forms.

Each browser session gets a random id; a form carries that id signed with the app's secret
key and a timestamp. Every form POST outside ``/api/`` must bring a token that verifies and
matches the session. (The JSON API accepts only ``application/json``, which a cross-site form
cannot send.)
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, current_app, request, session
from itsdangerous import BadData, URLSafeTimedSerializer

from kb import InvalidInput

FIELD = "csrf_token"
MAX_AGE = 12 * 3600  # seconds; a form left open longer than a working day must be reloaded


def register(app: Flask) -> None:
    app.before_request(check)
    app.jinja_env.globals["csrf_token"] = token


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="kb-csrf")


def token() -> str:
    """A token for a form in this session (the session id is created on first use)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return _serializer().dumps(session["csrf"])


def check() -> None:
    if request.method != "POST" or request.path.startswith("/api/"):
        return
    sent = request.form.get(FIELD, "")
    try:
        session_id = _serializer().loads(sent, max_age=MAX_AGE)
    except BadData:
        session_id = None
    if not session_id or not hmac.compare_digest(str(session_id), str(session.get("csrf", ""))):
        raise InvalidInput(
            "the form has expired or did not come from this site; reload the page and send it again"
        )
