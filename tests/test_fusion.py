from kb.fusion import FusionParams, Signals, agreement, fuse, group_best, keyword_weight, relative


def test_group_best_keeps_one_entry_per_document_with_its_best_chunk():
    hits = [(1, "a", 0.5), (2, "a", 0.9), (3, "b", 0.7), (4, "a", 0.1)]
    assert group_best(hits) == {"a": (0.9, 2), "b": (0.7, 3)}


def test_relative_scores_best_is_one():
    assert relative({"a": 3.0, "b": 1.0, "c": 2.0}) == {"a": 1.0, "b": 0.0, "c": 0.5}
    assert relative({"a": 2.0}, floor=0.0) == {"a": 1.0}
    assert relative({}) == {}


def test_fuse_adds_weighted_keyword_evidence_and_breaks_ties_by_id():
    dense = {"a": 0.9, "b": 0.8, "c": 0.7}
    keyword = {"c": 10.0}
    assert [d for d, _ in fuse(dense, keyword, 0.0)] == ["a", "b", "c"]
    assert [d for d, _ in fuse(dense, keyword, 2.0)][0] == "c"
    assert fuse({"b": 1.0, "a": 1.0}, {}, 0.5) == [("a", 1.0), ("b", 1.0)]


def test_agreement_counts_shared_top_documents():
    assert agreement(["a", "b", "c"], ["c", "x"], depth=3) == 0.5
    assert agreement(["a"], [], depth=3) == 0.0


def test_keyword_weight_follows_agreement_and_coverage():
    params = FusionParams(agreement_weight=1.0, coverage_weight=2.0, coverage_power=2.0, depth=2)
    agree = keyword_weight(["a", "b"], ["a", "b"], Signals(0.0), params)
    disagree = keyword_weight(["a", "b"], ["x", "y"], Signals(0.0), params)
    covered = keyword_weight(["a", "b"], ["x", "y"], Signals(1.0), params)
    half = keyword_weight(["a", "b"], ["x", "y"], Signals(0.5), params)
    assert agree == 1.0 and disagree == 0.0 and covered == 2.0 and half == 0.5
    assert keyword_weight(["a"], [], Signals(1.0), params) == 0.0  # nothing found: nothing to weigh


def test_keyword_weight_grows_when_the_dense_side_finds_the_querys_language():
    params = FusionParams(agreement_weight=0.0, coverage_weight=1.0, coverage_power=1.0, depth=2, language_weight=2.0)
    across = keyword_weight(["a"], ["x"], Signals(coverage=0.5, same_language=0.0), params)
    alike = keyword_weight(["a"], ["x"], Signals(coverage=0.5, same_language=1.0), params)
    assert across == 0.5 and alike == 1.5


def test_keyword_weight_grows_when_the_dense_scores_are_flat():
    params = FusionParams(agreement_weight=0.0, coverage_weight=1.0, coverage_power=1.0, depth=2, flat_weight=2.0,
                          flat_gap=0.1)
    peaked = keyword_weight(["a"], ["x"], Signals(coverage=0.5, dense_spread=0.2), params)
    half = keyword_weight(["a"], ["x"], Signals(coverage=0.5, dense_spread=0.05), params)
    flat = keyword_weight(["a"], ["x"], Signals(coverage=0.5, dense_spread=0.0), params)
    assert peaked == 0.5 and half == 1.0 and flat == 1.5
