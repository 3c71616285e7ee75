import json

import pytest

from indexer.loaders import LOADERS
from indexer.pipeline import load_file, scan
from kb.errors import ContentError
from tests.conftest import FORUM_SIMPLE, HTML_ARTICLE, SESSION_NL, write_world


def test_markdown_session_fields():
    doc = LOADERS[".md"](SESSION_NL, "sessions/2025-04-17-onboarding-leerlunch.md")
    assert doc.id == "sessions/2025-04-17-onboarding-leerlunch" and doc.kind == "session"
    assert doc.authors == ["Ingrid de Boer", "Anouk Dekker"] and doc.lang == "nl"
    assert doc.date == "2025-04-17" and doc.format == "lunch & learn" and doc.tags == ["onboarding", "buddy"]


def test_html_article_strips_navigation_scripts_and_footer():
    doc = LOADERS[".html"](HTML_ARTICLE, "articles/x.html")
    assert doc.title == "Toegankelijke formulieren" and doc.authors == ["Noor Hendriks"]
    assert doc.lang == "nl" and doc.date == "2025-10-07" and doc.tags == ["accessibility", "wcag"]
    assert doc.summary == "Wat WCAG 2.2 betekent voor formulieren."
    for clutter in ("analytics", "cookies", "nieuwsbrief", "Alle rechten", "Home", "color:red"):
        assert clutter not in doc.body
    assert "zichtbaar label" in doc.body


def test_simple_forum_thread():
    doc = LOADERS[".json"](json.dumps(FORUM_SIMPLE), "forum/t.json")
    assert doc.kind == "forum" and len(doc.posts) == 3
    assert [p.accepted for p in doc.posts] == [False, True, False]
    assert doc.people() == ["Ahmed Yilmaz", "Lars Brouwer", "Mark Visser"]


def test_discourse_topic_json():
    topic = {
        "id": 7, "title": "Focus styles", "tags": ["accessibility"], "accepted_answer": {"post_number": 2},
        "post_stream": {"posts": [
            {"username": "sophie.vandijk", "name": "Sophie van Dijk", "created_at": "2025-01-02T10:00:00.000Z",
             "cooked": "<p>What do we need?</p>", "post_number": 1},
            {"username": "noor.hendriks", "name": "Noor Hendriks", "created_at": "2025-01-02T11:00:00.000Z",
             "cooked": "<p>A 2px outline.</p>", "post_number": 2, "accepted_answer": True},
        ]},
    }
    doc = LOADERS[".json"](json.dumps(topic), "forum/focus.json")
    assert doc.title == "Focus styles" and doc.lang == "en" and doc.date == "2025-01-02"
    assert [(p.author, p.accepted, p.body_format) for p in doc.posts] == [
        ("Sophie van Dijk", False, "html"), ("Noor Hendriks", True, "html")]


@pytest.mark.parametrize("name, data, reason", [
    ("sessions/a.md", b"---\ntitle: [oops\n---\nbody", "invalid YAML"),
    ("sessions/b.md", b"---\ndate: 2025-01-01\n---\nbody", "missing title"),
    ("sessions/c.md", b"---\ntitle: T\ndate: gisteren\n---\nbody", "not a date"),
    ("sessions/d.md", b"no front matter here", "no YAML front matter"),
    ("sessions/e.md", "---\ntitle: T\n---\ncaf\xe9".encode("latin-1"), "not UTF-8"),
    ("sessions/f.md", b"   \n", "empty"),
    ("forum/g.json", b"{not json", "invalid JSON"),
    ("forum/h.json", b"[1, 2]", "must be a JSON object"),
    ("forum/i.json", b'{"title": "x"}', "not a forum thread"),
    ("forum/j.json", b'{"title": "x", "posts": [{"body": 3}]}', "needs an 'author'"),
    ("articles/k.txt", b"plain", "unsupported file type"),
])
def test_bad_files_are_reported_with_a_reason(tmp_path, name, data, reason):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    with pytest.raises(ContentError, match=reason):
        load_file(path, name, max_bytes=10_000)


def test_oversized_file_is_skipped(tmp_path):
    path = tmp_path / "sessions" / "big.md"
    path.parent.mkdir()
    path.write_text("---\ntitle: T\n---\n" + "woord " * 1000)
    with pytest.raises(ContentError, match="over the limit"):
        load_file(path, "sessions/big.md", max_bytes=1000)


def test_scan_reports_bad_files_and_loads_the_rest(tmp_path):
    content = write_world(tmp_path / "content")
    (content / "sessions" / "kapot.md").write_text("---\ntitle: [\n---\n", encoding="utf-8")
    (content / "sessions" / ".hidden.md").write_text("ignored", encoding="utf-8")
    documents, skipped = scan(content, 100_000)
    assert len(documents) == 4
    assert [(s.path, "invalid YAML" in s.reason) for s in skipped] == [("sessions/kapot.md", True)]
