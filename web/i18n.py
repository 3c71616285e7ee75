"""Interface text in Dutch and English, chosen per request.

The ``lang`` cookie wins (set by ``/lang/nl`` and ``/lang/en``); otherwise the browser's
Accept-Language decides: Dutch when it prefers Dutch, English otherwise. Content is shown in
the language it was written in; only the interface around it is translated. Reasons and field
errors are worded in ``web.wording``.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import Flask, Response, redirect, request

from web import wording

LANGUAGES = ("nl", "en")
COOKIE = "lang"

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "skip": "Skip to content",
        "tagline": "internal knowledge base",
        "search_label": "Search",
        "search_placeholder": "Search articles, session notes and forum threads",
        "search_button": "Search",
        "add_note": "Add a session note",
        "api": "API",
        "home_title": "What do you want to learn?",
        "home_intro": "Search articles, session notes and forum threads, in Dutch and in English. "
                      "Ask in your own words: results in the other language are found too.",
        "popular_topics": "Popular topics",
        "results_for": "{count} results for “{query}”",
        "result_for": "1 result for “{query}”",
        "tagged": "Everything tagged “{tag}”",
        "by_person": "Everything by {name}",
        "took": "in {ms} ms",
        "active_filters": "Filters",
        "remove_filter": "Remove filter: {value}",
        "clear_filters": "Clear all filters",
        "facets": "Narrow down",
        "facet_kind": "Kind",
        "facet_tag": "Topic",
        "facet_author": "Author or speaker",
        "facet_lang": "Language",
        "everything": "{count} documents",
        "everything_one": "1 document",
        "nothing_listed": "No documents carry all of these filters.",
        "no_match": "No close match for “{query}”",
        "no_match_intro": "Nothing in Kennisbank answers this closely enough, so no results are shown rather than "
                          "unrelated ones. Perhaps nobody has written it down yet.",
        "nearest_topics": "The nearest topics we do have:",
        "ask_forum": "Ask colleagues on the forum",
        "propose_session": "Propose a knowledge session on it",
        "did_you_mean": "Did you mean",
        "showing_for": "Showing results for “{query}”.",
        "search_as_typed": "Search for “{query}” as typed",
        "sort_label": "Sort",
        "sort_relevance": "Best match",
        "sort_newest": "Newest",
        "date_from": "From",
        "date_to": "To",
        "facet_date_from": "From",
        "facet_date_to": "To",
        "apply_dates": "Apply dates",
        "no_results": "No results for “{query}”.",
        "no_results_filters": "Filters are on: remove them to search everything.",
        "no_results_words": "Try fewer words, or describe the topic in other words.",
        "browse_topics": "Or browse a topic:",
        "pagination": "Result pages",
        "previous": "Previous",
        "next": "Next",
        "page_n": "Page {n}",
        "learn_more": "Learn more",
        "learn_more_intro": "Sessions and forum threads close to your top results, and colleagues who know the topic.",
        "people_to_ask": "People to ask",
        "evidence": "See",
        "related_learning": "Related learning",
        "nothing_related": "Nothing closely related yet.",
        "kind": "Kind",
        "date": "Date",
        "author": "Author",
        "speakers": "Speakers",
        "started_by": "Started by",
        "participants": "Participants",
        "tags": "Tags",
        "language": "Language",
        "source": "Source",
        "format": "Format",
        "category": "Category",
        "accepted_answer": "Accepted answer",
        "posts": "Posts",
        "in_section": "in “{heading}”",
        "note_title": "Add a session note",
        "note_intro": "After a lunch & learn, workshop or other session: write down what was shared. "
                      "The note is searchable as soon as it is saved.",
        "field_title": "Title",
        "field_date": "Date",
        "field_speakers": "Speakers",
        "field_tags": "Tags",
        "field_language": "Language",
        "field_format": "Format",
        "field_body": "Note",
        "field_visibility": "Who may read it",
        "audience_everyone": "Everyone at the company",
        "audience_private": "Only me ({name})",
        "audience_team": "Team {team}",
        "hint_visibility": "Private notes and team notes are found only by you or by the team.",
        "hint_visibility_none": "Without signing in, notes are for everyone (private and team notes need "
                                "KB_AUTH=header or token).",
        "visibility": "Readers",
        "visible_private": "only {names}",
        "visible_teams": "team {teams}",
        "added_by": "Added by",
        "hint_list": "separate with commas",
        "hint_body": "Markdown: # heading, **bold**, - list, [link](https://…)",
        "preview": "Preview",
        "save": "Save note",
        "fix_fields": "Please correct the marked fields.",
        "preview_empty": "Nothing to preview yet.",
        "agenda_nav": "Learning agenda",
        "agenda_title": "Learning agenda",
        "agenda_intro": "What colleagues searched for and did not find, grouped by meaning: the best list of "
                        "sessions to organise next. Who searched is never recorded.",
        "agenda_window": "Period",
        "last_days": "last {days} days",
        "agenda_feed": "Follow new gaps (Atom)",
        "agenda_counted": "{searches} searches in the last {days} days; {gaps} gaps.",
        "agenda_empty": "No gaps yet",
        "agenda_fills": "The agenda fills as colleagues search: every search that finds nothing, or whose results "
                        "nobody opens, is counted here, grouped with the questions that mean the same.",
        "agenda_log_off": "The search log is off (KB_SEARCH_LOG=off), so there is nothing to show.",
        "agenda_rare": "And {count} searches whose questions were asked fewer than {min} times each: counted, "
                       "not shown.",
        "status_open": "Open",
        "status_planned": "Session planned",
        "status_answered": "Answered",
        "rising": "Rising",
        "gap_counts": "{searches} searches · {queries} different questions",
        "last_asked": "last asked {date}",
        "asked_as": "Asked as",
        "answered_by": "Answered by",
        "planned_on": "A session was planned on {date}.",
        "closest_content": "Closest content so far",
        "could_host": "Could host a session",
        "plan_session": "Plan a session",
        "write_notes": "Open the note form again",
        "looking_for": "Colleagues are looking for…",
        "asked_times": "{count}× searched",
        "looking_for_hint": "Nothing answers these yet. Know the topic?",
        "agenda_open": "Plan a session on the learning agenda",
        "api_machine": "The same contract for programs:",
        "api_endpoints": "Endpoints",
        "api_parameters": "Parameters (* required)",
        "api_body": "Request body",
        "api_responses": "Responses",
        "api_schemas": "Schemas (* always present)",
        "feed_title": "Kennisbank: new and updated",
        "feed_link": "Feed (Atom)",
        "error_home": "Back to the start page",
        "error_400": "That did not work",
        "error_403": "Not allowed",
        "error_404": "Not found",
        "error_405": "Not possible here",
        "error_413": "Too large",
        "error_415": "Unsupported format",
        "error_500": "Something went wrong",
        "error_503": "Temporarily unavailable",
    },
    "nl": {
        "skip": "Naar de inhoud",
        "tagline": "interne kennisbank",
        "search_label": "Zoeken",
        "search_placeholder": "Zoek in artikelen, sessienotities en forumdraden",
        "search_button": "Zoeken",
        "add_note": "Sessienotitie toevoegen",
        "api": "API",
        "home_title": "Wat wil je leren?",
        "home_intro": "Zoek in artikelen, sessienotities en forumdraden, in het Nederlands en in het "
                      "Engels. Vraag het in je eigen woorden: resultaten in de andere taal vind je ook.",
        "popular_topics": "Populaire onderwerpen",
        "results_for": "{count} resultaten voor “{query}”",
        "result_for": "1 resultaat voor “{query}”",
        "tagged": "Alles met onderwerp “{tag}”",
        "by_person": "Alles van {name}",
        "took": "in {ms} ms",
        "active_filters": "Filters",
        "remove_filter": "Filter verwijderen: {value}",
        "clear_filters": "Alle filters wissen",
        "facets": "Verfijnen",
        "facet_kind": "Soort",
        "facet_tag": "Onderwerp",
        "facet_author": "Auteur of spreker",
        "facet_lang": "Taal",
        "everything": "{count} documenten",
        "everything_one": "1 document",
        "nothing_listed": "Geen documenten passen bij al deze filters.",
        "no_match": "Niets dat goed past bij “{query}”",
        "no_match_intro": "Niets in Kennisbank beantwoordt dit goed genoeg, dus tonen we geen resultaten in plaats "
                          "van ongerelateerde. Misschien heeft nog niemand het opgeschreven.",
        "nearest_topics": "De onderwerpen die er het dichtst bij liggen:",
        "ask_forum": "Vraag het collega's op het forum",
        "propose_session": "Stel er een kennissessie over voor",
        "did_you_mean": "Bedoelde je",
        "showing_for": "Resultaten voor “{query}”.",
        "search_as_typed": "Zoek toch op “{query}”",
        "sort_label": "Sorteren",
        "sort_relevance": "Beste match",
        "sort_newest": "Nieuwste",
        "date_from": "Vanaf",
        "date_to": "Tot en met",
        "facet_date_from": "Vanaf",
        "facet_date_to": "Tot en met",
        "apply_dates": "Datums toepassen",
        "no_results": "Geen resultaten voor “{query}”.",
        "no_results_filters": "Er staan filters aan: verwijder ze om overal te zoeken.",
        "no_results_words": "Gebruik minder woorden, of beschrijf het onderwerp anders.",
        "browse_topics": "Of kijk bij een onderwerp:",
        "pagination": "Resultaatpagina's",
        "previous": "Vorige",
        "next": "Volgende",
        "page_n": "Pagina {n}",
        "learn_more": "Verder leren",
        "learn_more_intro": "Sessies en forumdraden dicht bij je beste resultaten, en collega's die het "
                            "onderwerp kennen.",
        "people_to_ask": "Wie kun je het vragen",
        "evidence": "Zie",
        "related_learning": "Verder leren",
        "nothing_related": "Nog niets dat er echt op lijkt.",
        "kind": "Soort",
        "date": "Datum",
        "author": "Auteur",
        "speakers": "Sprekers",
        "started_by": "Gestart door",
        "participants": "Deelnemers",
        "tags": "Onderwerpen",
        "language": "Taal",
        "source": "Bron",
        "format": "Vorm",
        "category": "Categorie",
        "accepted_answer": "Geaccepteerd antwoord",
        "posts": "Berichten",
        "in_section": "in “{heading}”",
        "note_title": "Sessienotitie toevoegen",
        "note_intro": "Na een lunch & learn, workshop of andere sessie: schrijf op wat er gedeeld is. "
                      "De notitie is vindbaar zodra je hem opslaat.",
        "field_title": "Titel",
        "field_date": "Datum",
        "field_speakers": "Sprekers",
        "field_tags": "Onderwerpen (tags)",
        "field_language": "Taal",
        "field_format": "Vorm",
        "field_body": "Notitie",
        "field_visibility": "Wie mag dit lezen",
        "audience_everyone": "Iedereen in het bedrijf",
        "audience_private": "Alleen ik ({name})",
        "audience_team": "Team {team}",
        "hint_visibility": "Privénotities en teamnotities vinden alleen jij of het team.",
        "hint_visibility_none": "Zonder in te loggen zijn notities voor iedereen (privé- en teamnotities "
                                "vragen KB_AUTH=header of token).",
        "visibility": "Lezers",
        "visible_private": "alleen {names}",
        "visible_teams": "team {teams}",
        "added_by": "Toegevoegd door",
        "hint_list": "scheiden met komma's",
        "hint_body": "Markdown: # kop, **vet**, - lijst, [link](https://…)",
        "preview": "Voorbeeld",
        "save": "Notitie opslaan",
        "fix_fields": "Verbeter de gemarkeerde velden.",
        "preview_empty": "Nog niets om te tonen.",
        "agenda_nav": "Leeragenda",
        "agenda_title": "Leeragenda",
        "agenda_intro": "Wat collega's zochten en niet vonden, gegroepeerd naar betekenis: de beste lijst van "
                        "sessies om als volgende te organiseren. Wie zocht, wordt nooit vastgelegd.",
        "agenda_window": "Periode",
        "last_days": "laatste {days} dagen",
        "agenda_feed": "Volg nieuwe hiaten (Atom)",
        "agenda_counted": "{searches} zoekopdrachten in de laatste {days} dagen; {gaps} hiaten.",
        "agenda_empty": "Nog geen hiaten",
        "agenda_fills": "De agenda vult zich terwijl collega's zoeken: elke zoekopdracht die niets vindt, of waarvan "
                        "niemand een resultaat opent, telt hier mee, samen met de vragen die hetzelfde betekenen.",
        "agenda_log_off": "Het zoeklogboek staat uit (KB_SEARCH_LOG=off), dus er is niets te tonen.",
        "agenda_rare": "En {count} zoekopdrachten met vragen die elk minder dan {min} keer gesteld zijn: geteld, "
                       "niet getoond.",
        "status_open": "Open",
        "status_planned": "Sessie gepland",
        "status_answered": "Beantwoord",
        "rising": "In opkomst",
        "gap_counts": "{searches} zoekopdrachten · {queries} verschillende vragen",
        "last_asked": "laatst gevraagd {date}",
        "asked_as": "Gevraagd als",
        "answered_by": "Beantwoord door",
        "planned_on": "Op {date} is een sessie gepland.",
        "closest_content": "Wat er het dichtst bij komt",
        "could_host": "Zou een sessie kunnen geven",
        "plan_session": "Plan een sessie",
        "write_notes": "Open het notitieformulier opnieuw",
        "looking_for": "Collega's zoeken naar…",
        "asked_times": "{count}× gezocht",
        "looking_for_hint": "Hier is nog geen antwoord op. Ken je het onderwerp?",
        "agenda_open": "Plan een sessie op de leeragenda",
        "api_machine": "Hetzelfde contract voor programma's:",
        "api_endpoints": "Endpoints",
        "api_parameters": "Parameters (* verplicht)",
        "api_body": "Inhoud van het verzoek",
        "api_responses": "Antwoorden",
        "api_schemas": "Schema's (* altijd aanwezig)",
        "feed_title": "Kennisbank: nieuw en bijgewerkt",
        "feed_link": "Feed (Atom)",
        "error_home": "Terug naar de startpagina",
        "error_400": "Dat lukte niet",
        "error_403": "Niet toegestaan",
        "error_404": "Niet gevonden",
        "error_405": "Hier niet mogelijk",
        "error_413": "Te groot",
        "error_415": "Niet-ondersteund formaat",
        "error_500": "Er ging iets mis",
        "error_503": "Tijdelijk niet beschikbaar",
    },
}

KINDS = {
    "en": {"article": "Article", "session": "Session note", "forum": "Forum thread"},
    "nl": {"article": "Artikel", "session": "Sessienotitie", "forum": "Forumdraad"},
}
LANGUAGE_NAMES = {
    "en": {"nl": "Dutch", "en": "English"},
    "nl": {"nl": "Nederlands", "en": "Engels"},
}
SELF_NAMES = {"nl": "Nederlands", "en": "English"}
FORMATS = {
    "nl": {"mentoring session": "mentorsessie", "demo day": "demodag", "other": "anders"},
    "en": {},
}
MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
           "oktober", "november", "december"),
}

def register(app: Flask) -> None:
    app.context_processor(template_helpers)
    app.add_url_rule("/lang/<code>", "set_language", set_language)
    app.after_request(vary_on_language)


def ui_language() -> str:
    """The interface language of this request: the cookie, else the browser's preference."""
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return "nl" if request.accept_languages.best_match(LANGUAGES) == "nl" else "en"


def text(key: str, lang: str, **values) -> str:
    template = STRINGS[lang].get(key) or STRINGS["en"][key]
    return template.format(**values) if values else template


def format_date(iso: str | None, lang: str) -> str:
    """``2025-03-12`` as ``12 maart 2025`` / ``12 March 2025``; unparsable dates as given."""
    try:
        day = dt.date.fromisoformat(iso or "")
    except ValueError:
        return iso or ""
    return f"{day.day} {MONTHS[lang][day.month - 1]} {day.year}"


def template_helpers() -> dict:
    lang = ui_language()
    return {
        "lang": lang,
        "other_lang": "en" if lang == "nl" else "nl",
        "self_names": SELF_NAMES,
        "t": lambda key, **values: text(key, lang, **values),
        "kind_label": lambda kind: KINDS[lang].get(kind, kind),
        "lang_label": lambda code: LANGUAGE_NAMES[lang].get(code, code),
        "format_label": lambda value: FORMATS[lang].get(value, value),
        "msg": lambda error: wording.field_message(error, lang),
        "format_date": lambda iso: format_date(iso, lang),
        "related_reason": lambda item: wording.reason(item["why"], lang),
        "person_reason": lambda person: wording.person_reason(person["evidence"], lang),
    }


def set_language(code: str) -> Response:
    """Remember the chosen interface language and go back to the page it was chosen on."""
    response = redirect(local_path(request.args.get("next")), code=303)
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def local_path(target: str | None) -> str:
    """``target`` when it is a path on this site, else ``/`` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return "/"
    return target


def vary_on_language(response: Response) -> Response:
    if not request.path.startswith(("/api/", "/static/")):
        response.vary.add("Cookie")
        response.vary.add("Accept-Language")
    return response
