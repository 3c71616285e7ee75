"""Helpers for the API and page tests (their ``config``, ``app`` and ``client`` fixtures are in conftest)."""

from __future__ import annotations

import re
from pathlib import Path

SESSION = "sessions/2025-04-17-onboarding-leerlunch"
ARTICLE = "articles/2025-03-12-feedback-that-lands"
HTML_ARTICLE = "articles/2025-10-07-toegankelijke-formulieren"
THREAD = "forum/terraform-state-lock"
NOTE = {
    "title": "Workshop: schrijven van runbooks",
    "date": "2026-02-10",
    "speakers": "Lars Brouwer, Mark Visser",
    "tags": "incident-response, runbooks",
    "language": "nl",
    "format": "workshop",
    "body": "## Wat we leerden\n\nEen goed runbook begint met de zebrapadcontrole voor de nachtdienst.",
}


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    return error


def config_path(config: dict) -> Path:
    """The content folder of the app's world."""
    return Path(config["content_dir"])


def settings_of(config: dict):
    """The settings of an app's ``create_app`` config (its store included), for a second process."""
    from kb.config import load_settings

    return load_settings(overrides={k: v for k, v in config.items() if k.islower() and k != "embedder"}, environ={})


def note_markdown(config: dict, doc_id: str) -> str:
    """A note's Markdown where the app's store keeps it: its file, or its database row."""
    if config.get("database_url"):
        import psycopg

        with psycopg.connect(config["database_url"]) as conn:
            row = conn.execute("SELECT text FROM notes WHERE path = %s", (doc_id + ".md",)).fetchone()
        assert row is not None, f"no note {doc_id} in the database"
        return row[0]
    return (config_path(config) / (doc_id + ".md")).read_text(encoding="utf-8")


def form_token(client, path: str = "/notes/new") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
