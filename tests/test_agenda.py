"""The learning agenda: gaps, planning a session on one, answered gaps, the home page and the feeds."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import numpy as np

from kb import agenda
from kb.search_log import entry
from tests.conftest import BOTH_BACKENDS

BACKENDS = BOTH_BACKENDS
ATOM = "{http://www.w3.org/2005/Atom}"
SESSION = "sessions/2025-04-17-onboarding-leerlunch"


def log(kb, rows, days_ago: float = 1) -> None:
    """Log (query, results, opened document) searches as if colleagues had made them ``days_ago``."""
    when = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
    for query, results, opened in rows:
        logged = entry(query, "en", results, 0.7 if results else None, when)
        kb._log.record(logged)
        if opened:
            kb._log.opened(logged.id, opened)
    kb.flush_search_log()


def csrf(client) -> str:
    html = client.get("/notes/new").get_data(as_text=True)
    return html.split('name="csrf_token" value="')[1].split('"')[0]


def test_an_empty_agenda_says_how_it_fills(client):
    page = client.get("/agenda").get_data(as_text=True)
    assert "No gaps yet" in page and "every search that finds nothing" in page
    assert client.get("/api/agenda").get_json() == {"window_days": 30, "searches": 0, "gaps": []}
    assert client.get("/agenda", query_string={"days": "x"}).status_code == 400
    assert "Colleagues are looking for" not in client.get("/").get_data(as_text=True)


def test_a_page_search_keeps_the_vector_its_search_computed(app, client):
    kb = app.extensions["kb"]
    client.get("/search", query_string={"q": "Kubernetes Helm"})
    kb.flush_search_log()
    kept = kb._storage.query_vectors(kb.settings.model, ["kubernetes helm"])
    # kept at half precision: plenty for telling questions apart, half the reading
    assert np.allclose(kept["kubernetes helm"], kb.embedder.embed_queries(["Kubernetes Helm"])[0], atol=2e-3)


def test_planning_a_session_marks_the_gap_and_opens_the_note_form_filled_in(app, client):
    kb = app.extensions["kb"]
    log(kb, [("kubernetes helm charts", 0, None)] * 4)
    gap = client.get("/api/agenda").get_json()["gaps"][0]
    assert (gap["label"], gap["status"], gap["searches"]) == ("kubernetes helm charts", "open", 4)
    assert "kubernetes helm charts" in client.get("/").get_data(as_text=True)  # colleagues are looking for it
    page = client.get("/agenda").get_data(as_text=True)
    assert f'id="{gap["id"]}"' in page and "Plan a session" in page
    planned = client.post(f"/agenda/{gap['id']}/plan", data={"csrf_token": csrf(client), "days": "30"})
    assert planned.status_code == 303 and "/notes/new?title=kubernetes+helm+charts" in planned.location
    form = client.get(planned.location).get_data(as_text=True)
    assert 'value="kubernetes helm charts"' in form
    again = client.get("/api/agenda").get_json()["gaps"][0]
    assert (again["id"], again["status"]) == (gap["id"], "planned") and again["planned_at"]
    assert "kubernetes helm charts" not in client.get("/").get_data(as_text=True)  # planned: off the home page
    api = client.post(f"/api/agenda/{gap['id']}/plan", json={})
    assert api.status_code == 200 and api.get_json()["gap"]["status"] == "planned"
    assert api.get_json()["note_form"].startswith("/notes/new?title=")
    assert client.post("/api/agenda/gap-000000000000/plan", json={}).status_code == 404
    assert client.post(f"/api/agenda/{gap['id']}/plan", data="{}").status_code == 415
    assert client.post(f"/agenda/{gap['id']}/plan", data={"days": "30"}).status_code == 400  # no form token


def test_a_gap_is_answered_once_its_questions_find_something_that_is_opened(app, client):
    kb = app.extensions["kb"]
    log(kb, [("eerste week buddy", 0, None)] * 3, days_ago=5)
    assert client.get("/api/agenda").get_json()["gaps"][0]["status"] == "open"
    log(kb, [("eerste week buddy", 2, SESSION)], days_ago=1)
    gap = client.get("/api/agenda", query_string={"days": "31"}).get_json()["gaps"][0]
    assert gap["status"] == "answered" and gap["answered_by"]["id"] == SESSION
    assert gap["answered_by"]["url"] == "/doc/" + SESSION and gap["answered_at"]
    page = client.get("/agenda", query_string={"days": "31"}).get_data(as_text=True)
    assert "Answered by" in page and "Leerlunch: onboarding" in page
    log(kb, [("eerste week buddy", 0, None)], days_ago=0.5)  # missed again after that: open again
    assert client.get("/api/agenda", query_string={"days": "32"}).get_json()["gaps"][0]["status"] == "open"


def test_the_agenda_json_has_the_documented_fields_and_rising_gaps_are_marked(app, client):
    kb = app.extensions["kb"]
    log(kb, [("graphql federation", 0, None)] * 2, days_ago=20)
    log(kb, [("graphql federation", 0, None)] * 4, days_ago=2)
    body = client.get("/api/agenda").get_json()
    gap = body["gaps"][0]
    assert set(gap) >= {"id", "label", "searches", "queries", "last_asked", "examples", "nearest", "hosts",
                        "rising", "status"}
    assert gap["rising"] and gap["searches"] == 6 and gap["examples"] == ["graphql federation"]
    assert all(set(item) == {"id", "title", "url"} for item in gap["nearest"])
    assert all(set(host) == {"name", "reason"} for host in gap["hosts"])


def test_the_feed_lists_new_documents_filtered_like_a_search(client):
    response = client.get("/feed.atom")
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    titles = [entry.find(ATOM + "title").text for entry in feed.iter(ATOM + "entry")]
    assert "Leerlunch: onboarding van nieuwe collega's" in titles and len(titles) >= 4
    updated = [entry.find(ATOM + "updated").text for entry in feed.iter(ATOM + "entry")]
    assert updated == sorted(updated, reverse=True)
    link = next(feed.iter(ATOM + "entry")).find(ATOM + "link").get("href")
    assert link.startswith("http://localhost/doc/")
    sessions = ET.fromstring(client.get("/feed.atom", query_string={"kind": "session"}).data)
    kinds = {c.get("term") for e in sessions.iter(ATOM + "entry") for c in e.iter(ATOM + "category")}
    assert "session" in kinds and not kinds & {"article", "forum"}
    tagged = ET.fromstring(client.get("/feed.atom", query_string={"tag": "terraform"}).data)
    assert [e.find(ATOM + "title").text for e in tagged.iter(ATOM + "entry")] == [
        "Error acquiring the state lock after a cancelled pipeline"]
    assert client.get("/feed.atom", query_string={"kind": "podcast"}).status_code == 400


def test_the_agenda_feed_has_the_gaps_whose_question_may_be_shown(app, client):
    kb = app.extensions["kb"]
    log(kb, [("kubernetes helm charts", 0, None)] * 2 + [("iets wat één keer gevraagd is", 0, None)])
    feed = ET.fromstring(client.get("/agenda.atom").data)
    entries = list(feed.iter(ATOM + "entry"))
    assert [e.find(ATOM + "title").text for e in entries] == ["kubernetes helm charts"]
    assert "één keer" not in client.get("/agenda.atom").get_data(as_text=True)


def test_old_query_vectors_and_plans_are_pruned_with_their_searches(app):
    kb = app.extensions["kb"]
    log(kb, [("vergeten vraag", 0, None)] * 2, days_ago=100)
    kb.gaps(agenda.questions(kb.logged_searches(365)))  # embeds and keeps the vectors
    kb._storage.plan_gap("gap-old", (dt.datetime.now(dt.UTC) - dt.timedelta(days=100)).isoformat(), "x", ["x"])
    assert kb.prune_search_log() == 2
    assert kb._storage.query_vectors(kb.settings.model, ["vergeten vraag"]) == {}
    assert kb._storage.plans() == []


def test_misses_group_by_meaning_and_the_most_asked_question_names_the_gap():
    at = "2026-11-30T10:00:00+00:00"
    vectors = {"pensioen": np.array([1.0, 0.0]), "pension scheme": np.array([0.96, 0.28]),
               "burn-out": np.array([0.0, 1.0]), "found": np.array([0.7, 0.7])}
    past = agenda.PastSearch
    searches = ([past(at, "pensioen", 0, None, None)] * 3 + [past(at, "pension scheme", 1, 0.5, None)]
                + [past(at, "burn-out", 0, None, None)] + [past(at, "found", 2, 0.9, "x")])
    gaps = agenda.group(agenda.questions(searches, dt.datetime(2026, 12, 1, tzinfo=dt.UTC)), vectors, join=0.9)
    assert [(gap.founder, gap.searches, len(gap.queries)) for gap in gaps] == [("pensioen", 4, 2), ("burn-out", 1, 1)]
    assert gaps[0].shown(2) == ["pensioen"] and gaps[0].week == 4
    assert agenda.gap_id("key", "pensioen") == agenda.gap_id("key", "pensioen") != agenda.gap_id("other", "pensioen")


def test_the_judged_week_puts_the_uncovered_topics_on_top(tmp_path):
    """`kb agenda --eval` on tests/eval (with the hashing model here: the real figures are in `make eval`)."""
    from indexer.agenda_eval import evaluate_agenda, format_agenda
    from indexer.evaluate import evaluation_base
    from kb import load_settings
    from kb.embeddings import HashingEmbedder
    from tests.conftest import ROOT

    settings = load_settings(overrides={"model": "hashing", "data_dir": str(tmp_path / "var"),
                                        "content_dir": str(ROOT / "content")}, environ={})
    kb = evaluation_base(ROOT / "tests" / "eval", settings, embedder=HashingEmbedder())
    try:
        report = evaluate_agenda(kb, ROOT / "tests" / "eval" / "agenda.json")
    finally:
        kb.shutdown()
    assert report["searches"] >= 300 and report["topics"] == 10 and len(report["uncovered"]) == 4
    assert report["top_are_uncovered"] and report["covered_gaps_shown"] == 0
    assert "the uncovered topics" in format_agenda(report)


def test_the_store_sums_up_questions_as_the_agenda_does_in_memory(app):
    kb = app.extensions["kb"]
    log(kb, [("a", 0, None), ("a", 3, None), ("a", 2, SESSION)], days_ago=10)
    log(kb, [("a", 0, None), ("b", 1, SESSION)], days_ago=2)
    log(kb, [("b", 1, "articles/2025-03-12-feedback-that-lands")], days_ago=1)
    now = dt.datetime.now(dt.UTC)
    in_memory = agenda.questions(kb.logged_searches(30, now), now)
    stored = sorted(kb._asked(30, now), key=lambda a: a.query)
    assert [(a.query, a.searches, a.missed, a.week_missed) for a in stored] == [("a", 4, 3, 1), ("b", 2, 0, 0)]
    assert [kb._storage.opened_at(a.query, a.answered_at) for a in stored] == [
        SESSION, "articles/2025-03-12-feedback-that-lands"]
    assert [a.answered_at for a in stored] == [a.answered_at for a in in_memory]
    assert [(a.query, a.searches, a.missed, a.week_missed) for a in stored] == [
        (a.query, a.searches, a.missed, a.week_missed) for a in in_memory]
    assert [(a.first_missed, a.last_missed) for a in stored] == [(a.first_missed, a.last_missed) for a in in_memory]
