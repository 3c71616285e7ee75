"""Who may write: each ``KB_AUTH`` mode end to end, through the API and the form."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.errors import ConfigError
from kb.frontmatter import split_front_matter
from tests.conftest import BOTH_BACKENDS, web_config
from tests.web_support import note_markdown
from web import create_app

BACKENDS = BOTH_BACKENDS

ARTICLE = "articles/2025-03-12-feedback-that-lands"
NOTE = {"title": "Leerlunch: logboeken lezen", "date": "2026-02-10", "speakers": "Lars Brouwer",
        "tags": "incident-response", "language": "nl", "format": "lunch & learn",
        "body": "We lazen samen de logboeken van de kraanvogelstoring."}


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_json()["error"]


def note_file(config: dict, doc_id: str) -> dict:
    return split_front_matter(note_markdown(config, doc_id), doc_id)[0]


def form_post(client, data: dict, **kwargs):
    """The note form as a browser sends it: fetch the form for its token, then post."""
    import re

    page = client.get("/notes/new", **kwargs).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/notes/new", data={**data, "csrf_token": token, "action": "save"}, **kwargs)


def test_without_auth_anyone_writes_and_no_name_is_recorded_whatever_the_request_claims(tmp_path):
    config = web_config(tmp_path)
    client = create_app(config).test_client()
    claims = {"X-Forwarded-User": "Mallory", "Authorization": "Bearer whatever"}
    response = client.post("/api/notes", json={**NOTE, "added_by": "Mallory"}, headers=claims)
    assert response.status_code == 201
    assert "added_by" not in note_file(config, response.get_json()["id"])
    saved = form_post(client, {**NOTE, "title": "Via het formulier", "added_by": "Mallory"}, headers=claims)
    assert saved.status_code == 303
    assert "added_by" not in note_file(config, saved.headers["Location"].removeprefix("/doc/"))


def test_header_auth_honours_the_header_only_from_trusted_proxies(tmp_path):
    config = web_config(tmp_path)
    client = create_app({**config, "auth": "header", "trusted_proxies": "10.0.0.7, ::1"}).test_client()
    proxy, stranger = {"REMOTE_ADDR": "10.0.0.7"}, {"REMOTE_ADDR": "127.0.0.1"}
    who = {"X-Forwarded-User": "  Eva   Willems "}
    assert error_of(client.post("/api/notes", json=NOTE, headers=who, environ_base=stranger),
                    403)["code"] == "forbidden"
    assert client.get("/notes/new", headers=who, environ_base=stranger).status_code == 403
    assert error_of(client.post("/api/notes", json=NOTE, environ_base=proxy), 403)["code"] == "forbidden"
    assert error_of(client.post("/api/notes", json=NOTE, headers={"X-Forwarded-User": "  "}, environ_base=proxy),
                    403)["code"] == "forbidden"
    response = client.post("/api/notes", json={**NOTE, "added_by": "Mallory"}, headers=who, environ_base=proxy)
    assert response.status_code == 201
    assert note_file(config, response.get_json()["id"])["added_by"] == "Eva Willems"
    saved = form_post(client, {**NOTE, "title": "Via het formulier", "added_by": "Mallory"}, headers=who,
                      environ_base=proxy)
    assert saved.status_code == 303
    assert note_file(config, saved.headers["Location"].removeprefix("/doc/"))["added_by"] == "Eva Willems"
    for path in ("/", "/search?q=feedback", "/doc/" + ARTICLE, "/api/search?q=feedback", "/api/documents/" + ARTICLE):
        assert client.get(path, environ_base=stranger).status_code == 200, path


def test_header_auth_reads_the_configured_header(tmp_path):
    config = web_config(tmp_path)
    client = create_app({**config, "auth": "header", "auth_header": "X-Remote-User"}).test_client()
    assert client.post("/api/notes", json=NOTE, headers={"X-Forwarded-User": "Eva"}).status_code == 403
    response = client.post("/api/notes", json=NOTE, headers={"X-Remote-User": "Noor Hendriks"})
    assert note_file(config, response.get_json()["id"])["added_by"] == "Noor Hendriks"


@pytest.fixture
def tokens(tmp_path) -> Path:
    path = tmp_path / "tokens"
    path.write_text("# token name\n\nt0k-lars Lars Brouwer\n#t0k-old Old Account\nt0k-noor Noor Hendriks\n"
                    "t0k-nameless\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer ", "Bearer wrong", "Basic t0k-lars",
                                           "Bearer t0k-lar", "Bearer t0k-lars-and-more", "Bearer #t0k-old",
                                           "Bearer t0k-nameless", "t0k-lars", "Bearer T0K-LARS"])
def test_token_auth_refuses_anything_but_a_known_token(tmp_path, tokens, authorization):
    config = web_config(tmp_path)
    client = create_app({**config, "auth": "token", "api_tokens": str(tokens)}).test_client()
    headers = {} if authorization is None else {"Authorization": authorization}
    assert error_of(client.post("/api/notes", json=NOTE, headers=headers), 403)["code"] == "forbidden"


def test_token_auth_records_the_token_owner_and_reading_stays_open(tmp_path, tokens):
    config = web_config(tmp_path)
    client = create_app({**config, "auth": "token", "api_tokens": str(tokens)}).test_client()
    response = client.post("/api/notes", json={**NOTE, "added_by": "Mallory"},
                           headers={"Authorization": "bearer   t0k-noor ", "X-Forwarded-User": "Mallory"})
    assert response.status_code == 201
    assert note_file(config, response.get_json()["id"])["added_by"] == "Noor Hendriks"
    for path in ("/", "/search?q=feedback", "/doc/" + ARTICLE, "/api/search?q=feedback", "/api/health"):
        assert client.get(path).status_code == 200, path


def test_token_file_changes_apply_without_a_restart(tmp_path, tokens):
    config = web_config(tmp_path)
    client = create_app({**config, "auth": "token", "api_tokens": str(tokens)}).test_client()
    fresh = {"Authorization": "Bearer t0k-new"}
    assert client.post("/api/notes", json=NOTE, headers=fresh).status_code == 403
    tokens.write_text(tokens.read_text() + "t0k-new Femke Jansen\n", encoding="utf-8")
    response = client.post("/api/notes", json=NOTE, headers=fresh)
    assert note_file(config, response.get_json()["id"])["added_by"] == "Femke Jansen"


def test_token_check_compares_every_line_in_constant_time(tmp_path, tokens, monkeypatch):
    import hmac

    from web import auth

    config = web_config(tmp_path)
    client = create_app({**config, "auth": "token", "api_tokens": str(tokens)}).test_client()
    compared: list[tuple[int, int]] = []
    real = hmac.compare_digest
    monkeypatch.setattr(auth.hmac, "compare_digest", lambda a, b: compared.append((len(a), len(b))) or real(a, b))
    for sent in ("t0k-lars", "wrong", "x" * 500):
        compared.clear()
        client.post("/api/notes", json=NOTE, headers={"Authorization": f"Bearer {sent}"})
        assert len(compared) == 3 and len({pair for pair in compared}) == 1  # every token, equal lengths


def test_token_auth_without_a_token_file_stops_the_app_at_start(tmp_path):
    config = web_config(tmp_path)
    with pytest.raises(ConfigError, match="KB_API_TOKENS"):
        create_app({**config, "auth": "token"})
    with pytest.raises(ConfigError, match="KB_API_TOKENS"):
        create_app({**config, "auth": "token", "api_tokens": str(tmp_path / "missing")})
