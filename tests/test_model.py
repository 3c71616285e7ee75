"""End to end with the real default embedding model: what ships is what is tested."""

import pytest

from indexer.pipeline import run_index
from kb.config import SETTINGS
from kb.knowledge import KnowledgeBase

pytestmark = pytest.mark.model

DEFAULT_MODEL = next(s.default for s in SETTINGS if s.name == "model")


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    from kb.config import load_settings
    from tests.conftest import write_world

    root = tmp_path_factory.mktemp("real")
    settings = load_settings(overrides={"content_dir": str(write_world(root / "content")),
                                        "data_dir": str(root / "var"), "model": DEFAULT_MODEL}, environ={})
    kb = KnowledgeBase(settings)
    report = run_index(settings, kb)
    assert report.applied.added == 4 and report.applied.embedded > 0
    return kb


def top(kb, query):
    return kb.search(query).results[0].id


def test_dutch_query_finds_the_english_article(real):
    assert top(real, "hoe geef ik een collega feedback") == "articles/2025-03-12-feedback-that-lands"


def test_english_query_finds_the_dutch_session(real):
    assert top(real, "who welcomes new colleagues in their first week") == "sessions/2025-04-17-onboarding-leerlunch"


def test_english_query_finds_the_dutch_html_article(real):
    assert top(real, "visible focus and labels for form fields") == "articles/2025-10-07-toegankelijke-formulieren"


def test_exact_error_message_finds_the_thread(real):
    assert top(real, "Error acquiring the state lock") == "forum/terraform-state-lock"


def test_index_records_the_model_and_refuses_another(real, tmp_path):
    from kb.errors import IndexMismatch

    other = KnowledgeBase(real.settings.replace(model="hashing"))
    with pytest.raises(IndexMismatch, match="make reindex"):
        other.search("feedback")


def test_a_model_that_needs_torch_without_the_extra_is_one_line_naming_it():
    import pytest

    from kb import ModelUnavailable
    from kb.embeddings import require

    with pytest.raises(ModelUnavailable) as caught:
        require("kb_no_such_module_here", "sentence-transformers", extra=True)
    assert "make install-sentence-transformers" in str(caught.value) and "\n" not in str(caught.value)
    assert "kennisbank[sentence-transformers]" in str(caught.value)
