"""Reasons and field errors in words, Dutch and English, from one table.

``kb`` says why something is suggested and what is wrong with a field as data: codes and
parameters. This module is the only place that turns them into sentences, for the pages (in the
interface language) and for the API and the ``kb`` command (in English).
"""

from __future__ import annotations

PHRASES: dict[str, dict[str, str]] = {
    # why a document is suggested
    "same_topic": {"en": "{kind} on the same topic", "nl": "{Kind} over hetzelfde onderwerp"},
    "other_language": {"en": "{language} {kind} on the topic of this {source_language} {source_kind}",
                       "nl": "{language} {kind} over het onderwerp van {this} {source_language} {source_kind}"},
    "shared_tags": {"en": "shared tags: {tags}", "nl": "gedeelde tags: {tags}"},
    "shared_people": {"en": "also with {names}", "nl": "ook met {names}"},
    "passage": {"en": "matching passage: “{passage}”", "nl": "passage die aansluit: “{passage}”"},
    "near_results": {"en": "{kind} close to your top results", "nl": "{Kind} dicht bij je beste resultaten"},
    # why a colleague is suggested (one, several)
    "session": {"en": "gave {n} session|gave {n} sessions", "nl": "gaf {n} sessie|gaf {n} sessies"},
    "article": {"en": "wrote {n} article|wrote {n} articles", "nl": "schreef {n} artikel|schreef {n} artikelen"},
    "accepted": {"en": "gave {n} accepted forum answer|gave {n} accepted forum answers",
                 "nl": "gaf {n} geaccepteerd antwoord op het forum|gaf {n} geaccepteerde antwoorden op het forum"},
    "post": {"en": "took part in {n} forum thread|took part in {n} forum threads",
             "nl": "deed mee in {n} forumdraad|deed mee in {n} forumdraden"},
    "on_topic": {"en": "{parts} on this topic", "nl": "{Parts} over dit onderwerp"},
    # what is wrong with a note's field
    "missing_title": {"en": "give the note a title", "nl": "geef de notitie een titel"},
    "too_long": {"en": "at most {max} characters", "nl": "hoogstens {max} tekens"},
    "not_a_date": {"en": "a date as YYYY-MM-DD", "nl": "een datum als JJJJ-MM-DD"},
    "missing_speakers": {"en": "name at least one speaker", "nl": "noem minstens één spreker"},
    "too_many_names": {"en": "at most {count} names of at most {length} characters",
                       "nl": "hoogstens {count} namen van hoogstens {length} tekens"},
    "too_many_tags": {"en": "at most {count} tags of at most {length} characters",
                      "nl": "hoogstens {count} tags van hoogstens {length} tekens"},
    "not_a_language": {"en": "{choices}", "nl": "{choices}"},
    "not_a_format": {"en": "one of {choices}", "nl": "een van {choices}"},
    "not_a_visibility": {"en": "everyone, private, or team:<name> (several separated by commas)",
                         "nl": "everyone, private, of team:<naam> (meerdere gescheiden door komma's)"},
    "not_your_team": {"en": "you are not in team {teams}: choose one of your teams",
                      "nl": "je zit niet in team {teams}: kies een van je teams"},
    "missing_body": {"en": "write the note itself", "nl": "schrijf de notitie zelf"},
    "not_text": {"en": "contains characters that are not text", "nl": "bevat tekens die geen tekst zijn"},
    "invalid_note": {"en": "the note is not valid: {problems}", "nl": "de notitie is niet geldig: {problems}"},
    "not_an_object": {"en": "expected an object with title, date, speakers, tags, language, format, body",
                      "nl": "verwacht een object met title, date, speakers, tags, language, format, body"},
}
NOUNS = {
    "en": {"article": "article", "session": "session", "forum": "forum thread"},
    "nl": {"article": "artikel", "session": "sessie", "forum": "forumdraad"},
}
LANGUAGE_ADJECTIVES = {"en": {"nl": "Dutch", "en": "English"}, "nl": {"nl": "Nederlandstalig", "en": "Engelstalig"}}
OR = {"en": " or ", "nl": " of "}
NEUTER = {"article"}  # Dutch "het" words: an adjective before them takes no -e ("Engelstalig artikel")


def phrase(code: str, lang: str, **values) -> str:
    """The phrase ``code`` in ``lang`` (English when missing). A capitalised placeholder
    (``{Kind}``) takes its value with a capital letter."""
    template = PHRASES[code].get(lang) or PHRASES[code]["en"]
    values.update({key.capitalize(): _capital(str(value)) for key, value in values.items()})
    return template.format(**values)


def counted(code: str, lang: str, n: int) -> str:
    """A phrase with a singular and a plural form (``one|several``), for ``n``."""
    template = (PHRASES[code].get(lang) or PHRASES[code]["en"]).split("|")[n != 1]
    return template.format(n=n)


def reason(why: dict, lang: str) -> str:
    """Why a related document is suggested (``why`` from ``kb``)."""
    nouns = NOUNS.get(lang, NOUNS["en"])
    if why.get("near_results"):
        return phrase("near_results", lang, kind=nouns[why["kind"]])
    if why["lang"] != why["source_lang"]:
        parts = [phrase("other_language", lang, language=_adjective(why["lang"], why["kind"], lang, definite=False),
                        kind=nouns[why["kind"]], this=_this(why["source_kind"], lang),
                        source_language=_adjective(why["source_lang"], why["source_kind"], lang, definite=True),
                        source_kind=nouns[why["source_kind"]])]
    else:
        parts = [phrase("same_topic", lang, kind=nouns[why["kind"]])]
    if why.get("shared_tags"):
        parts.append(phrase("shared_tags", lang, tags=", ".join(why["shared_tags"])))
    if why.get("shared_people"):
        parts.append(phrase("shared_people", lang, names=", ".join(why["shared_people"])))
    if why.get("passage"):
        parts.append(phrase("passage", lang, passage=why["passage"]))
    return "; ".join(parts)


def person_reason(evidence: dict[str, int], lang: str) -> str:
    """Why a colleague is suggested: the evidence they left, by role (``{"session": 2, ...}``)."""
    parts = [counted(role, lang, count) for role, count in evidence.items() if count]
    return phrase("on_topic", lang, parts=", ".join(parts))


def field_message(error, lang: str) -> str:
    """What is wrong with a field (a ``kb.FieldError``)."""
    params = dict(error.params)
    if "choices" in params:
        choices = list(params["choices"])
        params["choices"] = ", ".join(choices) if len(choices) > 2 else OR.get(lang, " or ").join(choices)
    return phrase(error.code, lang, **params)


def field_messages(fields: dict, lang: str) -> dict[str, str]:
    return {name: field_message(error, lang) for name, error in fields.items()}


def invalid_note(fields: dict, lang: str) -> str:
    """One line for a note with bad fields: each field and what is wrong with it."""
    problems = "; ".join(f"{name}: {message}" for name, message in field_messages(fields, lang).items())
    return phrase("invalid_note", lang, problems=problems)


def _adjective(language: str, kind: str, lang: str, definite: bool) -> str:
    """A language as an adjective before a noun; Dutch adds -e except before an indefinite
    neuter noun."""
    word = LANGUAGE_ADJECTIVES.get(lang, LANGUAGE_ADJECTIVES["en"]).get(language, language)
    if lang == "nl" and (definite or kind not in NEUTER):
        word += "e"
    return word


def _this(kind: str, lang: str) -> str:
    if lang == "nl":
        return "dit" if kind in NEUTER else "deze"
    return "this"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
