import pytest

from kb.keyword import Analyzer, bm25, highlight, match_expression, stem


def test_dutch_compound_splits_into_known_parts():
    analyzer = Analyzer({stem("onboarding", "nl"), stem("traject", "nl")})
    assert analyzer.split_compound("onboardingstraject") == ("onboarding", "traject")
    assert analyzer.split_compound("onboarding") is None  # too short to be a compound of two known parts


def test_query_terms_cover_both_languages_and_compound_parts():
    analyzer = Analyzer({stem("onboarding", "en"), stem("traject", "nl")})
    groups = analyzer.query_terms("het onboardingstraject")
    assert len(groups) == 1  # "het" is a stop word
    assert {stem("onboarding", "en"), "traject"} <= groups[0]


def test_index_terms_add_compound_parts():
    analyzer = Analyzer({stem("feedback", "nl"), stem("gesprek", "nl")})
    terms = analyzer.index_terms("Een feedbackgesprek plannen", "nl").split()
    assert stem("feedback", "nl") in terms and stem("gesprek", "nl") in terms


def test_match_expression_quotes_terms_so_fts_syntax_cannot_leak():
    analyzer = Analyzer()
    for query in ['"unbalanced', "NEAR(a b", "-x", "title:foo", "a*", "AND OR NOT"]:
        expression = match_expression(analyzer.query_terms(query))
        assert expression is None or all(part.startswith('"') for part in expression.split(" OR "))


def test_highlight_escapes_html_and_marks_matches():
    analyzer = Analyzer()
    groups = analyzer.query_terms("feedback")
    marked = highlight("<b>Feedback</b> & more", groups, analyzer)
    assert marked == "&lt;b&gt;<mark>Feedback</mark>&lt;/b&gt; &amp; more"


def test_a_repeated_query_word_weighs_more_as_query_term_frequency():
    analyzer = Analyzer()
    groups = analyzer.query_terms("Visa renewal. How long does a visa renewal take?")
    assert sum(1 for group in groups if stem("visa", "en") in group) == 2
    chunks, average = 100, 6.0
    frequency = {stem("visa", "en"): 5, stem("renewal", "en"): 5, stem("take", "en"): 5}
    about_visa = bm25(groups, [], [stem("visa", "en"), "x", "y"], frequency, chunks, average)
    about_taking = bm25(groups, [], [stem("take", "en"), "x", "y"], frequency, chunks, average)
    assert about_visa == pytest.approx(2 * about_taking)  # same statistics, the word asked twice counts twice
