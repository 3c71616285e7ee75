"""People to ask: colleagues ranked by the evidence they left on a topic.

Sessions given, articles written, accepted forum answers and other forum posts count, stronger
evidence more than weaker, and recent evidence more than old (a half-life of two years). Each
person comes with what the evidence is, as counts per role; the web layer puts it into words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from kb.documents import Document

EVIDENCE = {"session": 3.0, "article": 2.0, "accepted": 2.5, "post": 1.0}
HALF_LIFE_YEARS = 2.0
SHOWN = 5


def rank_people(document: Callable[[str], Document | None], evidence: list[tuple[str, float]],
                today: dt.date | None = None) -> list[dict]:
    """Colleagues ranked by weighted evidence on the topic, each with the documents behind it.

    ``evidence`` holds (document id, relevance to the topic); ``document`` looks an id up.
    Each person: ``{"name", "score", "evidence": {role: count}, "documents": [ids]}``.
    """
    today = today or dt.date.today()
    scores: dict[str, float] = {}
    proof: dict[str, dict[str, list[str]]] = {}
    for doc_id, relevance in evidence:
        doc = document(doc_id)
        if doc is None:
            continue
        weight = max(relevance, 0.0) * 0.5 ** (_age_years(doc.date, today) / HALF_LIFE_YEARS)
        for name, role in roles(doc):
            scores[name] = scores.get(name, 0.0) + EVIDENCE[role] * weight
            proof.setdefault(name, {}).setdefault(role, [])
            if doc_id not in proof[name][role]:
                proof[name][role].append(doc_id)
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:SHOWN]
    return [{"name": name, "score": round(score, 3),
             "evidence": {role: len(docs) for role, docs in proof[name].items()},
             "documents": sorted({d for docs in proof[name].values() for d in docs})} for name, score in ranked]


def roles(doc: Document) -> list[tuple[str, str]]:
    """(name, role) of everyone who contributed to ``doc``; in a thread, an accepted answer wins."""
    if doc.kind == "session":
        return [(name, "session") for name in doc.authors]
    if doc.kind == "article":
        return [(name, "article") for name in doc.authors]
    found: dict[str, str] = {}
    for post in doc.posts:
        role = "accepted" if post.accepted else "post"
        if found.get(post.author) != "accepted":
            found[post.author] = role
    return list(found.items())


def _age_years(date: str | None, today: dt.date) -> float:
    try:
        return max(0.0, (today - dt.date.fromisoformat(date or "")).days / 365.25)
    except ValueError:
        return HALF_LIFE_YEARS
