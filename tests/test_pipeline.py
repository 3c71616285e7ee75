"""The index run over real files: incremental, safe against failures, one writer at a time."""


import pytest

from indexer.pipeline import run_index
from kb.errors import Busy, IndexMismatch
from kb.knowledge import KnowledgeBase
from tests.conftest import ARTICLE_EN, BOTH_BACKENDS

BACKENDS = BOTH_BACKENDS


def ids(kb, query, **options):
    return [r.id for r in kb.search(query, **options).results]


def test_second_run_over_unchanged_content_embeds_nothing(world):
    settings, kb = world
    first = run_index(settings, kb)
    assert (first.applied.added, first.applied.embedded) == (4, first.applied.embedded) and first.applied.embedded > 0
    second = run_index(settings, kb)
    assert (second.applied.added, second.applied.updated, second.applied.removed, second.applied.unchanged,
            second.applied.embedded) == (0, 0, 0, 4, 0)


def test_unchanged_run_does_not_load_the_model(world):
    settings, kb = world
    run_index(settings, kb)
    fresh = KnowledgeBase(settings)  # would load the real "hashing" model lazily; must not be asked
    fresh._embedder = None
    report = run_index(settings, fresh)
    assert report.applied.embedded == 0 and fresh._embedder is None


def test_editing_one_file_reembeds_only_its_changed_chunks(world):
    settings, kb = world
    run_index(settings, kb)
    path = settings.content_dir / "articles" / "2025-03-12-feedback-that-lands.md"
    path.write_text(ARTICLE_EN.replace("Keep it short and specific.", "Keep it short, kind and specific."))
    report = run_index(settings, kb)
    assert (report.applied.updated, report.applied.unchanged, report.applied.embedded) == (1, 3, 1)
    assert report.applied.cached >= 1  # the article's other chunks came from the cache
    assert "kind and specific" in kb.search("short kind specific").results[0].snippet.replace("<mark>",
                                                                                              "").replace("</mark>", "")


def test_deleting_a_file_removes_it_from_search(world):
    settings, kb = world
    run_index(settings, kb)
    assert "forum/terraform-state-lock" in ids(kb, "terraform state lock")
    (settings.content_dir / "forum" / "terraform-state-lock.json").unlink()
    report = run_index(settings, kb)
    assert report.applied.removed == 1
    assert "forum/terraform-state-lock" not in ids(kb, "terraform state lock")


def test_broken_file_is_reported_and_the_good_ones_are_indexed(world):
    settings, kb = world
    (settings.content_dir / "sessions" / "kapot.md").write_text("---\ntitle: [\n---\n")
    report = run_index(settings, kb)
    assert report.applied.added == 4
    assert [(s.path, "invalid YAML" in s.reason) for s in report.skipped] == [("sessions/kapot.md", True)]
    assert kb.health()["last_run"]["skipped"] == 1  # the store keeps the run's summary


def test_a_file_that_breaks_keeps_its_last_good_version(world):
    settings, kb = world
    run_index(settings, kb)
    (settings.content_dir / "forum" / "terraform-state-lock.json").write_text("{broken")
    report = run_index(settings, kb)
    assert report.applied.removed == 0 and len(report.skipped) == 1
    assert "forum/terraform-state-lock" in ids(kb, "terraform state lock")


class Crash(Exception):
    pass


@pytest.mark.parametrize("where", ["embedding", "publishing"])
def test_failed_run_leaves_previous_index_serving_and_next_run_converges(world, where, new_store):
    settings, kb = world
    run_index(settings, kb)
    before = ids(kb, "terraform state lock onboarding feedback")
    path = settings.content_dir / "articles" / "2025-03-12-feedback-that-lands.md"
    path.write_text(ARTICLE_EN.replace("Practise with a colleague", "Rehearse with a trusted colleague"))
    (settings.content_dir / "forum" / "terraform-state-lock.json").unlink()
    options = {}
    if where == "embedding":
        # after the first batch is embedded (and cached), before the run publishes
        options["progress"] = lambda embedded, *_: (_ for _ in ()).throw(Crash()) if embedded else None
    else:
        options["after_embedding"] = lambda: (_ for _ in ()).throw(Crash())
    with pytest.raises(Crash):
        run_index(settings, kb, **options)
    assert ids(kb, "terraform state lock onboarding feedback") == before  # previous generation still serves
    run_index(settings, kb)
    converged = ids(kb, "rehearse trusted colleague terraform onboarding", limit=10)
    clean_settings = settings.replace(**new_store("clean"))
    clean = KnowledgeBase(clean_settings, embedder=kb.embedder)
    run_index(clean_settings, clean, full=True)
    assert converged == ids(clean, "rehearse trusted colleague terraform onboarding", limit=10)
    assert "forum/terraform-state-lock" not in converged


def test_full_reindex_rebuilds_everything(world):
    settings, kb = world
    run_index(settings, kb)
    report = run_index(settings, kb, full=True)
    assert report.applied.updated == 4 and report.applied.embedded == 0 and report.applied.cached > 0
    assert ids(kb, "terraform state lock")[0] == "forum/terraform-state-lock"


def test_second_run_while_one_is_running_exits_with_a_clear_message(world):
    settings, kb = world
    other = KnowledgeBase(settings, embedder=kb.embedder)  # another process, or another host
    with other.index_run(), pytest.raises(Busy, match="indexing is busy"):
        run_index(settings, kb)
    other.shutdown()


def test_changed_model_setting_asks_for_a_full_reindex(world):
    settings, kb = world
    run_index(settings, kb)
    other = settings.replace(chunk_words=60)
    with pytest.raises(IndexMismatch, match="make reindex"):
        run_index(other, KnowledgeBase(other, embedder=kb.embedder))


def test_web_process_sees_a_new_generation_without_restart(world):
    settings, kb = world
    run_index(settings, kb)
    reader = KnowledgeBase(settings, embedder=kb.embedder)
    assert "sessions/2025-05-01-nieuw" not in ids(reader, "mentoring")
    (settings.content_dir / "sessions" / "2025-05-01-nieuw.md").write_text(
        "---\ntitle: Mentoring met een buddy\ndate: 2025-05-01\nspeakers: [Sanne de Vries]\nlanguage: nl\n---\n\n"
        "Mentoring gesprek.")
    run_index(settings, kb)
    assert ids(reader, "mentoring")[0] == "sessions/2025-05-01-nieuw"
