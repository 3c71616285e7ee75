"""Private and team knowledge: no answer shows a reader what is not for them.

Three readers behind the single-sign-on proxy (alice writes private notes, carol is in team hr,
bob is in no team) and an anonymous visitor ask every page and API endpoint, with queries made of
the canary phrases, titles, tags and authors of documents of every audience, typos of them
included. A canary may appear in a response only for a reader allowed to see its document; the
readers allowed must find theirs. On both backends.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.pipeline import run_index
from kb import load_settings
from kb.embeddings import HashingEmbedder
from kb.knowledge import KnowledgeBase
from tests.conftest import BOTH_BACKENDS, write_world
from web import create_app

BACKENDS = BOTH_BACKENDS

# each restricted document: its file, its text, its canaries (words nobody else uses), its readers
SECRETS = {
    "sessions/2026-02-02-mentorgesprek-quokka": {
        "file": "sessions/2026-02-02-mentorgesprek-quokka.md", "readers": {"alice"},
        "canaries": ["quokkaprivaat", "mentorgesprek quokkaland", "quokkatag", "Quirina Quokkason"],
        "text": """---
title: "Mentorgesprek quokkaland: mijn groeiplan"
speakers: [Quirina Quokkason]
date: 2026-02-02
tags: [quokkatag, mentoring]
language: nl
format: mentoring session
added_by: alice
visibility: private
---

Na het mentorgesprek over feedback en onboarding schreef ik op: quokkaprivaat is mijn doel voor dit kwartaal.
""",
    },
    "articles/2026-02-03-salarisgesprekken-zebra": {
        "file": "articles/2026-02-03-salarisgesprekken-zebra.md", "readers": {"carol"},
        "canaries": ["salariszebra", "loonschaalgids", "hrzebratag", "Zeno Zebrowski"],
        "text": """---
title: "Loonschaalgids voor salarisgesprekken"
author: Zeno Zebrowski
date: 2026-02-03
tags: [hrzebratag, feedback]
language: nl
visibility: team:hr
---

Bij een salarisgesprek geef je feedback over de onboarding en de schaal: salariszebra is de code van de schaal.
""",
    },
    "sessions/2026-02-04-leads-retro-okapi": {
        "file": "sessions/2026-02-04-leads-retro-okapi.md", "readers": {"carol"},
        "canaries": ["okapiretro", "retrospectief okapiland", "okapitag", "Olga Okapova"],
        "text": """---
title: "Retrospectief okapiland van de leads en hr"
speakers: [Olga Okapova]
date: 2026-02-04
tags: [okapitag, retrospective]
language: nl
format: retrospective
visibility: team:hr, team:leads
---

We bespraken feedback, onboarding en okapiretro: de terraform state lock bleef hangen.
""",
    },
    "forum/leads-only-narwhal": {
        "file": "forum/leads-only-narwhal.json", "readers": set(),
        "canaries": ["narwhalgeheim", "narwhalforum", "narwhaltag", "Nora Narwhalsen"],
        "text": json.dumps({
            "title": "Narwhalforum: de begroting van de leads", "tags": ["narwhaltag"], "language": "nl",
            "visibility": "team:leads",
            "posts": [{"author": "Nora Narwhalsen", "date": "2026-02-05",
                       "body": "Feedback over onboarding en de terraform lock: narwhalgeheim blijft onder ons."}],
        }),
    },
}
PUBLIC = {"id": "articles/2026-02-06-open-pinguin", "canary": "pinguinopenbaar"}
PUBLIC_TEXT = """---
title: "Open pinguin: feedback voor iedereen"
author: Pim Pinguin
date: 2026-02-06
tags: [feedback]
language: nl
---

Iedereen mag dit lezen: pinguinopenbaar gaat over feedback en onboarding.
"""
READERS = {"alice": "", "carol": "hr", "bob": "", None: ""}  # name -> teams (None: not signed in)


def typos(word: str) -> list[str]:
    """A deleted and a swapped letter: what a did-you-mean could correct into the canary."""
    return [word[:-1], word[:2] + word[3] + word[2] + word[4:]] if len(word) > 5 else []


@pytest.fixture
def site(tmp_path: Path, backend: dict):
    content = write_world(tmp_path / "content")
    for secret in SECRETS.values():
        (content / secret["file"]).write_text(secret["text"], encoding="utf-8")
    (content / (PUBLIC["id"] + ".md")).write_text(PUBLIC_TEXT, encoding="utf-8")
    overrides = {"content_dir": str(content), "data_dir": str(tmp_path / "var"), "model": "hashing", **backend}
    settings = load_settings(overrides=overrides, environ={})
    kb = KnowledgeBase(settings, embedder=HashingEmbedder())
    try:
        report = run_index(settings, kb)
    finally:
        kb.shutdown()
    assert report.skipped == []
    app = create_app({**overrides, "auth": "header", "groups_header": "X-Forwarded-Groups",
                      "embedder": HashingEmbedder(), "TESTING": True})
    yield app
    app.extensions["kb"].shutdown()


def headers(name: str | None) -> dict:
    if name is None:
        return {}
    return {"X-Forwarded-User": name, "X-Forwarded-Groups": READERS[name]}


def queries() -> list[str]:
    words = [PUBLIC["canary"]]
    for secret in SECRETS.values():
        for canary in secret["canaries"]:
            words += [canary, *typos(canary.split()[0])]
    return [*words, "feedback onboarding", "terraform state lock"]


def urls(doc_ids: list[str]) -> list[tuple[str, str]]:
    """(address, what the reader typed into it: their own words are echoed, not leaked)."""
    found = [("/", ""), ("/notes/new", ""), ("/api/health", ""), ("/feed.atom", ""), ("/feed.atom?kind=session", "")]
    for query in queries():
        found += [(f"/search?q={query}", query), (f"/search?q={query}&kind=session", query),
                  (f"/api/search?q={query}&limit=100", query), (f"/search?q={query}&sort=newest", query)]
    for secret in SECRETS.values():
        tag, author = secret["canaries"][2], secret["canaries"][3]
        found += [(f"/feed.atom?tag={tag}", tag), (f"/feed.atom?author={author}", author),
                  (f"/search?tag={tag}", tag), (f"/search?author={author}", author),
                  (f"/api/search?q={author}&author={author}", author)]
    for doc_id in doc_ids:
        found += [(f"/doc/{doc_id}", doc_id), (f"/api/documents/{doc_id}", doc_id),
                  (f"/api/documents/{doc_id}/related", doc_id)]
    return found


def test_no_canary_reaches_a_reader_who_may_not_see_its_document(site):
    client = site.test_client()
    doc_ids = [*SECRETS, PUBLIC["id"], "articles/2025-03-12-feedback-that-lands", "forum/terraform-state-lock"]
    checked = 0
    for name in READERS:
        for url, typed in urls(doc_ids):
            response = client.get(url, headers=headers(name))
            assert response.status_code in (200, 403, 404), (name, url, response.status_code)
            body = response.get_data(as_text=True).lower()
            for doc_id, secret in SECRETS.items():
                if name in secret["readers"]:
                    continue
                for canary in secret["canaries"]:
                    if canary.lower() not in typed.lower():
                        assert canary.lower() not in body, (name, url, doc_id, canary)
                if doc_id != typed:
                    assert doc_id not in body, (name, url, doc_id)
            checked += 1
    assert checked > 900  # 4 readers x 230 addresses


def test_readers_find_what_is_theirs_and_a_hidden_document_is_a_404_like_a_missing_one(site):
    client = site.test_client()
    for name, doc_id in (("alice", "sessions/2026-02-02-mentorgesprek-quokka"),
                         ("carol", "articles/2026-02-03-salarisgesprekken-zebra"),
                         ("carol", "sessions/2026-02-04-leads-retro-okapi")):
        canary = SECRETS[doc_id]["canaries"][0]
        found = client.get(f"/api/search?q={canary}", headers=headers(name)).get_json()
        assert doc_id in [r["id"] for r in found["results"]], (name, doc_id)
        page = client.get(f"/doc/{doc_id}", headers=headers(name)).get_data(as_text=True)
        assert canary in page.lower()
    own = client.get("/doc/sessions/2026-02-02-mentorgesprek-quokka", headers=headers("alice")).get_data(as_text=True)
    assert "Only me" not in own and "alice" in own  # its writer and its audience are shown to its reader
    for name in ("bob", None):
        hidden = client.get("/api/documents/sessions/2026-02-02-mentorgesprek-quokka", headers=headers(name))
        missing = client.get("/api/documents/sessions/2026-02-02-nothing-here", headers=headers(name))
        assert hidden.status_code == missing.status_code == 404
        assert set(hidden.get_json()["error"]) == set(missing.get_json()["error"])
        assert hidden.get_json()["error"]["code"] == missing.get_json()["error"]["code"]
    everyone = client.get(f"/api/search?q={PUBLIC['canary']}", headers=headers("bob")).get_json()
    assert PUBLIC["id"] in [r["id"] for r in everyone["results"]]


def test_a_page_of_results_is_full_when_enough_visible_documents_exist(site):
    client = site.test_client()
    everything = client.get("/api/search?q=feedback onboarding&limit=100", headers=headers("carol")).get_json()
    bob = client.get("/api/search?q=feedback onboarding&limit=2", headers=headers("bob")).get_json()
    visible_to_bob = [r for r in everything["results"]
                      if r["id"] not in SECRETS or "bob" in SECRETS[r["id"]]["readers"]]
    assert len(bob["results"]) == min(2, len(visible_to_bob))


def test_private_and_team_notes_need_a_signed_in_writer(site, tmp_path):
    client = site.test_client()
    note = {"title": "Privé: mijn groeiplan", "date": "2026-03-01", "speakers": "Alice", "language": "nl",
            "format": "mentoring session", "body": "Alleen voor mij: walrusgeheim.", "visibility": "private"}
    saved = client.post("/api/notes", json=note, headers=headers("alice"))
    assert saved.status_code == 201
    doc_id = saved.get_json()["id"]
    assert client.get(f"/api/documents/{doc_id}", headers=headers("alice")).status_code == 200
    assert client.get(f"/api/documents/{doc_id}", headers=headers("bob")).status_code == 404
    assert client.get("/api/search?q=walrusgeheim", headers=headers("bob")).get_json()["total"] == 0
    mine = client.get("/api/search?q=walrusgeheim", headers=headers("alice")).get_json()
    assert doc_id in [r["id"] for r in mine["results"]]
    bad = client.post("/api/notes", json={**note, "visibility": "friends"}, headers=headers("alice"))
    assert bad.status_code == 400 and "visibility" in bad.get_json()["error"]["fields"]
    anonymous = client.post("/api/notes", json=note)  # auth=header without a user
    assert anonymous.status_code == 403


def test_without_sign_in_private_notes_are_refused_with_the_setting_that_enables_them(config):
    app = create_app(config)
    try:
        response = app.test_client().post("/api/notes", json={
            "title": "Privé", "date": "2026-03-01", "speakers": "Alice", "language": "nl",
            "format": "mentoring session", "body": "Alleen voor mij.", "visibility": "private"})
    finally:
        app.extensions["kb"].shutdown()
    assert response.status_code == 403 and "KB_AUTH" in response.get_json()["error"]["message"]


# what a document's audience is, and who a reader is -------------------------------------------


@pytest.mark.parametrize("value, writer, authors, expected", [
    (None, None, [], ("everyone",)),
    ("everyone", "alice", [], ("everyone",)),
    ("private", "Alice", ["Sanne"], ("user:alice",)),
    ("private", None, ["Sanne de Vries"], ("user:sanne de vries",)),
    ("team:hr", None, [], ("team:hr",)),
    ("team:hr, team:leads", None, [], ("team:hr", "team:leads")),
    (["team:HR", "team:leads"], None, [], ("team:hr", "team:leads")),
])
def test_visibility_values_become_audiences(value, writer, authors, expected):
    from kb.audience import parse_visibility

    assert parse_visibility(value, "x.md", writer, authors) == expected


@pytest.mark.parametrize("value", ["friends", "team:", "team:h r", "private, team:hr", 3, {"team": "hr"}])
def test_an_unknown_visibility_is_a_content_error(value):
    from kb.audience import parse_visibility
    from kb.errors import ContentError

    with pytest.raises(ContentError, match="visibility"):
        parse_visibility(value, "x.md", "alice", [])


def test_a_reader_sees_everyone_documents_their_own_and_their_teams():
    from kb.audience import ANYONE, Reader

    carol = Reader("Carol", frozenset({"hr"}))
    assert carol.can_see(("everyone",)) and carol.can_see(("team:hr", "team:leads")) and carol.can_see(("user:carol",))
    assert not carol.can_see(("team:leads",)) and not carol.can_see(("user:alice",))
    assert ANYONE.can_see(("everyone",)) and not ANYONE.can_see(("team:hr",))


def test_files_with_an_unknown_visibility_are_skipped_with_the_reason_and_categories_map_to_teams(tmp_path):
    from indexer.pipeline import scan

    content = write_world(tmp_path / "content")
    (content / "articles" / "odd.md").write_text("---\ntitle: Odd\nvisibility: friends\n---\n\nText.\n",
                                                 encoding="utf-8")
    topic = {"id": 7, "title": "Salarisschalen 2026", "category": {"name": "HR"}, "post_stream": {"posts": [
        {"username": "carol", "created_at": "2026-01-02T10:00:00Z", "cooked": "<p>De schalen.</p>", "post_number": 1}]}}
    (content / "forum" / "salarisschalen.json").write_text(json.dumps(topic), encoding="utf-8")
    (content / "forum-audiences.yaml").write_text("HR: team:hr\n", encoding="utf-8")
    documents, skipped = scan(content, 1_000_000)
    assert [(s.path, "visibility" in s.reason) for s in skipped] == [("articles/odd.md", True)]
    assert {d.id: d.audience for d in documents}["forum/salarisschalen"] == ["team:hr"]
    (content / "forum-audiences.yaml").write_text("HR: [unclosed\n", encoding="utf-8")
    documents, skipped = scan(content, 1_000_000)
    assert not [d for d in documents if d.kind == "forum"]  # a broken mapping never publishes a team's threads
    assert all("forum-audiences.yaml" in s.reason for s in skipped if s.path.startswith("forum/"))


def test_a_token_line_may_name_teams(tmp_path, config):
    tokens = tmp_path / "tokens"
    tokens.write_text("s3cret Carol de Boer teams: hr, leads\n", encoding="utf-8")
    app = create_app({**config, "auth": "token", "api_tokens": str(tokens)})
    try:
        with app.test_request_context(headers={"Authorization": "Bearer s3cret"}):
            from web import reader

            assert reader().name == "Carol de Boer" and reader().teams == frozenset({"hr", "leads"})
    finally:
        app.extensions["kb"].shutdown()


def test_identity_headers_count_only_from_a_trusted_proxy(config):
    app = create_app({**config, "auth": "header", "trusted_proxies": "10.0.0.9"})
    try:
        with app.test_request_context(headers={"X-Forwarded-User": "carol", "X-Forwarded-Groups": "hr"},
                                      environ_base={"REMOTE_ADDR": "127.0.0.1"}):
            from web import reader

            assert reader().name is None and not reader().teams
    finally:
        app.extensions["kb"].shutdown()


def test_a_word_only_hidden_documents_hold_answers_like_a_word_nobody_wrote(site):
    client = site.test_client()
    for name in ("bob", None):
        hidden = client.get("/api/search?q=quokkaprivaat", headers=headers(name)).get_json()
        unheard = client.get("/api/search?q=quokkaprivoot", headers=headers(name)).get_json()
        assert (hidden["total"], hidden["did_you_mean"]) == (unheard["total"], unheard["did_you_mean"]) == (0, None)


def test_a_team_note_is_for_the_writers_own_teams(site):
    client = site.test_client()
    note = {"title": "Teamnotitie", "date": "2026-03-02", "speakers": "Carol", "language": "nl",
            "format": "retrospective", "body": "Voor het team.", "visibility": "team:finance"}
    refused = client.post("/api/notes", json=note, headers=headers("carol"))
    assert refused.status_code == 400 and "visibility" in refused.get_json()["error"]["fields"]
    accepted = client.post("/api/notes", json={**note, "visibility": "team:hr"}, headers=headers("carol"))
    assert accepted.status_code == 201


def test_the_groups_header_counts_only_when_it_is_configured(config):
    app = create_app({**config, "auth": "header"})
    try:
        with app.test_request_context(headers={"X-Forwarded-User": "bob", "X-Forwarded-Groups": "hr"},
                                      environ_base={"REMOTE_ADDR": "127.0.0.1"}):
            from web import reader

            assert reader().name == "bob" and not reader().teams
    finally:
        app.extensions["kb"].shutdown()


def test_a_document_whose_audience_breaks_is_withdrawn_not_kept_as_it_was(tmp_path):
    from indexer.pipeline import run_index

    content = write_world(tmp_path / "content")
    settings = load_settings(overrides={"content_dir": str(content), "data_dir": str(tmp_path / "var"),
                                        "model": "hashing"}, environ={})
    kb = KnowledgeBase(settings, embedder=HashingEmbedder())
    try:
        run_index(settings, kb)
        assert kb.search("Error acquiring the state lock").results
        thread = content / "forum" / "terraform-state-lock.json"
        data = json.loads(thread.read_text(encoding="utf-8"))
        thread.write_text(json.dumps({**data, "visibility": "team:platform leads"}), encoding="utf-8")
        report = run_index(settings, kb)
        assert [s.path for s in report.skipped] == ["forum/terraform-state-lock.json"]
        assert "forum/terraform-state-lock" not in [r.id for r in kb.search("Error acquiring the state lock").results]
        (content / "articles" / "bad.md").write_text("---\ntitle: Bad\n---\n\n{broken", encoding="utf-8")
        thread.write_text(json.dumps(data), encoding="utf-8")
        run_index(settings, kb)
        assert "forum/terraform-state-lock" in [r.id for r in kb.search("Error acquiring the state lock").results]
    finally:
        kb.shutdown()


def test_a_mapped_category_decides_for_simple_threads_too_and_a_thread_cannot_widen_it(tmp_path):
    from indexer.pipeline import scan

    content = write_world(tmp_path / "content")
    (content / "forum-audiences.yaml").write_text("Platform: team:platform\n", encoding="utf-8")
    thread = content / "forum" / "terraform-state-lock.json"
    data = json.loads(thread.read_text(encoding="utf-8"))
    thread.write_text(json.dumps({**data, "category": "platform", "visibility": "everyone"}), encoding="utf-8")
    documents, _ = scan(content, 1_000_000)
    assert {d.id: d.audience for d in documents}["forum/terraform-state-lock"] == ["team:platform"]


def test_the_agenda_never_shows_a_reader_what_they_may_not_see(site):
    """Searches that found a restricted document are not logged (their words could tell what it
    holds); the agenda's closest content and hosts come from what its reader may see."""
    client = site.test_client()
    for _ in range(3):
        for secret in SECRETS.values():
            for name in secret["readers"]:
                client.get(f"/search?q={secret['canaries'][0]}", headers=headers(name))
        client.get("/search?q=mentorgesprek groeiplan", headers=headers("bob"))  # the private note's subject
    kb = site.extensions["kb"]
    kb.flush_search_log()
    assert {s.query for s in kb.logged_searches(1)} == {"mentorgesprek groeiplan"}
    for name in READERS:
        for url in ("/", "/agenda", "/api/agenda", "/agenda.atom"):
            body = client.get(url, headers=headers(name)).get_data(as_text=True).lower()
            for doc_id, secret in SECRETS.items():
                if name not in secret["readers"]:
                    assert doc_id not in body and not any(c.lower() in body for c in secret["canaries"]), (name, url)
    gap = client.get("/api/agenda", headers=headers("alice")).get_json()["gaps"][0]
    assert "sessions/2026-02-02-mentorgesprek-quokka" in [item["id"] for item in gap["nearest"]]
