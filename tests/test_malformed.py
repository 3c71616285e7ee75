"""Malformed content: whatever a content file holds, a loader gives a usable Document or a ContentError.

Property-based: random and mutated Markdown with YAML front matter, HTML, and forum JSON in both
shapes (simple and Discourse), random bytes, truncations, and fields of the wrong type, all
written as real files and read through ``indexer.pipeline.load_file``. A Document that comes back
must survive everything the index run and the web app do with it; a folder of such files is
scanned and indexed with every bad file reported and every good one searchable.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from indexer.pipeline import load_file, run_index, scan
from kb.chunking import chunk_document
from kb.config import load_settings
from kb.documents import Document, is_valid_id
from kb.embeddings import HashingEmbedder
from kb.errors import ContentError
from kb.knowledge import KnowledgeBase
from kb.rendering import render_body, render_markdown
from tests.conftest import ARTICLE_EN, FORUM_SIMPLE, HTML_ARTICLE, ROOT, SESSION_NL

MAX_BYTES = 200_000
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                          HealthCheck.data_too_large])

DISCOURSE = json.loads((ROOT / "content" / "forum" / "terraform-state-lock-error.json").read_text(encoding="utf-8"))
SEEDS = {
    "articles/seed.md": ARTICLE_EN.encode(),
    "sessions/seed.md": SESSION_NL.encode(),
    "articles/seed.html": HTML_ARTICLE.encode(),
    "forum/simple.json": json.dumps(FORUM_SIMPLE).encode(),
    "forum/discourse.json": json.dumps(DISCOURSE).encode(),
}

# values of every type, nested: what a hand-edited or machine-made file may hold where text is expected
text = st.text(st.characters(codec="utf-8"), max_size=30)
# lone surrogates (which JSON and YAML escapes can produce), NUL, BOM and line separators
odd_text = st.tuples(text, st.sampled_from(["\ud800", "\udfff", "\x00", "\ufeff", "\u2028"]), text).map("".join)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), text, odd_text, st.dates(),
                    st.datetimes(), st.sampled_from(["", " ", "2025-02-30", "0000-01-01", "yes", "~", "\x00"]))
nested = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(text, inner, max_size=4)), max_leaves=12)
values = st.one_of(odd_text, nested)  # odd text half the time: it hides behind any field
FIELDS = ["title", "date", "tags", "author", "authors", "speakers", "language", "lang", "summary", "source_url",
          "url", "format", "category"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("malformed")


def write(folder: Path, relative: str, data: bytes) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def check_usable(doc: Document) -> None:
    """What the index run and the pages do with a document must work."""
    assert isinstance(doc.title, str) and doc.title.strip() and is_valid_id(doc.id)
    assert all(isinstance(value, str) for value in [*doc.tags, *doc.authors, doc.summary, doc.source_url,
                                                     doc.format, doc.category, doc.body])
    assert doc.date is None or dt.date.fromisoformat(doc.date)
    assert doc.lang in ("nl", "en")
    assert len(doc.content_hash) == 64 and Document.from_json(doc.to_json()) == doc
    assert [chunk.hash for chunk in chunk_document(doc, 160)]
    render_body(doc.body, doc.body_format)
    for post in doc.posts:
        assert isinstance(post.author, str) and post.author and isinstance(post.body, str)
        render_body(post.body, post.body_format)


def load_or_refuse(folder: Path, relative: str, data: bytes) -> Document | None:
    """The file's Document (checked usable), or None when it was refused with a ContentError."""
    path = write(folder, relative, data)
    try:
        doc = load_file(path, relative, MAX_BYTES)
    except ContentError as refused:
        assert refused.message.startswith(relative + ": ") and len(refused.message) > len(relative) + 2
        return None
    check_usable(doc)
    return doc


@st.composite
def mutated(draw, data: bytes) -> bytes:
    """``data`` after a few random edits: truncation, flipped, inserted, deleted or repeated bytes."""
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "repeat"]))
        if edit == "truncate":
            data = data[:at]
        elif edit == "flip" and at < len(data):
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
        elif edit == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
        elif edit == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 40)):]
        elif edit == "repeat":
            data = data[:at] + data[at:at + 30] * draw(st.integers(2, 50)) + data[at:]
    return data


# every format, every kind of damage ------------------------------------------------------------

@FUZZ
@given(data=st.data(), seed=st.sampled_from(sorted(SEEDS)))
def test_mutated_files_load_or_are_refused_with_a_reason(folder, data, seed):
    load_or_refuse(folder, seed, data.draw(mutated(SEEDS[seed])))


@FUZZ
@given(raw=st.binary(max_size=400), name=st.sampled_from(["articles/r.md", "articles/r.html", "forum/r.json"]))
def test_random_bytes_load_or_are_refused_with_a_reason(folder, raw, name):
    load_or_refuse(folder, name, raw)


@FUZZ
@given(body=st.text(max_size=300), head=st.text(max_size=100))
def test_random_text_in_every_format_loads_or_is_refused(folder, body, head):
    for name, text_of in [("sessions/t.md", f"---\n{head}\n---\n{body}"), ("articles/t.html",
                                                                           f"<title>{head}</title>{body}"),
                          ("forum/t.json", body)]:
        load_or_refuse(folder, name, text_of.encode("utf-8", "surrogatepass"))


# fields of the wrong type --------------------------------------------------------------------------

VALID_FIELDS = {"title": "Feedback geven", "date": "2025-03-12", "tags": ["feedback"], "author": "Sanne de Vries",
                "speakers": ["Sanne de Vries"], "language": "nl", "summary": "Kort.", "format": "workshop"}


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(FIELDS), values, max_size=3), body=st.one_of(text, odd_text),
       kind=st.sampled_from(["articles", "sessions"]))
def test_front_matter_with_any_values_loads_or_is_refused(folder, changes, body, kind):
    try:
        header = yaml.safe_dump({**VALID_FIELDS, **changes}, allow_unicode=True)
    except yaml.YAMLError:
        assume(False)
    load_or_refuse(folder, f"{kind}/f.md", f"---\n{header}---\n{body}".encode("utf-8", "surrogatepass"))


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(["title", "category", "tags", "language", "posts"]), values, max_size=3),
       post_changes=st.dictionaries(st.sampled_from(["author", "date", "body", "accepted"]), values, max_size=3))
def test_simple_threads_with_any_values_load_or_are_refused(folder, changes, post_changes):
    thread = {**FORUM_SIMPLE, **changes}
    if isinstance(thread.get("posts"), list) and thread["posts"] and isinstance(thread["posts"][0], dict):
        thread["posts"] = [{**thread["posts"][0], **post_changes}, *thread["posts"][1:]]
    load_or_refuse(folder, "forum/s.json", json.dumps(thread, default=str).encode())


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(["title", "fancy_title", "tags", "category_id", "accepted_answer",
                                                "post_stream"]), values, max_size=3),
       post_changes=st.dictionaries(st.sampled_from(["name", "username", "created_at", "cooked", "post_number",
                                                     "accepted_answer"]), values, max_size=3))
def test_discourse_topics_with_any_values_load_or_are_refused(folder, changes, post_changes):
    topic = {**DISCOURSE, **changes}
    stream = topic.get("post_stream")
    if isinstance(stream, dict) and isinstance(stream.get("posts"), list) and stream["posts"]:
        topic["post_stream"] = {**stream, "posts": [{**stream["posts"][0], **post_changes}, *stream["posts"][1:]]}
    load_or_refuse(folder, "forum/d.json", json.dumps(topic, default=str).encode())


@pytest.mark.parametrize("name, data, reason", [
    ("sessions/a.md", "---\ntitle: [a, b]\n---\nx", "title must be a text, not a list"),
    ("sessions/a.md", "---\ntitle: {a: b}\n---\nx", "title must be a text, not a mapping"),
    ("sessions/a.md", "---\ntitle: T\ndate: [2025, 1, 1]\n---\nx", "date must be a date"),
    ("sessions/a.md", "---\ntitle: T\ndate: 0000-01-01\n---\nx", "invalid YAML front matter"),
    ("sessions/a.md", "---\ntitle: T\ntags: {a: 1}\n---\nx", "tags must be a list"),
    ("sessions/a.md", "---\ntitle: T\ntags: [[a, b]]\n---\nx", "tags must be a list of texts"),
    ("sessions/a.md", "---\ntitle: T\nspeakers: [{name: A}]\n---\nx", "speakers must be a list of texts"),
    ("sessions/a.md", "---\ntitle: T\nsummary: [a]\n---\nx", "summary must be a text"),
    ("sessions/a.md", "---\ntitle: \"a\\ud800b\"\n---\nx", "not a character"),
    ("forum/a.json", {"title": "T", "posts": "hallo"}, "'posts' must be a non-empty list"),
    ("forum/a.json", {"title": "T", "posts": [{"author": {"n": "A"}, "body": "b"}]}, "needs an 'author'"),
    ("forum/a.json", {"title": 5.5, "tags": {"a": 1}, "posts": [{"author": "A", "body": "b"}]}, "tags must be a list"),
    ("forum/a.json", {"title": "T", "posts": [{"author": "A", "body": "b\ud800"}]}, "not a character"),
    ("forum/a.json", {"title": ["T"], "post_stream": {"posts": [{"name": "A", "cooked": "<p>x</p>"}]}},
     "title must be a text"),
    ("forum/a.json", {"title": "T", "tags": 7, "post_stream": {"posts": [{"name": "A", "cooked": "x"}]}},
     "tags must be a list"),
    ("forum/a.json", {"title": "T", "post_stream": {"posts": [{"name": ["A"], "cooked": "x"}]}}, "name must be a text"),
    ("forum/a.json", {"title": "T", "post_stream": "posts"}, "'post_stream.posts' must be a non-empty list"),
    ("forum/a.json", "[" * 100_000 + "]" * 100_000, "could not be read"),
    ("articles/my note.md", "---\ntitle: T\n---\nx", "rename it"),
    ("articles/café.md", "---\ntitle: T\n---\nx", "rename it"),
])
def test_wrong_types_are_reported_by_field(folder, name, data, reason):
    raw = data if isinstance(data, str) else json.dumps(data)
    with pytest.raises(ContentError, match=reason):
        load_file(write(folder, name, raw.encode("utf-8", "surrogatepass")), name, MAX_BYTES)


def test_yaml_alias_bomb_is_refused_at_once(folder):
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"] + [
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(9)]
    text = "---\n" + "\n".join(levels) + "\ntitle: Bom\nsummary: *j\ntags: *j\n---\nx"
    started = time.perf_counter()
    with pytest.raises(ContentError, match="(summary|tags) must be a"):
        load_file(write(folder, "sessions/bomb.md", text.encode()), "sessions/bomb.md", MAX_BYTES)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("body", ["* " * 5000 + "x", "> " * 5000 + "x", "[" * 100_000, "[a](b) " * 14_000,
                                  "*a " * 30_000, "`" * 100_000, "<div>" * 20_000])
def test_pathological_markdown_renders_quickly_without_overflowing(body):
    started = time.perf_counter()
    render_markdown(body)
    assert time.perf_counter() - started < 10  # Python-Markdown took ~25 minutes for "[" * 100_000


# a folder of such files: scanned, reported, indexed ------------------------------------------------

bad_or_good = st.one_of(
    st.tuples(st.sampled_from(sorted(SEEDS)), st.just(None)),
    st.tuples(st.sampled_from(sorted(SEEDS)), st.binary(max_size=60)),
)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_scan_and_index_report_every_bad_file_and_index_every_good_one(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("scan")
    content = root / "content"
    expected_good: set[str] = set()
    expected_bad: set[str] = set()
    for number in range(data.draw(st.integers(4, 12))):
        seed = data.draw(st.sampled_from(sorted(SEEDS)))
        kind_folder, name = seed.split("/")
        relative = f"{kind_folder}/{number}-{name}"
        raw = data.draw(st.one_of(st.just(SEEDS[seed]), mutated(SEEDS[seed]), st.binary(max_size=80)))
        doc = load_or_refuse(content, relative, raw)
        (expected_good if doc is not None else expected_bad).add(relative)
    documents, skipped = scan(content, MAX_BYTES)
    assert {doc.path for doc in documents} == expected_good
    assert {item.path for item in skipped} == expected_bad and all(item.reason for item in skipped)

    settings_ = load_settings(overrides={"content_dir": str(content), "data_dir": str(root / "var"),
                                         "model": "hashing"}, environ={})
    kb = KnowledgeBase(settings_, embedder=HashingEmbedder())
    try:
        report = run_index(settings_, kb)
        assert report.applied.added == len(expected_good) and len(report.skipped) == len(expected_bad)
        if expected_good:
            assert kb.health()["documents"] == len(expected_good)
            for doc in documents:
                assert kb.document(doc.id).title == doc.title
                assert doc.id in [r.id for r in kb.search(doc.title, limit=100).results] or not doc.title.strip("\x00")
    finally:
        kb.close()


def test_broken_files_next_to_the_real_content_leave_it_all_indexed(tmp_path):
    import shutil

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    good = len(scan(content, MAX_BYTES)[0])
    broken = {
        "sessions/lone-surrogate.md": b"---\ntitle: \"kapot \\udc80\"\n---\ntekst",
        "forum/surrogate.json": json.dumps({"title": "x", "posts": [{"author": "A", "body": "\udc80"}]}).encode(),
        "forum/deep.json": b"[" * 50_000,
        "articles/bomb.md": b"---\na: &a [x, x]\nb: &b [*a, *a]\ntitle: T\nsummary: *b\n---\nx",
        "articles/not utf8.md": "---\ntitle: café\n---\n".encode("latin-1"),
        "sessions/nested.md": b"---\ntitle: T\nspeakers: [[a]]\n---\nx",
    }
    for relative, raw in broken.items():
        write(content, relative, raw)
    settings_ = load_settings(overrides={"content_dir": str(content), "data_dir": str(tmp_path / "var"),
                                         "model": "hashing"}, environ={})
    kb = KnowledgeBase(settings_, embedder=HashingEmbedder())
    report = run_index(settings_, kb)
    assert report.applied.added == good and {item.path for item in report.skipped} == set(broken)
    assert kb.search("terraform state lock").results
    kb.close()
