"""Session notes: validated, stored (a file in the content folder, or a row of the shared database),
searchable at once, kept by every run; the database's notes become files with ``kb export-notes``."""

import pytest

from indexer.loaders import LOADERS
from indexer.pipeline import export_notes, run_index
from kb.notes import NoteInvalid, validate_note
from tests.conftest import BOTH_BACKENDS

BACKENDS = BOTH_BACKENDS

NOTE = {"title": "Leerlunch: chaos engineering in de Bezorgplanner", "date": "2026-11-26",
        "speakers": "Joris Bakker, Lars Brouwer", "tags": ["incident-response", "chaos"], "language": "nl",
        "format": "lunch & learn",
        "body": "## Wat we deden\n\nWe zetten een gecontroleerde storing op de zwaluwstaartroute."}


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(NoteInvalid) as caught:
        validate_note({"title": " ", "date": "morgen", "speakers": [], "language": "de", "format": "party", "body": ""})
    assert set(caught.value.fields) == {"title", "date", "speakers", "language", "format", "body"}


def stored_markdown(settings, kb, doc) -> str:
    """A note's Markdown where its backend keeps it."""
    if settings.database_url:
        return dict(kb.stored_notes())[doc.path]
    return (settings.content_dir / doc.path).read_text()


def test_note_is_stored_and_searchable_at_once(indexed):
    settings, kb = indexed
    doc = kb.add_note(NOTE, added_by="joris")
    assert doc.id.startswith("sessions/2026-11-26-leerlunch-chaos-engineering")
    # a file with the embedded store; a database row (and no file yet) with the shared one
    assert (settings.content_dir / doc.path).exists() != bool(settings.database_url)
    assert kb.search("zwaluwstaartroute").results[0].id == doc.id
    text = stored_markdown(settings, kb, doc)
    assert "added_by: joris" in text
    # the Markdown reads back as the very same document, so the nightly run leaves it alone
    assert LOADERS[".md"](text, doc.path).content_hash == doc.content_hash
    report = run_index(settings, kb)
    assert report.applied.embedded == 0 and report.applied.unchanged == 5 and report.applied.removed == 0


def test_exported_notes_are_files_from_then_on(indexed):
    settings, kb = indexed
    doc = kb.add_note(NOTE, added_by="joris")
    export = export_notes(kb, settings.content_dir)
    path = settings.content_dir / doc.path
    assert path.exists()
    if settings.database_url:
        assert export.written == [doc.path] and kb.stored_notes() == []
        assert export_notes(kb, settings.content_dir).written == []  # once
    else:
        assert export.written == []  # the embedded store wrote the file already
    report = run_index(settings, kb)
    assert report.applied.unchanged == 5 and report.applied.removed == 0
    path.write_text(path.read_text().replace("zwaluwstaartroute", "zwaluwstaartbrug"))
    run_index(settings, kb)
    assert kb.search("zwaluwstaartbrug").results[0].id == doc.id
    path.unlink()
    assert run_index(settings, kb).applied.removed == 1
    assert doc.id not in {result.id for result in kb.search("zwaluwstaartbrug").results}


def test_a_file_of_the_same_name_hides_a_stored_note_and_says_so(indexed):
    settings, kb = indexed
    if not settings.database_url:
        pytest.skip("the embedded store keeps notes as files")
    doc = kb.add_note(NOTE)
    path = settings.content_dir / doc.path
    path.write_text(stored_markdown(settings, kb, doc).replace("zwaluwstaartroute", "eigen versie"))
    report = run_index(settings, kb)
    assert [item.path for item in report.skipped] == [doc.path]
    assert kb.search("eigen versie").results[0].id == doc.id
    export = export_notes(kb, settings.content_dir)
    assert export.clashes == [doc.path] and "eigen versie" in path.read_text()


def test_same_title_twice_gives_two_files(indexed):
    _, kb = indexed
    first = kb.add_note(NOTE)
    second = kb.add_note(NOTE)
    assert first.id != second.id and second.id.endswith("-2")


def test_note_from_markdown_with_front_matter(indexed):
    _, kb = indexed
    text = "---\ntitle: Brown bag over toegankelijkheid\ndate: 2026-01-05\nspeakers: [Noor Hendriks]\n" \
           "language: nl\nformat: brown bag\n---\n\nWe testten de checkout met een schermlezer."
    doc = kb.add_note_markdown(text)
    assert kb.search("schermlezer checkout").results[0].id == doc.id


def test_notes_added_during_a_full_run_survive_it(indexed):
    settings, kb = indexed
    added = []

    def add_during_run():
        added.append(kb.add_note({**NOTE, "title": f"Tussendoor {len(added)}"}))

    run_index(settings, kb, full=True, after_embedding=add_during_run)
    assert len(added) == 1
    assert kb.search("Tussendoor zwaluwstaartroute").results[0].id == added[0].id
    report = run_index(settings, kb)  # the next run finds the note (its file, or its row) and keeps it
    assert report.applied.removed == 0 and report.applied.embedded == 0


def test_a_note_that_takes_a_removed_files_id_during_a_run_is_kept(indexed):
    settings, kb = indexed
    old = kb.add_note(NOTE)
    export_notes(kb, settings.content_dir)
    (settings.content_dir / old.path).unlink()  # the file goes; the next run would remove its document
    again = []

    def add_it_again():
        again.append(kb.add_note({**NOTE, "body": NOTE["body"] + " Opnieuw."}))

    run_index(settings, kb, after_embedding=add_it_again)
    if not settings.database_url:
        assert again[0].id == old.id  # the same title and date: the same file name, the same id
    # (the database keeps every note's name, so there the new note is "-2")
    assert kb.search("zwaluwstaartroute opnieuw").results[0].id == again[0].id
    report = run_index(settings, kb)  # the next run finds the note and keeps it
    assert report.applied.removed == 0 and report.applied.unchanged == 5


def test_invisible_characters_leave_titles_tags_and_names_and_are_inert_in_bodies(indexed):
    from kb import render_markdown

    _, kb = indexed
    spoof = {**NOTE, "title": "Factuur \u202egpj.exe\u202c betalen\u200b",
             "speakers": "Joris\u200d Bakker, \u2066Lars\u2069", "tags": ["ops\u00ad", "fin\u202eance"],
             "body": "Let op: \u202etxet\u202c en \u200fRTL-teken."}
    doc = kb.add_note(spoof)
    assert doc.title == "Factuur gpj.exe betalen"
    assert doc.authors == ["Joris Bakker", "Lars"] and doc.tags == ["ops", "finance"]
    assert "\u202e" in doc.body  # the body keeps what was written ...
    html = render_markdown(doc.body)
    assert "\u202e" not in html and "[U+202E]" in html and "\u200f" in html  # ... shown, not obeyed
    snippet = kb.search("txet teken").results[0].snippet
    assert "\u202e" not in snippet and "[U+202E]" in snippet  # in result snippets too
