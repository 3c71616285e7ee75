"""The session-note form: fill in, preview (without JavaScript), save; and the save the API shares."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, redirect, render_template, request, url_for

from kb import FORMATS, Document, NoteInvalid, render_markdown
from web import knowledge, reader
from web.auth import note_writer
from web.i18n import text, ui_language

bp = Blueprint("notes", __name__)

FIELDS = ("title", "date", "speakers", "tags", "language", "format", "body", "visibility")


def audiences() -> list[tuple[str, str]]:
    """Who a note may be for, as (value, label): everyone, and for a signed-in writer also
    themselves and each of their teams."""
    lang = ui_language()
    choices = [("everyone", text("audience_everyone", lang))]
    who = reader()
    if who.name:
        choices.append(("private", text("audience_private", lang, name=who.name)))
        choices += [(f"team:{team}", text("audience_team", lang, team=team)) for team in sorted(who.teams)]
    return choices


def save_note(data) -> Document:
    """Check who writes, validate the fields, store the note and index it: searchable on return."""
    kb = knowledge()
    who = reader()
    return kb.add_note(data, added_by=note_writer(kb.settings, who), teams=who.teams)


@bp.route("/notes/new", methods=["GET", "POST"])
def form():
    note_writer(knowledge().settings, reader())  # say "not allowed" before anyone types a whole note
    if request.method == "GET":
        values = {"date": dt.date.today().isoformat(), "language": ui_language(), "format": FORMATS[0],
                  # a proposal from a search that found nothing, or a session planned on a gap of the
                  # agenda, arrives with its question as the title (and the gap's tags and hosts)
                  **{name: request.args[name][:200] for name in ("title", "tags", "speakers")
                     if request.args.get(name)}}
        return render_template("note_form.html", values=values, errors={}, preview=None, formats=FORMATS,
                               audiences=audiences())
    values = {name: request.form.get(name, "") for name in FIELDS}
    if request.form.get("action") == "preview":
        return render_template("note_form.html", values=values, errors={}, formats=FORMATS,
                               preview=render_markdown(values["body"]), audiences=audiences())
    try:
        doc = save_note(values)
    except NoteInvalid as invalid:
        return render_template("note_form.html", values=values, errors=invalid.fields, preview=None,
                               formats=FORMATS, audiences=audiences()), 400
    return redirect(url_for("documents.page", doc_id=doc.id), code=303)
