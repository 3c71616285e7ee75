"""Who reads and who adds a note, by the ``auth`` setting: nobody in particular, an SSO header, or a token.

- ``none``: the local demo; readers have no identity, so they see what is for everyone, and
  notes are saved without a name.
- ``header``: a single-sign-on proxy puts the user's name in ``auth_header`` and their teams in
  ``groups_header`` (comma-separated); both are honoured only on requests that come from one of
  ``trusted_proxies``, and never from a request's own fields.
- ``token``: API clients send ``Authorization: Bearer <token>``; ``api_tokens`` is a file with
  one ``token name`` pair per line, optionally followed by ``teams: hr, leads``.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import request

from kb import ANYONE, ConfigError, Forbidden, Reader, Settings, team_names


def check_settings(settings: Settings) -> None:
    """Refuse to start with token auth but no token file, rather than fail on every write."""
    if settings.auth == "token" and (settings.api_tokens is None or not settings.api_tokens.is_file()):
        raise ConfigError("KB_AUTH=token needs KB_API_TOKENS: a file with one 'token name' pair per line")


def reader(settings: Settings) -> Reader:
    """Who makes this request, for what they may read: ``ANYONE`` without a trusted identity."""
    if settings.auth == "header":
        name = " ".join(request.headers.get(settings.auth_header, "").split())
        if request.remote_addr not in settings.trusted_proxies or not name:
            return ANYONE
        teams = request.headers.get(settings.groups_header, "") if settings.groups_header else ""
        return Reader(name, team_names(teams))
    if settings.auth == "token":
        scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
        owner = _token_owner(settings, sent.strip()) if scheme.lower() == "bearer" else None
        return Reader(owner[0], owner[1]) if owner else ANYONE
    return ANYONE


def note_writer(settings: Settings, who: Reader) -> str | None:
    """The name to record with a new note by ``who`` (this request's reader); Forbidden when
    this request may not write."""
    if settings.auth == "header" and not who.name:
        raise Forbidden("adding notes needs a signed-in user; open Kennisbank through the company login")
    if settings.auth == "token" and not who.name:
        raise Forbidden("adding notes needs an API token: send 'Authorization: Bearer <token>'")
    return who.name


def _token_owner(settings: Settings, sent: str) -> tuple[str, frozenset[str]] | None:
    """(name, teams) on the line of ``sent``; every line is compared, in time that does not depend
    on where or how far a guess matches (digests of equal length, no early exit)."""
    if not sent:
        return None
    check_settings(settings)
    sent_digest = _digest(sent)
    owner = None
    for line in settings.api_tokens.read_text(encoding="utf-8").splitlines():
        token, _, rest = line.strip().partition(" ")
        name, _, teams = rest.partition(" teams:")
        if token and not token.startswith("#") and hmac.compare_digest(_digest(token), sent_digest):
            owner = (" ".join(name.split()), team_names(teams)) if name.strip() else None
    return owner


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()
