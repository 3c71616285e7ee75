"""One ranking per query: the order of results does not depend on the page asked for.

Pages 1-5 of ten results, one after the other, are the first fifty of one page of fifty, with
the same scores and the same total, for every judged query of tests/eval and the public sets.
The property belongs to the code, not to the model, so the hashing embedder stands in for it.
"""

from pathlib import Path

import pytest

from indexer.evaluate import evaluation_base, load_queries
from kb import load_settings
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
