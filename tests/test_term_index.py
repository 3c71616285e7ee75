import math

import numpy as np
import pytest

from kb.term_index import K1, B, TermIndex

ROWS = [
    (10, "visa", "visa renewal office queue"),
    (11, "", "renewal of the lease"),
    (12, "holiday", "holiday beach holidays"),
    (13, "", "office party holidays"),
]


def expected(frequency: float, length: float, average: float, chunks: int, df: int) -> float:
    idf = math.log((chunks - df + 0.5) / (df + 0.5) + 1.0)
    return idf * frequency * (K1 + 1) / (frequency + K1 * (1 - B + B * length / average))


def test_scores_are_bm25_with_title_words_counted_twice():
    index = TermIndex(ROWS, title_weight=2.0)
    lengths = [2 + 4, 4, 2 + 3, 3]
    average = sum(lengths) / 4
    scores = dict(index.search([{"visa"}], k=10))
    assert list(scores) == [10]
    assert scores[10] == pytest.approx(expected(2 * 1 + 1, lengths[0], average, 4, 1), rel=1e-5)


def test_alternative_stems_count_as_one_word_with_the_idf_of_the_most_common():
    index = TermIndex(ROWS, title_weight=2.0)
    average = (6 + 4 + 5 + 3) / 4
    scores = dict(index.search([{"holiday", "holidays"}], k=10))
    # "holidays" is in two chunks, "holiday" in one: the word's IDF is that of the commoner form
    assert scores[12] == pytest.approx(expected(2 + 1 + 1, 5, average, 4, 2), rel=1e-5)
    assert scores[13] == pytest.approx(expected(1, 3, average, 4, 2), rel=1e-5)


def test_a_word_the_query_repeats_counts_once_per_occurrence():
    index = TermIndex(ROWS)
    once = dict(index.search([{"office"}], k=10))
    twice = dict(index.search([{"office"}, {"office"}], k=10))
    assert twice[13] == pytest.approx(2 * once[13])


def test_best_first_limited_to_k_and_to_the_allowed_chunks():
    index = TermIndex(ROWS)
    hits = index.search([{"renewal"}, {"office"}], k=2)
    assert [chunk for chunk, _ in hits] == [10, 13] and hits[0][1] > hits[1][1]
    within = index.positions(np.array([11, 13, 99], dtype=np.int64))
    assert sorted(chunk for chunk, _ in index.search([{"renewal"}, {"office"}], k=10, within=within)) == [11, 13]


def test_unknown_words_and_an_empty_index_find_nothing():
    assert TermIndex(ROWS).search([{"zebra"}], k=5) == []
    empty = TermIndex([])
    assert empty.search([{"visa"}], k=5) == [] and empty.present(1, {"visa"}) == set()


def test_present_names_the_query_terms_a_chunk_holds_and_frequencies_are_known():
    index = TermIndex(ROWS)
    assert index.present(10, {"visa", "office", "beach"}) == {"visa", "office"}
    assert index.present(99, {"visa"}) == set()
    assert index.document_frequency("renewal") == 2 and {"office", "party", "visa"} <= index.terms()


def test_a_later_generation_extends_the_index_like_a_fresh_build():
    first = TermIndex(ROWS)
    later_rows = [ROWS[0], ROWS[2], (14, "lease", "lease renewal visa"), (15, "", "beach office")]
    extended = first.extended(np.array([10, 12], dtype=np.int64), later_rows[2:])
    fresh = TermIndex(later_rows)
    assert list(extended.ids) == [10, 12, 14, 15]
    for groups in ([{"visa"}], [{"renewal"}, {"office"}], [{"holiday", "holidays"}], [{"lease"}, {"beach"}]):
        got, want = extended.search(groups, k=10), fresh.search(groups, k=10)
        assert [chunk for chunk, _ in got] == [chunk for chunk, _ in want]
        assert [score for _, score in got] == pytest.approx([score for _, score in want])
    assert "party" not in extended.terms() and extended.stale_share() > 0  # chunk 13 left


def test_extending_leaves_the_previous_index_as_it_was_and_keeps_present_working():
    first = TermIndex(ROWS)
    before = first.search([{"visa"}, {"office"}], k=10)
    later = first.extended(np.array([10, 13], dtype=np.int64), [(14, "", "visa office lease")])
    assert first.search([{"visa"}, {"office"}], k=10) == before
    assert later.present(14, {"visa", "lease", "beach"}) == {"visa", "lease"}
    assert later.present(13, {"office", "holidays"}) == {"office", "holidays"}
    assert later.present(11, {"renewal"}) == set()  # chunk 11 is gone


def test_ties_at_the_cut_are_broken_by_lowest_chunk_id_so_pages_agree():
    rows = [(chunk, "", "same words here") for chunk in range(1, 301)]
    index = TermIndex(rows)
    top_100 = [chunk for chunk, _ in index.search([{"words"}], k=100)]
    top_40 = [chunk for chunk, _ in index.search([{"words"}], k=40)]
    assert top_100 == list(range(1, 101)) and top_40 == top_100[:40]
