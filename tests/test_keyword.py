from kb.keyword import Analyzer, highlight, match_expression, stem


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
