"""The HTML pages over a small indexed world: search, documents, the note form, languages."""

from __future__ import annotations

import re

import pytest

from tests.web_support import ARTICLE, NOTE, SESSION, THREAD, config_path, form_token

# pages -------------------------------------------------------------------------------------


def test_home_page_has_one_search_box_and_topics(client):
    html = client.get("/").get_data(as_text=True)
    assert html.count('type="search"') == 1
    assert 'href="/search?tag=onboarding"' in html


def test_search_page_shows_cards_facets_and_learn_more(client):
    response = client.get("/search", query_string={"q": "onboarding buddy eerste week"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert SESSION in result_links(html) and "Leerlunch: onboarding van nieuwe collega" in html
    assert "<mark>" in html
    assert 'class="filters"' in html and "kind=session" in html
    assert "Learn more" in html and "People to ask" in html
    assert re.search(r"in \d+ ms", html)


def result_links(html: str) -> list[str]:
    return re.findall(r'<h2(?: lang="[a-z]+")?><a href="/doc/([^"]+)">', html)


def test_facet_link_narrows_and_active_filter_can_be_removed(client):
    html = client.get("/search", query_string={"q": "onboarding", "kind": "forum"}).get_data(as_text=True)
    assert result_links(html) and SESSION not in result_links(html)
    assert 'href="/search?q=onboarding"' in html  # the remove link of the active filter


def test_search_without_results_suggests_what_to_do(client):
    html = client.get("/search", query_string={"q": "onboarding", "tag": "sbi", "kind": "forum"}).get_data(as_text=True)
    assert "No results" in html and "remove them" in html
    assert 'href="/search?tag=onboarding"' in html


def test_tag_link_without_words_lists_tagged_documents(client):
    html = client.get("/search?tag=terraform").get_data(as_text=True)
    assert result_links(html) == [THREAD]


def test_bad_search_on_the_page_is_an_error_page(client):
    response = client.get("/search", query_string={"q": "x", "kind": "video"})
    assert response.status_code == 400 and "text/html" in response.content_type
    assert 'href="/"' in response.get_data(as_text=True)


def test_document_page_shows_body_metadata_and_related_learning(client):
    html = client.get("/doc/" + SESSION).get_data(as_text=True)
    assert "<h2>Besluiten</h2>" in html
    assert "Ingrid de Boer" in html and "lunch &amp; learn" in html
    assert 'href="/search?tag=buddy"' in html
    assert "Related learning" in html and 'href="/doc/forum/onboarding-eerste-week"' in html
    assert "People to ask" in html


def test_forum_page_marks_the_accepted_answer(client):
    html = client.get("/doc/" + THREAD).get_data(as_text=True)
    assert html.count('class="post accepted"') == 1
    assert "Accepted answer" in html


def test_unknown_document_page_is_a_404_page_with_a_way_home(client):
    response = client.get("/doc/articles/nope")
    assert response.status_code == 404 and "text/html" in response.content_type
    assert 'href="/"' in response.get_data(as_text=True)


def test_interface_speaks_dutch_when_the_browser_prefers_it(client):
    html = client.get("/", headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.8"}).get_data(as_text=True)
    assert '<html lang="nl">' in html and "Wat wil je leren?" in html
    html = client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in html


def test_language_switch_sets_a_cookie_and_goes_back_locally(client):
    response = client.get("/lang/nl", query_string={"next": "/search?q=feedback"})
    assert response.status_code == 303 and response.headers["Location"] == "/search?q=feedback"
    assert "lang=nl" in response.headers["Set-Cookie"]
    assert "Wat wil je leren?" in client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        assert client.get("/lang/en", query_string={"next": target}).headers["Location"] == "/"


# the note form -----------------------------------------------------------------------------


def test_note_form_defaults_to_today_and_lists_formats(client):
    import datetime as dt

    html = client.get("/notes/new").get_data(as_text=True)
    assert f'value="{dt.date.today().isoformat()}"' in html
    assert '<option value="lunch &amp; learn" selected>' in html
    assert 'name="csrf_token"' in html


def test_form_post_without_a_valid_token_is_refused(client):
    response = client.post("/notes/new", data={**NOTE, "action": "save"})
    assert response.status_code == 400 and "reload the page" in response.get_data(as_text=True)
    response = client.post("/notes/new", data={**NOTE, "csrf_token": "forged", "action": "save"})
    assert response.status_code == 400


def test_token_of_another_session_is_refused(app):
    token = form_token(app.test_client())
    response = app.test_client().post("/notes/new", data={**NOTE, "csrf_token": token})
    assert response.status_code == 400


def test_form_saves_the_note_and_redirects_to_it(client):
    response = client.post("/notes/new", data={**NOTE, "csrf_token": form_token(client), "action": "save"})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/doc/sessions/2026-02-10-workshop-schrijven-van-runbooks")
    html = client.get(location).get_data(as_text=True)
    assert "zebrapadcontrole" in html and "Workshop: schrijven van runbooks" in html


def test_form_keeps_what_was_typed_and_marks_invalid_fields(client):
    response = client.post("/notes/new", data={**NOTE, "title": "", "speakers": "",
                                               "csrf_token": form_token(client), "action": "save"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "give the note a title" in html and "name at least one speaker" in html
    assert 'aria-invalid="true"' in html and "zebrapadcontrole" in html


def test_form_preview_renders_markdown_without_saving(client, config):
    before = sorted((config_path(config) / "sessions").iterdir())
    response = client.post("/notes/new", data={**NOTE, "body": "## Kop\n\n<script>alert(1)</script>\n\n**vet**",
                                               "csrf_token": form_token(client), "action": "preview"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h2>Kop</h2>" in html and "<strong>vet</strong>" in html and "<script>alert" not in html
    assert sorted((config_path(config) / "sessions").iterdir()) == before


def test_note_bodies_are_sanitised_on_the_page(client):
    body = "Hallo <script>alert(1)</script> [klik](javascript:alert(2)) <img src=x onerror=alert(3)>"
    doc_id = client.post("/api/notes", json={**NOTE, "body": body}).get_json()["id"]
    html = client.get("/doc/" + doc_id).get_data(as_text=True)
    assert "<script>alert" not in html and "javascript:" not in html and "onerror" not in html


@pytest.mark.parametrize("path", ["/", "/search?q=feedback", "/doc/" + ARTICLE, "/notes/new", "/api/health",
                                  "/api/search?q=", "/nope", "/static/kb.css"])
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    assert headers["Content-Security-Policy"] == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script_or_style(client):
    for path in ("/", "/search?q=feedback", "/doc/" + THREAD, "/notes/new"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=\"/static/)", html)  # scripts only from files
        assert "<style" not in html and " style=" not in html and " on" + "click" not in html


# honest results, spelling, accessibility ------------------------------------------------------


def test_a_search_nothing_matches_says_so_and_shows_no_results_or_people(config):
    from web import create_app

    app = create_app({**config, "forum_url": "https://forum.example.org"})
    try:
        html = app.test_client().get("/search", query_string={"q": "xqzvbl plorf wibbletronic"}).get_data(as_text=True)
    finally:
        app.extensions["kb"].shutdown()
    assert "No close match for “xqzvbl plorf wibbletronic”" in html
    assert not result_links(html) and "People to ask" not in html and 'class="filters"' not in html
    assert 'href="https://forum.example.org/new-topic?title=xqzvbl+plorf+wibbletronic"' in html
    assert 'href="/notes/new?title=xqzvbl+plorf+wibbletronic"' in html
    assert 'href="/search?tag=' in html  # the nearest topics


def test_proposing_a_session_opens_the_note_form_with_the_question_as_title(client):
    html = client.get("/notes/new", query_string={"title": "Kafka consumer groups"}).get_data(as_text=True)
    assert 'value="Kafka consumer groups"' in html


def test_a_typo_offers_the_word_the_content_uses(client):
    html = client.get("/search", query_string={"q": "terrafrom"}).get_data(as_text=True)
    assert "terraform" in html and ("Did you mean" in html or "Showing results for “terraform”" in html)
    if "Showing results for" in html:
        assert 'as_typed=1' in html


def test_filter_labels_name_what_they_show_and_other_languages_are_marked(client):
    html = client.get("/search", query_string={"q": "onboarding feedback", "kind": "session", "lang": "nl"}).get_data(
        as_text=True)
    labels = re.findall(r'<li><a href="[^"]+" aria-label="([^"]+)">\s*([^<]+?)\s*<span', html)
    assert labels and all(visible in label for label, visible in labels), labels
    assert "en/session" not in html and "Remove filter: Kind: Session note" in html
    english = client.get("/search", query_string={"q": "feedback situation behaviour impact"}).get_data(as_text=True)
    assert re.search(r'<h2 lang="en"><a href="/doc/articles/', english) is None  # the interface is English here
    dutch_ui = client.get("/search", query_string={"q": "feedback situation behaviour impact"},
                          headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert re.search(r'<h2 lang="en"><a href="/doc/', dutch_ui) and '<p class="snippet" lang="en">' in dutch_ui


def test_a_tag_link_lists_everything_with_that_tag(client):
    html = client.get("/search", query_string={"tag": "onboarding"}).get_data(as_text=True)
    assert "Everything tagged “onboarding”" in html and SESSION in result_links(html)
