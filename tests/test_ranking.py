"""One ranking per query: the order of results does not depend on the page asked for.

Pages 1-5 of ten results, one after the other, are the first fifty of one page of fifty, with
the same scores and the same total, for every judged query of tests/eval and the public sets.
The property belongs to the code, not to the model, so the hashing embedder stands in for it.
"""

from pathlib import Path

import pytest

from indexer.evaluate import evaluation_base, load_queries
from kb import Filters, load_settings
from kb.embeddings import HashingEmbedder
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

EVALSETS = ROOT.parent / "shared" / "evalsets"
SETS = [ROOT / "tests" / "eval", EVALSETS / "semeval16-cqa-qq", EVALSETS / "scifact-train"]


def ranking(kb, query: str, limit: int, offset: int) -> tuple[int, list[tuple[str, float]]]:
    page = kb.search(query, limit=limit, offset=offset)
    return page.total, [(result.id, result.score) for result in page.results]


@pytest.mark.parametrize("folder", SETS, ids=lambda folder: folder.name)
def test_pages_of_ten_continue_each_other_and_equal_one_page_of_fifty(folder: Path, tmp_path):
    if not folder.exists():
        pytest.skip(f"{folder} is not here (the public sets lie in ../shared/evalsets)")
    settings = load_settings(overrides={"data_dir": tmp_path, "model": "hashing"}, environ={})
    kb = evaluation_base(folder, settings, embedder=HashingEmbedder())
    texts, _ = load_queries(folder)
    try:
        for text in texts.values():
            total, first_fifty = ranking(kb, text, 50, 0)
            pages = [ranking(kb, text, 10, offset) for offset in range(0, 50, 10)]
            assert [page_total for page_total, _ in pages] == [total] * 5, text
            assert [hit for _, hits in pages for hit in hits] == first_fifty, text
    finally:
        kb.close()


def test_every_facet_count_is_the_total_its_click_gives_on_every_page(tmp_path):
    """For 20 judged queries over the demo content: the total is the same on pages 1-5, and
    each value of each facet, clicked, gives exactly its count as the total, on pages 1-5 too."""
    folder = ROOT / "tests" / "eval"
    settings = load_settings(overrides={"data_dir": tmp_path, "model": "hashing"}, environ={})
    kb = evaluation_base(folder, settings, embedder=HashingEmbedder())
    texts, groups = load_queries(folder)
    queries = [text for qid, text in texts.items() if groups.get(qid) != "no_answer"][::7][:20]
    checked = 0
    try:
        for text in queries:
            first = kb.search(text, limit=10)
            assert [kb.search(text, limit=10, offset=offset).total for offset in range(0, 50, 10)] == [first.total] * 5
            for name, values in first.facets.items():
                for value, count in values.items():
                    narrowed = Filters(**{name: value})
                    totals = [kb.search(text, narrowed, limit=10, offset=offset).total for offset in range(0, 50, 10)]
                    assert totals == [count] * 5, (text, name, value)
                    checked += 1
        assert checked > 200  # every facet value of 20 queries, not a handful
    finally:
        kb.close()
