from kb.keyword import Analyzer, highlight, stem


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


def test_highlight_escapes_html_and_marks_matches():
    analyzer = Analyzer()
    groups = analyzer.query_terms("feedback")
    marked = highlight("<b>Feedback</b> & more", groups, analyzer)
    assert marked == "&lt;b&gt;<mark>Feedback</mark>&lt;/b&gt; &amp; more"



def test_a_repeated_query_word_is_one_group_per_occurrence():
    groups = Analyzer().query_terms("Visa renewal. How long does a visa renewal take?")
    assert sum(1 for group in groups if stem("visa", "en") in group) == 2
