"""The search log: searches are kept without who searched, off the request path, and pruned."""

from __future__ import annotations

import datetime as dt

from kb.search_log import SearchLog, entry, normalise_query
from tests.conftest import BOTH_BACKENDS

BACKENDS = BOTH_BACKENDS


def test_a_page_search_is_logged_without_identity_and_its_opened_result_too(app, client):
    page = client.get("/search", query_string={"q": "  Onboarding   BUDDY "}, headers={"X-Forwarded-User": "carol"})
    html = page.get_data(as_text=True)
    kb = app.extensions["kb"]
    kb.flush_search_log()
    rows = kb.logged_searches(1)
    assert [(r.query, r.results > 0, r.opened) for r in rows] == [("onboarding buddy", True, None)]
    search_id = html.split('data-search="')[1].split('"')[0]
    assert len(search_id) == 32 and "carol" not in repr(rows)
    assert client.post(f"/api/searches/{search_id}/opened", data="sessions/2025-04-17-onboarding-leerlunch",
                       content_type="text/plain").status_code == 204
    kb.flush_search_log()
    assert kb.logged_searches(1)[0].opened == "sessions/2025-04-17-onboarding-leerlunch"
    client.get("/search", query_string={"q": "onboarding buddy", "offset": 10})  # a next page is no new search
    client.get("/api/search", query_string={"q": "onboarding"})  # the API's clients are not colleagues searching
    kb.flush_search_log()
    assert len(kb.logged_searches(1)) == 1


def test_old_searches_are_pruned_and_the_log_can_be_off(app, config):
    from web import create_app

    kb = app.extensions["kb"]
    now = dt.datetime.now(dt.UTC)
    kb._log.record(entry("oud", "nl", 0, None, now - dt.timedelta(days=100)))
    kb._log.record(entry("nieuw", "nl", 3, 0.8, now - dt.timedelta(days=3)))
    kb.flush_search_log()
    assert kb.prune_search_log() == 1
    assert [r.query for r in kb.logged_searches(365)] == ["nieuw"]
    off = create_app({**config, "search_log": "off"})
    try:
        off.test_client().get("/search", query_string={"q": "onboarding"})
        assert off.extensions["kb"].record_search(off.extensions["kb"].search("onboarding")) is None
    finally:
        off.extensions["kb"].shutdown()


def test_a_log_that_cannot_be_written_drops_its_entries_and_never_fails_a_search(caplog):
    def broken(searches, opened):
        raise OSError("disk full")

    log = SearchLog(broken, interval=0.01)
    log.record(entry("feedback", "nl", 2, 0.9))
    assert log.flush(5)
    assert "dropped" in caplog.text and "disk full" in caplog.text


def test_queries_are_logged_case_folded_and_with_whitespace_collapsed():
    assert normalise_query("  Feedback\tGEVEN  ") == "feedback geven"


def test_the_agenda_groups_misses_by_meaning_and_shows_only_queries_asked_often_enough(app, client):
    kb = app.extensions["kb"]
    now = dt.datetime.now(dt.UTC)
    for query, results, opened in [("kubernetes helm charts", 0, None)] * 3 + [("helm charts kubernetes", 0, None),
                                   ("mijn geheime zoekvraag", 0, None), ("onboarding buddy", 4, "x/y")]:
        logged = entry(query, "en", results, 0.7 if results else None, now - dt.timedelta(days=1))
        kb._log.record(logged)
        if opened:
            kb._log.opened(logged.id, opened)
    kb.flush_search_log()
    body = client.get("/api/agenda").get_json()
    assert body["window_days"] == 30 and body["searches"] == 6
    labels = [gap["label"] for gap in body["gaps"]]
    assert labels[0] == "kubernetes helm charts" and body["gaps"][0]["searches"] >= 3
    assert "mijn geheime zoekvraag" not in str(body)  # asked once: counted, never shown
    assert "onboarding buddy" not in labels  # found and opened: no gap
    assert client.get("/api/agenda", query_string={"days": "0"}).status_code == 400
