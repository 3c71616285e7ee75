"""The Kennisbank web application: HTML pages and a JSON API over one ``KnowledgeBase``.

``create_app`` is the only way to get the app. Settings come from the defaults, then the
environment (``KB_*``), then ``config``. Nothing heavy happens here: the model and the index
load on the first request that needs them.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request

from kb import KnowledgeBase, Reader, load_settings
from web import auth

MAX_REQUEST_BYTES = 256 * 1024
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def create_app(config: dict | None = None) -> Flask:
    """The app for ``config``: setting overrides (lower case), Flask options (upper case, e.g.
    ``TESTING``) and, for tests, an ``embedder`` to use instead of the configured model."""
    config = dict(config or {})
    embedder = config.pop("embedder", None)
    flask_config = {key: config.pop(key) for key in list(config) if key.isupper()}  # TESTING, ...
    settings = load_settings(overrides=config)
    auth.check_settings(settings)

    app = Flask(__name__)
    app.config.update({
        "MAX_CONTENT_LENGTH": MAX_REQUEST_BYTES,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        **flask_config,
    })
    app.json.sort_keys = False  # keep the contract's field order
    kb = KnowledgeBase(settings, embedder=embedder)
    kb.relevance_floor()  # a model without a relevance floor cannot answer searches: say so at start
    app.secret_key = kb.secret_key()
    app.extensions["kb"] = kb

    from web import agenda, api, csrf, documents, errors, i18n, notes, search

    errors.register(app)
    csrf.register(app)
    i18n.register(app)
    for module in (search, documents, notes, agenda, api):
        app.register_blueprint(module.bp)
    app.after_request(add_security_headers)
    app.teardown_appcontext(close_store)
    return app


def knowledge() -> KnowledgeBase:
    """The app's knowledge base (one per app; it loads the model and index lazily)."""
    return current_app.extensions["kb"]


def reader() -> Reader:
    """Who makes this request (by the ``auth`` setting; once per request)."""
    if "reader" not in g:
        g.reader = auth.reader(knowledge().settings)
    return g.reader


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    settings = knowledge().settings
    if settings.auth != "none" and not request.path.startswith("/static/"):
        # what a page holds depends on who asks: no shared cache may keep it for someone else
        response.headers["Cache-Control"] = "private, no-store"
        response.vary.add(settings.auth_header if settings.auth == "header" else "Authorization")
    return response


def close_store(_error: BaseException | None = None) -> None:
    """Close this request's SQLite connection, like flaskr closes ``g.db``."""
    knowledge().close()
