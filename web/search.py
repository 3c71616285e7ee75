"""The search page, and the reading of search parameters that the page and the API share."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from kb import KINDS, LANGUAGES, MAX_OFFSET, Filters, InvalidInput, Page
from web import knowledge

bp = Blueprint("search", __name__)

FILTERS = ("kind", "tag", "author", "lang")
FACET_SIZES = {"kind": 10, "tag": 12, "author": 10, "lang": 5}
TOP_TAGS = 12


@dataclass
class Query:
    """A validated search request: the words, the filters and the page asked for."""

    text: str
    filters: Filters
    limit: int | None
    offset: int


def read_query(args: MultiDict) -> Query:
    """Search parameters from a query string; InvalidInput saying which one is wrong."""
    values = {name: (args.get(name) or "").strip() or None for name in FILTERS}
    if values["kind"] and values["kind"] not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, not {values['kind']!r}")
    if values["lang"] and values["lang"] not in LANGUAGES:
        raise InvalidInput(f"lang must be one of {', '.join(LANGUAGES)}, not {values['lang']!r}")
    return Query(
        text=args.get("q", ""),
        filters=Filters(**values),
        limit=_integer(args, "limit", None),
        offset=_integer(args, "offset", 0),
    )


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
    # A tag or person link without words lists what carries that tag or name, best first.
    words = query.text.strip() or query.filters.tag or query.filters.author
    if not words:
        return render_template("search.html", page=None, query=query, topics=kb.topics(TOP_TAGS))
    results = kb.search(words, query.filters, query.limit, query.offset)
    learn_more = kb.learn_more([r.id for r in results.results])
    return render_template(
        "search.html", page=results, query=query, learn_more=learn_more,
        titles=kb.titles(evidence_ids(learn_more)), facets=facets(results, query),
        active=active_filters(query), pages=pagination(results, query),
        topics=[] if results.results else kb.topics(TOP_TAGS),
    )


def search_url(query: Query, **changes) -> str:
    """This search with some filters changed (``None`` removes one) and from the first page."""
    params = {"q": query.text or None, **{name: getattr(query.filters, name) for name in FILTERS}}
    params.update(changes)
    if query.limit and "limit" not in changes:
        params["limit"] = query.limit
    return url_for("search.page", **{key: value for key, value in params.items() if value})


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
            for name in FILTERS if getattr(query.filters, name)]


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
