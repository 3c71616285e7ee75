import pytest

from kb.errors import IndexMissing, InvalidInput
from kb.search import Filters
from tests.conftest import BOTH_BACKENDS

BACKENDS = BOTH_BACKENDS


def ids(page):
    return [r.id for r in page.results]


def test_each_document_appears_once_with_highlighted_snippet(indexed):
    _, kb = indexed
    page = kb.search("feedback situation behaviour impact")
    assert len(ids(page)) == len(set(ids(page)))
    assert ids(page)[0] == "articles/2025-03-12-feedback-that-lands"
    assert "<mark>" in page.results[0].snippet


def test_dutch_compound_query_finds_its_parts(indexed):
    _, kb = indexed
    assert ids(kb.search("onboarding", mode="keyword"))[0] == "sessions/2025-04-17-onboarding-leerlunch"


def test_exact_error_message_is_found_first(indexed):
    _, kb = indexed
    assert ids(kb.search("Error acquiring the state lock"))[0] == "forum/terraform-state-lock"


@pytest.mark.parametrize("field, value, expected", [
    ("kind", "forum", {"forum/terraform-state-lock"}),
    ("lang", "nl", {"sessions/2025-04-17-onboarding-leerlunch", "articles/2025-10-07-toegankelijke-formulieren"}),
    ("tag", "sbi", {"articles/2025-03-12-feedback-that-lands"}),
    ("author", "lars brouwer", {"forum/terraform-state-lock"}),
])
def test_filters_narrow_results(indexed, field, value, expected):
    _, kb = indexed
    page = kb.search("feedback onboarding terraform toegankelijkheid", Filters(**{field: value}))
    assert set(ids(page)) == expected


def test_filters_narrow_the_results_of_the_query_and_never_add_to_them(indexed):
    _, kb = indexed
    query = "feedback geven situatie gedrag onboarding"
    everything = kb.search(query, limit=100)
    assert everything.total == len(everything.results) > 1
    for kind in ("article", "session", "forum"):
        page = kb.search(query, Filters(kind=kind), limit=100)
        assert ids(page) == [r.id for r in everything.results if r.kind == kind]
        assert page.total == everything.facets["kind"].get(kind, 0)


def test_a_query_nothing_matches_finds_nothing_and_offers_the_nearest_topics(indexed):
    _, kb = indexed
    page = kb.search("zzzzzz qqqqq")
    assert (page.total, page.results, page.answered) == (0, [], False)
    assert all(not values for values in page.facets.values())
    assert page.topics  # the tags of what came closest, to browse instead


def test_an_unknown_word_gets_a_suggestion_and_the_corrected_results(indexed):
    _, kb = indexed
    page = kb.search("terrafrom")
    assert page.did_you_mean == "terraform"
    as_typed = kb.search("terrafrom", as_typed=True)
    if not as_typed.answered:  # the typo alone finds nothing: the correction's results are shown
        assert (page.corrected_from, page.query) == ("terrafrom", "terraform") and page.total
    assert kb.search("terraform").did_you_mean is None


def test_newest_first_and_a_date_range_sort_and_narrow_the_same_results(indexed):
    _, kb = indexed
    query = "feedback onboarding terraform toegankelijkheid"
    best = kb.search(query, limit=100)
    newest = kb.search(query, limit=100, sort="newest")
    assert sorted(ids(newest)) == sorted(ids(best))
    dates = [r.date or "" for r in newest.results]
    assert dates == sorted(dates, reverse=True)
    within = kb.search(query, Filters(date_from="2025-01-01", date_to="2025-06-30"), limit=100)
    assert ids(within) == [r.id for r in best.results if "2025-01-01" <= (r.date or "") <= "2025-06-30"]


def test_a_tag_without_words_lists_everything_that_carries_it_newest_first(indexed):
    _, kb = indexed
    page = kb.browse(Filters(tag="onboarding"))
    assert page.total == len(page.results) >= 1
    assert all("onboarding" in r.tags for r in page.results)
    dates = [r.date or "" for r in page.results]
    assert dates == sorted(dates, reverse=True)


def test_pagination_and_total(indexed):
    _, kb = indexed
    everything = ids(kb.search("de het the feedback terraform onboarding formulieren", limit=10))
    first = ids(kb.search("de het the feedback terraform onboarding formulieren", limit=2))
    second = ids(kb.search("de het the feedback terraform onboarding formulieren", limit=2, offset=2))
    assert first + second == everything[:4]
    assert kb.search("feedback", limit=1).total >= 1


@pytest.mark.parametrize("query", ["", "   ", "x" * 10_000])
def test_empty_or_huge_query_is_a_clear_error(indexed, query):
    _, kb = indexed
    with pytest.raises(InvalidInput):
        kb.search(query)


@pytest.mark.parametrize("limit, offset", [(0, 0), (10**6, 0), (10, -1)])
def test_bad_limits_are_clear_errors(indexed, limit, offset):
    _, kb = indexed
    with pytest.raises(InvalidInput):
        kb.search("feedback", limit=limit, offset=offset)


@pytest.mark.parametrize("query", ['"', '"feedback', "feed*", "NEAR(feedback", "-feedback", "title:feedback",
                                   "AND", "(", "'; DROP TABLE documents; --", "🙂"])
def test_fts_syntax_in_queries_gives_sane_results(indexed, query):
    _, kb = indexed
    page = kb.search(query)
    assert page.total >= 0


def test_search_before_indexing_says_to_index(world):
    _, kb = world
    with pytest.raises(IndexMissing, match="make index"):
        kb.search("feedback")


def test_repeated_query_is_not_embedded_again(indexed):
    _, kb = indexed
    calls = []
    original = kb.embedder.embed_queries
    kb.embedder.embed_queries = lambda texts: calls.append(texts) or original(texts)
    kb.search("state lock")
    kb.search("state lock")
    assert len(calls) == 1


def test_a_new_generation_extends_the_keyword_index_and_ranks_as_a_fresh_one(indexed, monkeypatch):
    from indexer.pipeline import run_index
    from kb.knowledge import KnowledgeBase
    from kb.term_index import TermIndex

    settings, kb = indexed
    for number in range(24):  # a larger world, where one edited thread is a small share of the chunks
        (settings.content_dir / "articles" / f"note-{number}.md").write_text(
            f"---\ntitle: Werkafspraak {number}\n---\nAfspraak {number} over planning en overleg.", encoding="utf-8")
    run_index(settings, kb)
    kb.search("state lock")  # this generation's searcher is in memory
    extended = []
    original = TermIndex.extended
    monkeypatch.setattr(TermIndex, "extended", lambda self, *args: extended.append(1) or original(self, *args))
    lock_thread = settings.content_dir / "forum" / "terraform-state-lock.json"
    lock_thread.write_text(lock_thread.read_text(encoding="utf-8").replace("state lock", "state lock DynamoDB lease"),
                           encoding="utf-8")
    run_index(settings, kb)
    queries = ["state lock lease", "DynamoDB", "onboarding buddy", "feedback"]
    live = [[(r.id, r.score) for r in kb.search(q, mode="keyword").results] for q in queries]
    assert extended == [1]
    fresh = KnowledgeBase(settings, embedder=kb.embedder)
    try:
        assert live == [[(r.id, r.score) for r in fresh.search(q, mode="keyword").results] for q in queries]
    finally:
        fresh.close()
    assert ids(kb.search("DynamoDB", mode="keyword")) == ["forum/terraform-state-lock"]


class _Terms:
    """A store that only answers ``chunk_terms``."""

    def __init__(self, rows):
        self.rows = rows

    def chunk_terms(self, after=0):
        return [row for row in self.rows if row[0] > after]


def test_a_term_index_is_extended_only_when_little_changed(monkeypatch):
    import numpy as np

    from kb.term_index import TermIndex, term_index_for

    extended = []
    original = TermIndex.extended
    monkeypatch.setattr(TermIndex, "extended", lambda self, *args: extended.append(1) or original(self, *args))
    rows = [(chunk, "", f"word{chunk} common") for chunk in range(1, 101)]

    def extends(current_rows, previous_rows=rows) -> bool:
        extended.clear()
        ids = np.array([row[0] for row in current_rows], dtype=np.int64)
        index = term_index_for(_Terms(current_rows).chunk_terms, ids, TermIndex(previous_rows))
        assert sorted(hit[0] for hit in index.search([{"common"}], k=200)) == [row[0] for row in current_rows]
        return bool(extended)

    assert extends(rows[5:] + [(101, "", "word101 common")])  # a few chunks changed
    assert not extends(rows[:60] + [(chunk, "", f"other{chunk} common") for chunk in range(101, 131)])  # a third new
    assert not extends(rows, rows[:49] + rows[50:])  # a chunk new to it below its last id
    stale = TermIndex(rows).extended(np.arange(1, 71, dtype=np.int64), [])  # 30 of 100 words no longer held
    extended.clear()
    term_index_for(_Terms(rows[:70]).chunk_terms, np.arange(1, 71, dtype=np.int64), stale)
    assert not extended


def test_facets_count_every_result_document_commonest_first(indexed):
    import collections

    _, kb = indexed
    page = kb.search("feedback onboarding state lock toegankelijk", limit=100)
    assert page.total == len(page.results)
    for name, values in (("kind", [r.kind for r in page.results]), ("lang", [r.lang for r in page.results]),
                         ("tag", [tag for r in page.results for tag in r.tags])):
        expected = sorted(collections.Counter(values).items(), key=lambda item: (-item[1], item[0]))
        assert list(page.facets[name].items()) == expected


def test_reading_without_searching_never_loads_the_model(indexed):
    from kb.knowledge import KnowledgeBase

    settings, _ = indexed
    reader = KnowledgeBase(settings)  # the model is named by the settings, not given
    try:
        assert reader.topics() and reader.titles(["forum/terraform-state-lock"])
        assert reader.related("forum/terraform-state-lock")["id"] == "forum/terraform-state-lock"
        assert reader.learn_more(["forum/terraform-state-lock"]) is not None
        assert reader._embedder is None
        assert reader.search("state lock").results  # the first search loads it
        assert reader._embedder is not None
    finally:
        reader.close()
