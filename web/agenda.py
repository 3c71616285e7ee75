"""The learning agenda page, planning a session on a gap, and the Atom feeds."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request, url_for

from kb import InvalidInput
from web import knowledge, reader
from web.auth import note_writer
from web.feeds import atom
from web.i18n import ui_language
from web.present import agenda_json, document_url
from web.search import read_query

bp = Blueprint("agenda", __name__)

WINDOWS = (7, 30, 90)  # the page's choice of windows, in days
FEED_SIZE = 50


def window(args) -> int:
    """The ``days`` parameter: a whole number of days from 1 to 3650 (default 30)."""
    raw = (args.get("days") or "30").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= 3650:
        raise InvalidInput(f"days must be a whole number of days between 1 and 3650, not {raw!r}")
    return int(raw)


def note_form_url(prefill: dict) -> str:
    """The note form, started from a gap."""
    fields = {"title": prefill["title"], "tags": ", ".join(prefill["tags"]),
              "speakers": ", ".join(prefill["speakers"])}
    return url_for("notes.form") + "?" + urlencode({name: value for name, value in fields.items() if value})


@bp.get("/agenda")
def page():
    kb = knowledge()
    days = window(request.args)
    # as of now (the home page keeps its copy a while)
    answer = agenda_json(kb.agenda(days, reader(), fresh=True), ui_language())
    shown = [gap for gap in answer["gaps"] if gap["label"]]
    rare = sum(gap["searches"] for gap in answer["gaps"] if not gap["label"])
    return render_template("agenda.html", agenda=answer, gaps=shown, rare=rare, days=days, windows=WINDOWS,
                           log_on=kb.settings.search_log == "on", min_count=kb.settings.agenda_min_count)


@bp.post("/agenda/<gap_id>/plan")
def plan(gap_id: str):
    """"Plan a session": the gap is marked planned and the note form opens, pre-filled."""
    kb = knowledge()
    note_writer(kb.settings, reader())  # whoever may add the session's note may plan it
    planned = kb.plan_session(gap_id, window(request.form), reader())
    return redirect(note_form_url(planned["prefill"]), code=303)


@bp.get("/feed.atom")
def feed():
    """New and updated articles, session notes and forum threads, newest first; filtered by kind,
    tag, person and language like a search."""
    query = read_query(request.args)
    page = knowledge().browse(query.filters, FEED_SIZE, 0, reader())
    entries = [{"id": document_url(r.id), "title": r.title, "url": document_url(r.id), "updated": r.date,
                "author": r.author, "summary": r.snippet, "categories": [r.kind, *r.tags], "lang": r.lang}
               for r in page.results]
    return Response(atom("Kennisbank", request.full_path.rstrip("?"), url_for("search.home"), entries),
                    mimetype="application/atom+xml")


@bp.get("/agenda.atom")
def agenda_feed():
    """The gaps of the agenda that can be shown (their question asked often enough), newest first."""
    days = window(request.args)
    answer = agenda_json(knowledge().agenda(days, reader()))
    entries = []
    for gap in answer["gaps"]:
        if not gap["label"]:
            continue
        lines = [f"{gap['searches']} searches, {gap['queries']} distinct questions, status: {gap['status']}."]
        lines += [f"Asked as: {example}" for example in gap["examples"]]
        lines += [f"Closest: {item['title']}" for item in gap["nearest"]]
        lines += [f"Could host: {host['name']} ({host['reason']})" for host in gap["hosts"][:3]]
        entries.append({"id": f"/agenda#{gap['id']}", "title": gap["label"], "url": f"/agenda#{gap['id']}",
                        "updated": gap["first_asked"], "summary": "\n".join(lines), "categories": [gap["status"]]})
    entries.sort(key=lambda entry: entry["updated"], reverse=True)
    return Response(atom("Kennisbank: learning agenda", request.full_path.rstrip("?"), url_for("agenda.page"),
                         entries, html=False), mimetype="application/atom+xml")
