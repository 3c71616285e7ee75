"""The Kennisbank web application: HTML pages and a JSON API over one ``KnowledgeBase``.

``create_app`` is the only way to get the app. Settings come from the defaults, then the
environment (``KB_*``), then ``config``. Nothing heavy happens here: the model and the index
load on the first request that needs them.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, Response, current_app

from kb.config import load_settings
from kb.knowledge import KnowledgeBase
from kb.layout import Layout
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
    app.secret_key = settings.secret_key or stored_secret_key(Layout(settings.data_dir).secret_key)
    app.extensions["kb"] = KnowledgeBase(settings, embedder=embedder)

    from web import api, csrf, documents, errors, i18n, notes, search

    errors.register(app)
    csrf.register(app)
    i18n.register(app)
    for module in (search, documents, notes, api):
        app.register_blueprint(module.bp)
    app.after_request(add_security_headers)
    app.teardown_appcontext(close_store)
    return app


def knowledge() -> KnowledgeBase:
    """The app's knowledge base (one per app; it loads the model and index lazily)."""
    return current_app.extensions["kb"]


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def close_store(_error: BaseException | None = None) -> None:
    """Close this request's SQLite connection, like flaskr closes ``g.db``."""
    knowledge().close()


def stored_secret_key(path: Path) -> str:
    """The key in ``path``, created once (mode 600) when missing; safe when workers race."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)  # never replaces a key another worker wrote first
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
