"""Reasons and field errors: data from kb, worded by the web layer in Dutch and English."""

from kb import FieldError
from kb.notes import MAX_TITLE, validate_note
from web.wording import field_message, invalid_note, person_reason, reason

OTHER_LANGUAGE = {"kind": "session", "lang": "nl", "source_kind": "article", "source_lang": "en",
                  "shared_tags": ["feedback", "sbi"], "shared_people": ["Sanne"], "passage": "Geef feedback"}


def test_a_suggestion_in_the_other_language_says_so_in_both_languages():
    assert reason(OTHER_LANGUAGE, "en") == (
        "Dutch session on the topic of this English article; shared tags: feedback, sbi; also with Sanne; "
        "matching passage: “Geef feedback”")
    assert reason(OTHER_LANGUAGE, "nl") == (
        "Nederlandstalige sessie over het onderwerp van dit Engelstalige artikel; gedeelde tags: feedback, sbi; "
        "ook met Sanne; passage die aansluit: “Geef feedback”")


def test_dutch_adjectives_follow_the_noun():
    why = {**OTHER_LANGUAGE, "kind": "article", "lang": "en", "source_kind": "session", "source_lang": "nl",
           "shared_tags": [], "shared_people": [], "passage": ""}
    assert reason(why, "nl") == "Engelstalig artikel over het onderwerp van deze Nederlandstalige sessie"


def test_same_language_and_near_results_reasons():
    same = {**OTHER_LANGUAGE, "lang": "en", "shared_tags": [], "shared_people": [], "passage": ""}
    assert reason(same, "en") == "session on the same topic"
    assert reason(same, "nl") == "Sessie over hetzelfde onderwerp"
    near = {"kind": "forum", "near_results": True}
    assert reason(near, "en") == "forum thread close to your top results"
    assert reason(near, "nl") == "Forumdraad dicht bij je beste resultaten"


def test_people_reasons_count_their_evidence():
    evidence = {"session": 2, "accepted": 1}
    assert person_reason(evidence, "en") == "gave 2 sessions, gave 1 accepted forum answer on this topic"
    assert person_reason(evidence, "nl") == (
        "Gaf 2 sessies, gaf 1 geaccepteerd antwoord op het forum over dit onderwerp")


def test_field_errors_are_codes_worded_with_their_parameters():
    try:
        validate_note({"title": "x" * (MAX_TITLE + 1), "date": "2026-01-01", "speakers": "Eva", "language": "de",
                       "format": "workshop", "body": "tekst"})
    except Exception as invalid:  # noqa: BLE001 - the fields are what is checked
        fields = invalid.fields
    assert fields == {"title": FieldError("too_long", {"max": MAX_TITLE}),
                      "language": FieldError("not_a_language", {"choices": ("nl", "en")})}
    assert field_message(fields["title"], "en") == f"at most {MAX_TITLE} characters"
    assert field_message(fields["title"], "nl") == f"hoogstens {MAX_TITLE} tekens"
    assert field_message(fields["language"], "nl") == "nl of en"
    assert invalid_note(fields,
                        "en") == f"the note is not valid: title: at most {MAX_TITLE} characters; language: nl or en"


def test_every_field_error_code_is_worded_in_both_languages():
    for code in ("missing_title", "too_long", "not_a_date", "missing_speakers", "too_many_names", "too_many_tags",
                 "not_a_language", "not_a_format", "missing_body", "not_text", "not_an_object"):
        params = {"max": 5, "count": 20, "length": 100, "choices": ("a", "b", "c")}
        for lang in ("en", "nl"):
            assert field_message(FieldError(code, params), lang)
    assert field_message(FieldError("too_many_names", {"count": 20, "length": 100}), "en") == (
        "at most 20 names of at most 100 characters")
