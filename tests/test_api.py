"""The JSON API over a small indexed world: the contract, every error status, generations."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest

from kb.embeddings import HashingEmbedder
from kb.knowledge import KnowledgeBase
from kb.search_log import entry
from tests.conftest import BOTH_BACKENDS
from tests.web_support import ARTICLE, HTML_ARTICLE, NOTE, SESSION, THREAD, error_of, note_markdown, settings_of
from web import create_app

BACKENDS = BOTH_BACKENDS


# search -------------------------------------------------------------------------------------


def test_search_answers_with_the_contract_shape(client):
    response = client.get("/api/search", query_string={"q": "state lock terraform", "limit": 3})
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["query", "total", "took_ms", "results", "facets", "did_you_mean", "showing_results_for",
                          "searched_as_typed", "suggestions"]
    assert set(body["facets"]) == {"kind", "tag", "author", "lang"}
    assert body["query"] == "state lock terraform" and body["total"] >= 1
    first = body["results"][0]
    assert set(first) == {"id", "kind", "title", "url", "snippet", "score", "author", "date", "tags", "lang"}
    assert first["id"] == THREAD and first["url"] == "/doc/" + THREAD and first["kind"] == "forum"
    assert "<mark>" in first["snippet"]
    assert len(body["results"]) <= 3


def test_a_search_nothing_matches_answers_total_zero_with_topics_to_try(client):
    body = client.get("/api/search", query_string={"q": "xqzvbl plorf wibbletronic"}).get_json()
    assert (body["total"], body["results"]) == (0, [])
    assert body["suggestions"]["topics"] and all(not counts for counts in body["facets"].values())
    answered = client.get("/api/search", query_string={"q": "onboarding"}).get_json()
    assert answered["total"] and answered["suggestions"] is None


def test_a_typo_gets_did_you_mean_and_as_typed_keeps_the_words(client):
    body = client.get("/api/search", query_string={"q": "terrafrom"}).get_json()
    assert body["did_you_mean"] == "terraform"
    if body["showing_results_for"]:
        assert (body["showing_results_for"], body["searched_as_typed"]) == ("terraform", "terrafrom")
        typed = client.get("/api/search", query_string={"q": "terrafrom", "as_typed": "1"}).get_json()
        assert typed["query"] == "terrafrom" and typed["showing_results_for"] is None


def test_sort_newest_and_dates_narrow_and_order(client):
    query = {"q": "onboarding feedback terraform toegankelijk", "limit": 100}
    best = client.get("/api/search", query_string=query).get_json()
    newest = client.get("/api/search", query_string={**query, "sort": "newest"}).get_json()
    assert sorted(r["id"] for r in newest["results"]) == sorted(r["id"] for r in best["results"])
    assert [r["date"] for r in newest["results"]] == sorted((r["date"] for r in newest["results"]), reverse=True)
    dated = client.get("/api/search", query_string={**query, "date_from": "2025-04-01"}).get_json()
    assert dated["total"] == sum(r["date"] >= "2025-04-01" for r in best["results"])


@pytest.mark.parametrize("params, word", [
    ({"sort": "oldest"}, "sort"), ({"date_from": "yesterday"}, "date_from"), ({"date_to": "2025-13-01"}, "date_to"),
    ({"date_from": "2025-05-01", "date_to": "2025-01-01"}, "after"),
])
def test_bad_sort_or_dates_are_400_with_a_message(client, params, word):
    response = client.get("/api/search", query_string={"q": "onboarding", **params})
    assert response.status_code == 400 and word in response.get_json()["error"]["message"]


def test_search_filters_narrow_the_results(client):
    body = client.get("/api/search", query_string={"q": "onboarding feedback terraform", "kind": "forum"}).get_json()
    assert body["results"] and {r["kind"] for r in body["results"]} == {"forum"}
    body = client.get("/api/search", query_string={"q": "onboarding feedback", "lang": "en"}).get_json()
    assert {r["lang"] for r in body["results"]} == {"en"}
    body = client.get("/api/search", query_string={"q": "feedback", "tag": "sbi"}).get_json()
    assert [r["id"] for r in body["results"]] == [ARTICLE]


@pytest.mark.parametrize("params, words", [
    ({"q": ""}, "empty"),
    ({}, "empty"),
    ({"q": "   "}, "empty"),
    ({"q": "x" * 1001}, "limit"),
    ({"q": "feedback", "limit": "0"}, "limit"),
    ({"q": "feedback", "limit": "abc"}, "limit"),
    ({"q": "feedback", "limit": "1000000"}, "limit"),
    ({"q": "feedback", "offset": "-1"}, "offset"),
    ({"q": "feedback", "offset": "1.5"}, "offset"),
    ({"q": "feedback", "kind": "video"}, "kind"),
    ({"q": "feedback", "lang": "de"}, "lang"),
])
def test_search_rejects_bad_parameters_with_400(client, params, words):
    error = error_of(client.get("/api/search", query_string=params), 400, "invalid_input")
    assert words in error["message"]


@pytest.mark.parametrize("q", ['"unbalanced', "feed*", "NEAR(a b", "-terraform", "title:feedback",
                               "a AND OR NOT", "(", "^", "'; DROP TABLE documents; --"])
def test_search_survives_keyword_syntax_characters(client, q):
    assert client.get("/api/search", query_string={"q": q}).status_code == 200


def test_search_paginates_with_offset(client):
    everything = client.get("/api/search", query_string={"q": "de het the onboarding feedback", "limit": 10}).get_json()
    second = client.get("/api/search", query_string={"q": "de het the onboarding feedback", "limit": 1,
                                                     "offset": 1}).get_json()
    assert [r["id"] for r in second["results"]] == [everything["results"][1]["id"]]


# documents and related ---------------------------------------------------------------------


def test_document_comes_with_its_rendered_body(client):
    doc = client.get("/api/documents/" + ARTICLE).get_json()
    assert doc["id"] == ARTICLE and doc["kind"] == "article" and doc["lang"] == "en"
    assert doc["authors"] == ["Sanne de Vries"] and doc["tags"] == ["feedback", "sbi"]
    assert "<h2>Why feedback fails</h2>" in doc["body_html"]
    assert doc["posts"] == []


def test_html_article_body_is_cleaned(client):
    doc = client.get("/api/documents/" + HTML_ARTICLE).get_json()
    assert "zichtbaar label" in doc["body_html"]
    for unwanted in ("<script", "analytics", "cookies", "nieuwsbrief", "<style"):
        assert unwanted not in doc["body_html"]


def test_forum_thread_posts_are_rendered_with_the_accepted_answer(client):
    doc = client.get("/api/documents/" + THREAD).get_json()
    assert doc["body_html"] == ""
    assert [p["author"] for p in doc["posts"]] == ["Ahmed Yilmaz", "Lars Brouwer", "Mark Visser"]
    assert [p["accepted"] for p in doc["posts"]] == [False, True, False]
    assert "<code>terraform force-unlock</code>" in doc["posts"][1]["body_html"]


def test_related_learning_has_the_contract_shape(client):
    answer = client.get(f"/api/documents/{SESSION}/related").get_json()
    assert answer["id"] == SESSION
    assert answer["related"], "the onboarding thread is related to the onboarding session"
    suggestion = answer["related"][0]
    assert {"id", "kind", "title", "url", "reason", "score"} <= set(suggestion)
    assert set(suggestion) - {"id", "kind", "title", "url", "reason", "score"} <= {"why"}
    assert suggestion["id"] == "forum/onboarding-eerste-week" and suggestion["reason"]
    assert all(item["id"] != SESSION for item in answer["related"])
    person = answer["people"][0]
    assert {"name", "reason", "documents"} <= set(person) and person["documents"]


@pytest.mark.parametrize("doc_id", [
    "articles/does-not-exist", "../../etc/passwd", "articles/../../etc/passwd", "articles/..%2F..%2Fetc%2Fpasswd",
    "etc/passwd", "articles/x%00y", "sessions", "articles/.hidden",
])
def test_unknown_or_path_like_ids_are_404(client, doc_id):
    error_of(client.get("/api/documents/" + doc_id), 404, "not_found")
    error_of(client.get(f"/api/documents/{doc_id}/related"), 404, "not_found")
    assert client.get("/doc/" + doc_id).status_code == 404


# notes -------------------------------------------------------------------------------------


def test_note_is_created_and_found_first_at_once(client, config):
    response = client.post("/api/notes", json=NOTE)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["id"].startswith("sessions/2026-02-10-workshop-schrijven-van-runbooks")
    assert body["url"] == "/doc/" + body["id"]
    assert response.headers["Location"].endswith("/api/documents/" + body["id"])
    found = client.get("/api/search", query_string={"q": "zebrapadcontrole voor de nachtdienst"}).get_json()
    assert found["results"][0]["id"] == body["id"]
    assert client.get("/api/documents/" + body["id"]).get_json()["authors"] == ["Lars Brouwer", "Mark Visser"]
    assert "zebrapadcontrole" in note_markdown(config, body["id"])  # kept for good before the 201


def test_invalid_note_lists_every_field_problem(client):
    error = error_of(client.post("/api/notes", json={**NOTE, "title": "", "language": "fr", "speakers": []}),
                     400, "invalid_input")
    assert set(error["fields"]) == {"title", "language", "speakers"}


@pytest.mark.parametrize("data", ["{not json", "null"])
def test_note_that_is_not_json_is_400(client, data):
    error_of(client.post("/api/notes", data=data, content_type="application/json"), 400, "invalid_input")


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", None])
def test_note_in_another_format_is_415(client, content_type):
    kwargs = {"content_type": content_type} if content_type else {}
    error_of(client.post("/api/notes", data="title=x", **kwargs), 415, "unsupported_media_type")


def test_oversized_note_is_413(client):
    big = {**NOTE, "body": "woord " * 60_000}
    error_of(client.post("/api/notes", data=json.dumps(big), content_type="application/json"), 413,
             "request_entity_too_large")


@pytest.mark.parametrize("method, path", [
    ("delete", "/api/search"), ("get", "/api/notes"), ("put", "/api/health"), ("post", "/api/search"),
    ("delete", "/api/documents/" + ARTICLE),
])
def test_wrong_method_is_405_with_allow_header(client, method, path):
    response = getattr(client, method)(path)
    error_of(response, 405, "method_not_allowed")
    assert response.headers["Allow"]


def test_header_auth_requires_the_proxy_header(config):
    client = create_app({**config, "auth": "header"}).test_client()
    error_of(client.post("/api/notes", json=NOTE), 403, "forbidden")
    response = client.post("/api/notes", json=NOTE, headers={"X-Forwarded-User": "Eva Willems"})
    assert response.status_code == 201
    assert "added_by: Eva Willems" in note_markdown(config, response.get_json()["id"])


def test_token_auth_requires_a_known_token(config, tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text("# token name\ns3cret-token Lars Brouwer\n")
    client = create_app({**config, "auth": "token", "api_tokens": str(tokens)}).test_client()
    error_of(client.post("/api/notes", json=NOTE), 403, "forbidden")
    error_of(client.post("/api/notes", json=NOTE, headers={"Authorization": "Bearer wrong"}), 403, "forbidden")
    response = client.post("/api/notes", json=NOTE, headers={"Authorization": "Bearer s3cret-token"})
    assert response.status_code == 201


# health, openapi, generations ---------------------------------------------------------------


def test_health_reports_what_is_served(client):
    health = client.get("/api/health").get_json()
    last_run = health.pop("last_run")
    assert health == {"status": "ok", "documents": 5, "chunks": health["chunks"], "model": "hashing",
                      "index_generation": 1, "ready": False}  # kb serve's workers warm up first; this app did not
    assert health["chunks"] >= 5
    assert last_run["added"] == 5 and last_run["skipped"] == 0 and last_run["finished_at"]


def test_openapi_describes_every_api_path(app, client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    served = {re.sub(r"<(?:path:)?\w+>", "{id}", rule.rule): rule.methods - {"HEAD", "OPTIONS"}
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/") or rule.rule.endswith(".atom")}
    assert set(spec["paths"]) == set(served)
    for path, methods in served.items():
        assert {m.lower() for m in methods} == set(spec["paths"][path])
    schemas = spec["components"]["schemas"]
    assert set(schemas["SearchResult"]["properties"]) == {"id", "kind", "title", "url", "snippet", "score",
                                                          "author", "date", "tags", "lang"}
    assert set(schemas["Error"]["properties"]["error"]["required"]) == {"code", "message"}
    page = client.get("/api/search", query_string={"q": "onboarding"}).get_json()
    assert list(schemas["SearchPage"]["properties"]) == list(page)
    kb = app.extensions["kb"]
    kb._log.record(entry("kubernetes helm", "en", 0, None))
    kb._log.record(entry("kubernetes helm", "en", 0, None))
    kb.flush_search_log()
    gap = client.get("/api/agenda").get_json()["gaps"][0]
    assert list(schemas["Gap"]["properties"]) == list(gap)
    parameters = {p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert {"date_from", "date_to", "sort", "as_typed"} <= parameters


def test_new_index_generation_is_served_without_restart(client, config):
    before = client.get("/api/health").get_json()["index_generation"]
    settings = settings_of(config)
    other = KnowledgeBase(settings, embedder=HashingEmbedder())  # another process, e.g. `kb add-note`
    try:
        doc = other.add_note({**NOTE, "body": "Over de kwartelkoning en zijn zang."})
    finally:
        other.close()
    assert client.get("/api/health").get_json()["index_generation"] == before + 1
    found = client.get("/api/search", query_string={"q": "kwartelkoning"}).get_json()
    assert found["results"][0]["id"] == doc.id


def test_search_before_anything_is_indexed_is_503_with_what_to_do(tmp_path):
    (tmp_path / "content").mkdir()
    client = create_app({"content_dir": str(tmp_path / "content"), "data_dir": str(tmp_path / "var"),
                         "model": "hashing", "embedder": HashingEmbedder(), "TESTING": True}).test_client()
    error = error_of(client.get("/api/search?q=feedback"), 503, "index_missing")
    assert "make index" in error["message"]
    assert client.get("/api/health").get_json()["status"] == "empty"
    assert client.get("/search?q=feedback").status_code == 503
    assert client.get("/").status_code == 200


def test_unexpected_errors_become_a_clean_500(config, monkeypatch):
    app = create_app({**config, "TESTING": False})
    monkeypatch.setattr(app.extensions["kb"], "search", lambda *args, **kwargs: 1 / 0)
    client = app.test_client()
    error = error_of(client.get("/api/search?q=feedback"), 500, "internal_server_error")
    assert "ZeroDivision" not in error["message"]
    page = client.get("/search?q=feedback")
    assert page.status_code == 500 and "text/html" in page.content_type
    assert page.headers["X-Frame-Options"] == "DENY"


def test_secret_key_is_generated_once_and_private(config):
    first = create_app(config)
    if not config.get("database_url"):  # else it is a row, the same for every host
        key_file = Path(config["data_dir"]) / "secret_key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.secret_key) >= 32
    assert create_app(config).secret_key == first.secret_key
    assert create_app({**config, "secret_key": "x" * 40}).secret_key == "x" * 40


def test_the_api_page_shows_every_endpoint_and_schema_without_fetching_anything(client):
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    spec = client.get("/api/openapi.json").get_json()
    for path in spec["paths"]:
        assert f"<code>{path}</code>" in html, path
    for name in spec["components"]["schemas"]:
        assert f'id="schema-{name}"' in html, name
    assert "SearchResult[]" in html and '"open" | "planned" | "answered"' in html.replace("&#34;", '"')
    assert 'src="http' not in html and 'href="http' not in html.replace('href="http://localhost', "")
    assert 'href="/api/docs"' in client.get("/").get_data(as_text=True)  # the footer's API link
