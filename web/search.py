"""The search page, and the reading of search parameters that the page and the API share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Blueprint, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from kb import KINDS, LANGUAGES, MAX_OFFSET, SORTS, Filters, InvalidInput, Page
from web import knowledge, reader

bp = Blueprint("search", __name__)

FILTERS = ("kind", "tag", "author", "lang")
DATES = ("date_from", "date_to")
FACET_SIZES = {"kind": 10, "tag": 12, "author": 10, "lang": 5}
TOP_TAGS = 12
LOOKING_FOR = 5  # open gaps on the home page


@dataclass
class Query:
    """A validated search request: the words, the filters and the page asked for."""

    text: str
    filters: Filters
    limit: int | None
    offset: int
    sort: str = "relevance"
    as_typed: bool = False  # never replaced by a spelling correction


def read_query(args: MultiDict) -> Query:
    """Search parameters from a query string; InvalidInput saying which one is wrong."""
    values = {name: (args.get(name) or "").strip() or None for name in FILTERS}
    if values["kind"] and values["kind"] not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, not {values['kind']!r}")
    if values["lang"] and values["lang"] not in LANGUAGES:
        raise InvalidInput(f"lang must be one of {', '.join(LANGUAGES)}, not {values['lang']!r}")
    for name in DATES:
        values[name] = _date(args, name)
    return Query(
        text=args.get("q", ""),
        filters=Filters(**values),
        limit=_integer(args, "limit", None),
        offset=_integer(args, "offset", 0),
        sort=(args.get("sort") or "relevance").strip(),  # kb says which sorts there are
        as_typed=(args.get("as_typed") or "") in ("1", "true"),
    )


def _date(args: MultiDict, name: str) -> str | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw).isoformat()
    except ValueError:
        raise InvalidInput(f"{name} must be a date as YYYY-MM-DD, not {raw!r}") from None


def run(query: Query) -> Page:
    """The page of results a request asks for: a search, or with a tag or a person and no words,
    everything that carries it, newest first."""
    kb = knowledge()
    if not query.text.strip():
        return kb.browse(query.filters, query.limit, query.offset, reader())
    return kb.search(query.text, query.filters, query.limit, query.offset, sort=query.sort, as_typed=query.as_typed,
                     reader=reader())


def _integer(args: MultiDict, name: str, default: int | None) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number, not {raw!r}") from None


@bp.get("/", endpoint="home")
@bp.get("/search")
def page():
    query = read_query(request.args)
    kb = knowledge()
    if not query.text.strip() and not query.filters.active():
        return render_template("search.html", page=None, query=query, topics=kb.topics(TOP_TAGS, reader()),
                               looking_for=looking_for())
    results = run(query)
    # a colleague's search, as typed into the page, from its first page (not who searched)
    search_id = kb.record_search(results, reader()) if query.text.strip() and not query.offset else None
    learn_more = kb.learn_more([r.id for r in results.results], reader())
    return render_template(
        "search.html", page=results, query=query, learn_more=learn_more,
        titles=kb.titles(evidence_ids(learn_more), reader()), facets=facets(results, query),
        active=active_filters(query), pages=pagination(results, query),
        topics=results.topics or ([] if results.results else kb.topics(TOP_TAGS, reader())),
        forum_url=forum_link(kb.settings.forum_url, results.query), search_url=search_url,
        hidden_fields=hidden_fields, search_id=search_id,
        sorts=[{"value": value, "url": search_url(query, sort=None if value == "relevance" else value),
                "current": value == query.sort} for value in SORTS],
    )


def looking_for() -> list[dict]:
    """The most asked open gaps of the learning agenda whose question may be shown (the home page's)."""
    kb = knowledge()
    if kb.settings.search_log != "on":
        return []
    gaps = kb.agenda(reader=reader())["gaps"]
    return [gap for gap in gaps if gap["status"] == "open" and gap["label"]][:LOOKING_FOR]


def forum_link(forum_url: str | None, query: str) -> str | None:
    """A new forum topic with the question as its title (Discourse's ``/new-topic``), if there is a forum."""
    return f"{forum_url}/new-topic?{urlencode({'title': query})}" if forum_url else None


def search_url(query: Query, **changes) -> str:
    """This search with some filters changed (``None`` removes one) and from the first page."""
    params = {"q": query.text or None, **{name: getattr(query.filters, name) for name in FILTERS + DATES},
              "sort": None if query.sort == "relevance" else query.sort, "as_typed": 1 if query.as_typed else None}
    params.update(changes)
    if query.limit and "limit" not in changes:
        params["limit"] = query.limit
    return url_for("search.page", **{key: value for key, value in params.items() if value})


def hidden_fields(query: Query) -> dict[str, str]:
    """The fields that keep this search when a form changes only its dates."""
    fields = {"q": query.text, **{name: getattr(query.filters, name) for name in FILTERS},
              "sort": None if query.sort == "relevance" else query.sort, "limit": query.limit,
              "as_typed": 1 if query.as_typed else None}
    return {name: value for name, value in fields.items() if value}


def facets(results: Page, query: Query) -> list[dict]:
    """Each facet with its values, counts, and the link that adds or removes that value."""
    shown = []
    for name, size in FACET_SIZES.items():
        active = getattr(query.filters, name)
        values = []
        for value, count in list(results.facets.get(name, {}).items())[:size]:
            selected = value.lower() == (active or "").lower()
            values.append({"value": value, "count": count, "selected": selected,
                           "url": search_url(query, **{name: None if selected else value})})
        if values:
            shown.append({"name": name, "values": values})
    return shown


def active_filters(query: Query) -> list[dict]:
    return [{"name": name, "value": getattr(query.filters, name), "url": search_url(query, **{name: None})}
            for name in FILTERS + DATES if getattr(query.filters, name)]


def pagination(results: Page, query: Query) -> dict:
    """Previous/next and page-number links over ``offset``, within the API's offset limit."""
    size = query.limit or knowledge().settings.top_k
    last = min(max(results.total - 1, 0), MAX_OFFSET) // size
    current = query.offset // size

    def link(number: int) -> str:
        return search_url(query, offset=number * size or None)

    numbers = range(max(0, current - 3), min(last, current + 3) + 1)
    return {
        "current": current,
        "numbers": [{"number": n + 1, "url": link(n), "current": n == current} for n in numbers],
        "previous": link(current - 1) if current > 0 else None,
        "next": link(current + 1) if current < last and len(results.results) == size else None,
    }


def evidence_ids(answer: dict) -> set[str]:
    """The documents cited as evidence for the people to ask (their titles are shown)."""
    return {doc_id for person in answer.get("people", []) for doc_id in person["documents"]}
