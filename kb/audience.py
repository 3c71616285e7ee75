"""Who may read a document: everyone, its writer alone, or one or more teams.

A document's audience is a tuple of principals: ``("everyone",)``, ``("user:<name>",)`` for a
private document (its writer, ``added_by``, else its authors), or ``("team:hr", "team:leads")``.
A ``Reader`` is who asks: a name and the teams they belong to, or nobody in particular. Every
answer ``kb`` gives is cut to what its reader may see, below the pages and the API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.errors import AudienceError

EVERYONE = "everyone"
PUBLIC = (EVERYONE,)
_TEAM = re.compile(r"^[a-z0-9][a-z0-9._-]{0,49}$")


@dataclass(frozen=True)
class Reader:
    """Who asks: ``name`` (None: nobody signed in) and the teams they belong to (lower case)."""

    name: str | None = None
    teams: frozenset[str] = frozenset()

    @property
    def principals(self) -> frozenset[str]:
        """Everything this reader is: everyone, themselves, their teams."""
        own = {f"user:{self.name.casefold()}"} if self.name else set()
        return frozenset({EVERYONE, *own, *(f"team:{team}" for team in self.teams)})

    def can_see(self, audience: tuple[str, ...]) -> bool:
        return not self.principals.isdisjoint(audience)

    @property
    def key(self) -> tuple:
        """What tells readers apart for caches: two readers with one key see the same documents."""
        return (self.name.casefold() if self.name else None, tuple(sorted(self.teams)))


ANYONE = Reader()  # no identity: sees what is for everyone


def team_names(raw: str | list | tuple | None) -> frozenset[str]:
    """Team names from a header or a tokens-file line ("hr, leads"), lower case; odd ones dropped."""
    if raw is None:
        return frozenset()
    parts = re.split(r"[,;]", raw) if isinstance(raw, str) else [str(part) for part in raw]
    names = {part.strip().lower().removeprefix("team:") for part in parts}
    return frozenset(name for name in names if _TEAM.match(name))


def parse_visibility(value, where: str, writer: str | None, authors: list[str]) -> tuple[str, ...]:
    """The audience of a ``visibility`` field (``everyone``, ``private``, ``team:<name>``, several
    teams comma-separated or as a list); ContentError naming what is wrong. A private document's
    reader is its writer, else its authors; one with neither cannot be read, so it is refused."""
    if value is None:
        return PUBLIC
    items = re.split(r"[,;]", value) if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise AudienceError(f"{where}: visibility must be everyone, private or team:<name>")
    words = [item.strip().lower() for item in items if item.strip()]
    if not words:
        raise AudienceError(f"{where}: visibility is empty; write everyone, private or team:<name>")
    if words == ["everyone"]:
        return PUBLIC
    if words == ["private"]:
        owners = [writer] if writer else authors
        if not owners:
            raise AudienceError(f"{where}: visibility private needs added_by or an author: nobody could read it")
        return tuple(f"user:{name.casefold()}" for name in owners)
    teams = []
    for word in words:
        name = word.removeprefix("team:")
        if not word.startswith("team:") or not _TEAM.match(name):
            raise AudienceError(f"{where}: visibility {word!r} is not everyone, private or team:<name> "
                               "(team names: letters, digits, '.', '-', '_')")
        teams.append(f"team:{name}")
    return tuple(dict.fromkeys(teams))


def describe(audience: tuple[str, ...]) -> dict:
    """The audience as data for pages: ``{"everyone": True}``, ``{"private": [names]}`` or ``{"teams": [...]}``."""
    if EVERYONE in audience:
        return {"everyone": True}
    users = [item.removeprefix("user:") for item in audience if item.startswith("user:")]
    teams = [item.removeprefix("team:") for item in audience if item.startswith("team:")]
    return {"private": users} if users else {"teams": teams}


class Visibility:
    """Per reader, the documents of one generation they may see (None: all of them), remembered
    for the few hundred readers most recently asked about."""

    REMEMBERED = 512

    def __init__(self, meta: dict) -> None:
        self.meta = meta
        self.restricted = any(tuple(info.audience) != PUBLIC for info in meta.values())
        self._seen: dict[tuple, frozenset[str] | None] = {}

    def documents(self, reader: Reader) -> frozenset[str] | None:
        """The ids ``reader`` may see, or None when that is every document."""
        if not self.restricted:
            return None
        key = reader.key
        if key in self._seen:
            return self._seen[key]
        visible = frozenset(doc for doc, info in self.meta.items() if reader.can_see(tuple(info.audience)))
        answer = None if len(visible) == len(self.meta) else visible
        if len(self._seen) >= self.REMEMBERED:
            self._seen.clear()
        self._seen[key] = answer
        return answer

    def can_see(self, reader: Reader, doc_id: str) -> bool:
        visible = self.documents(reader)
        return visible is None or doc_id in visible
