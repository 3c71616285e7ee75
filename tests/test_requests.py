"""Requests at and past the limits, ids that look like paths, and security headers.

Extends tests/test_api.py (which covers the common cases) with the edges: exact limits, encoded
and absolute path ids (checked against the files actually opened), and every kind of error
response carrying the security headers. Who may write is in tests/test_writers.py.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import web_config
from web import create_app

ARTICLE = "articles/2025-03-12-feedback-that-lands"
NOTE = {"title": "Leerlunch: logboeken lezen", "date": "2026-02-10", "speakers": "Lars Brouwer",
        "tags": "incident-response", "language": "nl", "format": "lunch & learn",
        "body": "We lazen samen de logboeken van de kraanvogelstoring."}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One indexed world for the read-only checks (the write checks build their own)."""
    return web_config(tmp_path_factory.mktemp("requests"))


@pytest.fixture(scope="module")
def client(world):
    app = create_app(world)
    yield app.test_client()
    app.extensions["kb"].close()


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_json()["error"]


# what is opened while a request runs ----------------------------------------------------------

_OPENED: list[str] | None = None
_HOOKED = threading.Lock()


def _audit(event: str, args: tuple) -> None:
    if _OPENED is not None and event == "open" and isinstance(args[0], str | bytes | os.PathLike):
        _OPENED.append(os.fsdecode(args[0]))


@contextmanager
def opened_files():
    """Paths that Python code opened inside the block (an audit hook, installed once)."""
    global _OPENED
    with _HOOKED:
        if not getattr(opened_files, "installed", False):
            sys.addaudithook(_audit)
            opened_files.installed = True
        _OPENED = []
        try:
            yield _OPENED
        finally:
            _OPENED = None


# ids that look like paths -----------------------------------------------------------------------

PATH_IDS = [
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "articles/%2e%2e/%2e%2e/etc/passwd", "articles%2f..%2f..%2fetc%2fpasswd",
    "/etc/passwd", "//etc/passwd", "articles//etc/passwd", "articles/..\\..\\etc\\passwd",
    "..%5c..%5cetc%5cpasswd", "articles\\2025-03-12-feedback-that-lands", "articles/%00", "articles/x%00.md",
    ARTICLE + "%00", ARTICLE + ".md", ARTICLE + "/", "sessions/../../var/secret_key",
    "articles/....//....//etc/passwd", "~/.ssh/id_rsa", "articles/%252e%252e%252fetc",
    "articles/" + "a" * 400, "C:\\Windows\\win.ini", "file:///etc/passwd",
]


@pytest.mark.parametrize("doc_id", PATH_IDS)
def test_path_like_ids_are_404_and_open_nothing_outside_the_app(client, world, doc_id):
    allowed = [Path(__file__).resolve().parent.parent / "web", Path(sys.prefix), Path(sys.base_prefix)]
    with opened_files() as opened:
        responses = [client.get(path, follow_redirects=True)  # "//" is merged into "/" by a local redirect
                     for path in ("/api/documents/" + doc_id, f"/api/documents/{doc_id}/related", "/doc/" + doc_id)]
    for response in responses:
        assert response.status_code == 404, (doc_id, response.status_code)
        assert all(urlsplit(r.headers["Location"]).netloc in ("", "localhost") for r in response.history)
    outside = [path for path in opened if not any(Path(path).resolve().is_relative_to(root) for root in allowed)]
    assert outside == []


@pytest.mark.parametrize("path", ["/static/../var/secret_key", "/static/..%2f..%2fvar%2fsecret_key",
                                  "/static/%2e%2e/%2e%2e/pyproject.toml", "/static//etc/passwd",
                                  "/static/..\\..\\pyproject.toml"])
def test_static_files_stay_inside_the_static_folder(client, world, path):
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 404
    secret = (Path(world["data_dir"]) / "secret_key")
    assert not secret.exists() or secret.read_text() not in response.get_data(as_text=True)


# limits -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("params, status", [
    ({"q": "x" * 1000}, 200),
    ({"q": "é" * 1000}, 200),
    ({"q": "é" * 1001}, 400),
    ({"q": "feedback" + " " * 5000 + "sbi"}, 200),  # whitespace collapses before the length counts
    ({"q": "feedback", "limit": "100"}, 200),
    ({"q": "feedback", "limit": "101"}, 400),
    ({"q": "feedback", "limit": "-5"}, 400),
    ({"q": "feedback", "limit": "1e3"}, 400),
    ({"q": "feedback", "limit": "0x10"}, 400),
    ({"q": "feedback", "limit": "9" * 400}, 400),
    ({"q": "feedback", "offset": "1000"}, 200),
    ({"q": "feedback", "offset": "1001"}, 400),
    ({"q": "feedback", "offset": "nan"}, 400),
    ({"q": "feedback", "offset": "9" * 5000}, 400),
])
def test_query_length_limit_and_offset_are_bounded(client, params, status):
    assert client.get("/api/search", query_string=params).status_code == status
    page = client.get("/search", query_string=params)
    assert page.status_code == status and "text/html" in page.content_type


@pytest.mark.parametrize("content_type", ["text/json", "multipart/form-data; boundary=x", "application/xml",
                                          "application/javascript", "text/html"])
def test_note_writes_take_only_json(client, content_type):
    response = client.post("/api/notes", data=json.dumps(NOTE), content_type=content_type)
    assert error_of(response, 415)["code"] == "unsupported_media_type"


def test_oversized_bodies_are_413_for_the_form_and_the_api_alike(client):
    big = "x" * (300 * 1024)
    api = client.post("/api/notes", data=json.dumps({**NOTE, "body": big}), content_type="application/json")
    assert error_of(api, 413)["code"] == "request_entity_too_large"
    form = client.post("/notes/new", data={**NOTE, "body": big, "csrf_token": "x"})
    assert form.status_code == 413 and "text/html" in form.content_type


def test_note_body_within_the_request_limit_but_over_the_note_limit_is_a_field_error(tmp_path):
    client = create_app(web_config(tmp_path)).test_client()
    error = error_of(client.post("/api/notes", json={**NOTE, "body": "woord " * 20_000}), 400)
    assert set(error["fields"]) == {"body"}


def test_lone_surrogates_in_a_note_are_a_field_error_and_write_nothing(tmp_path):
    config = web_config(tmp_path)
    client = create_app(config).test_client()
    before = sorted((Path(config["content_dir"]) / "sessions").iterdir())
    raw = json.dumps({**NOTE, "title": "Kapot \ud800 teken", "body": "tekst \udfff"})  # JSON escapes
    error = error_of(client.post("/api/notes", data=raw, content_type="application/json"), 400)
    assert set(error["fields"]) == {"title", "body"}
    assert sorted((Path(config["content_dir"]) / "sessions").iterdir()) == before


@pytest.mark.parametrize("title", ["../../../etc/passwd", "/etc/cron.d/evil", "..\\..\\windows\\evil",
                                   "nul\x00byte", "~root/.bashrc", ".hidden", "a/b/c"])
def test_note_titles_never_steer_where_the_file_is_written(tmp_path, title):
    config = web_config(tmp_path)
    client = create_app(config).test_client()
    before = set(tmp_path.rglob("*"))
    response = client.post("/api/notes", json={**NOTE, "title": title})
    assert response.status_code == 201, response.get_data(as_text=True)
    sessions = Path(config["content_dir"]).resolve() / "sessions"
    data_dir = Path(config["data_dir"]).resolve()
    written = {path for path in set(tmp_path.rglob("*")) - before if not path.resolve().is_relative_to(data_dir)}
    assert len(written) == 1 and next(iter(written)).resolve().parent == sessions
    assert response.get_json()["id"].startswith("sessions/2026-02-10-")


# security headers on every kind of response -----------------------------------------------------

def csp_of(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def assert_secured(response) -> None:
    csp = csp_of(response)
    script = csp.get("script-src", csp.get("default-src"))
    assert script == ["'self'"] and "'unsafe-inline'" not in csp.get("default-src", [])
    assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp.get("object-src", csp["default-src"]) in (["'self'"], ["'none'"])
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
    assert response.headers["X-Frame-Options"] == "DENY"


def test_every_kind_of_response_carries_the_security_headers(tmp_path, monkeypatch):
    config = web_config(tmp_path)
    app = create_app({**config, "TESTING": False})
    client = app.test_client()
    responses = {
        "html 200": client.get("/search?q=feedback"),
        "api 200": client.get("/api/search?q=feedback"),
        "api 201": client.post("/api/notes", json=NOTE),
        "redirect 303": client.get("/lang/nl?next=/"),
        "api 400": client.get("/api/search?q=feedback&limit=0"),
        "html 400": client.post("/notes/new", data={**NOTE, "csrf_token": "forged"}),
        "api 404": client.get("/api/documents/articles/nope"),
        "html 404": client.get("/doc/articles/nope"),
        "api 405": client.put("/api/notes"),
        "api 413": client.post("/api/notes", data="x" * (300 * 1024), content_type="application/json"),
        "api 415": client.post("/api/notes", data="x", content_type="text/plain"),
        "static": client.get("/static/kb.css"),
        "openapi": client.get("/api/openapi.json"),
    }
    monkeypatch.setattr(app.extensions["kb"], "search", lambda *args, **kwargs: 1 / 0)
    responses["api 500"] = client.get("/api/search?q=feedback")
    responses["html 500"] = client.get("/search?q=feedback")
    forbidding = create_app({**config, "auth": "header"}).test_client()
    responses["api 403"] = forbidding.post("/api/notes", json=NOTE)
    responses["html 403"] = forbidding.get("/notes/new")
    for name, response in responses.items():
        status = int(name.split()[-1]) if name.split()[-1].isdigit() else 200
        assert response.status_code == status, (name, response.status_code)
        assert_secured(response)
