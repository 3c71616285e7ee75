"""Session notes: validated, written to the content folder, searchable at once, kept by every run."""

import pytest

from indexer.loaders import LOADERS
from indexer.pipeline import run_index
from kb.notes import NoteInvalid, validate_note

NOTE = {"title": "Leerlunch: chaos engineering in de Bezorgplanner", "date": "2026-11-26",
        "speakers": "Joris Bakker, Lars Brouwer", "tags": ["incident-response", "chaos"], "language": "nl",
        "format": "lunch & learn",
        "body": "## Wat we deden\n\nWe zetten een gecontroleerde storing op de zwaluwstaartroute."}


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(NoteInvalid) as caught:
        validate_note({"title": " ", "date": "morgen", "speakers": [], "language": "de", "format": "party", "body": ""})
    assert set(caught.value.fields) == {"title", "date", "speakers", "language", "format", "body"}


def test_note_is_written_as_a_file_and_searchable_at_once(indexed):
    settings, kb = indexed
    doc = kb.add_note(NOTE, added_by="joris")
    path = settings.content_dir / (doc.id + ".md")
    assert path.exists() and doc.id.startswith("sessions/2026-11-26-leerlunch-chaos-engineering")
    assert kb.search("zwaluwstaartroute").results[0].id == doc.id
    assert "added_by: joris" in path.read_text()
    # the file reads back as the very same document, so the nightly run leaves it alone
    assert LOADERS[".md"](path.read_text(), doc.path).content_hash == doc.content_hash
    report = run_index(settings, kb)
    assert report.applied.embedded == 0 and report.applied.unchanged == 5


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
    report = run_index(settings, kb)  # the next run finds the note's file and keeps it
    assert report.applied.removed == 0 and report.applied.embedded == 0


def test_a_note_that_takes_a_removed_files_id_during_a_run_is_kept(indexed):
    settings, kb = indexed
    old = kb.add_note(NOTE)
    (settings.content_dir / old.path).unlink()  # the file goes; the next run would remove its document
    again = []

    def add_it_again():
        again.append(kb.add_note({**NOTE, "body": NOTE["body"] + " Opnieuw."}))

    run_index(settings, kb, after_embedding=add_it_again)
    assert again[0].id == old.id  # the same title and date: the same file name, the same id
    assert kb.search("zwaluwstaartroute opnieuw").results[0].id == old.id
    report = run_index(settings, kb)  # the next run finds the note's file and keeps it
    assert report.applied.removed == 0 and report.applied.unchanged == 5
