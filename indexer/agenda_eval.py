"""``kb agenda --eval``: the learning agenda on a judged, simulated week of searches.

A collection's ``agenda.json`` lists topics, each with the questions colleagues ask about it (and
how often) and whether the collection covers it: the tags a document answering it carries. Every
question is searched once in the collection's evaluation store; a simulated colleague opens the
first result of the top ten that carries one of the topic's tags, or nothing. The searches are
spread over the window and grouped into gaps as the agenda groups them. A good agenda puts the
uncovered topics on top, one gap each, keeps each gap to one topic and leaves covered topics off.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter
from pathlib import Path

from kb import Gap, KnowledgeBase, PastSearch, agenda_questions, normalise_query

K = 10
PURE = 0.9  # the share of a gap's searches from its main topic that counts as pure


def simulated_week(kb: KnowledgeBase, case: dict, now: dt.datetime) -> tuple[list[PastSearch], dict[str, str]]:
    """(the searches, oldest first; the topic of each normalised question)."""
    asked = [(topic, query) for topic in case["topics"] for query, count in topic["queries"].items()
             for _ in range(count)]
    random.Random(case.get("seed", 0)).shuffle(asked)
    outcome: dict[str, tuple[int, float | None, str | None]] = {}
    topic_of: dict[str, str] = {}
    for topic, query in asked:
        if query in outcome:
            continue
        page = kb.search(query, limit=K)
        tags = set(topic["tags"])
        opened = next((r.id for r in page.results if tags & set(r.tags)), None)
        outcome[query] = (page.total, page.results[0].score if page.results else None, opened)
        topic_of[normalise_query(query)] = topic["id"]
    span = dt.timedelta(days=case.get("days", 7))
    searches = []
    for number, (_, query) in enumerate(asked):
        at = (now - span + span * (number + 0.5) / len(asked)).replace(microsecond=0).isoformat()
        results, best, opened = outcome[query]
        searches.append(PastSearch(at, normalise_query(query), results, best, opened))
    return searches, topic_of


def figures(gaps: list[Gap], topic_of: dict[str, str], case: dict, min_count: int) -> dict:
    """How the gaps match the topics: the top gaps, each gap's purity, covered topics that show."""
    uncovered = [topic["id"] for topic in case["topics"] if not topic["covered"]]
    covered = {topic["id"] for topic in case["topics"] if topic["covered"]}
    rows = []
    for gap in gaps:
        by_topic = Counter()
        for query, count in gap.queries.items():
            by_topic[topic_of[query]] += count
        main, count = by_topic.most_common(1)[0]
        rows.append({"topic": main, "searches": gap.searches, "purity": count / gap.searches,
                     "shown": bool(gap.shown(min_count))})
    top = [row["topic"] for row in rows[:len(uncovered)]]
    misses_of = Counter()
    for gap in gaps:
        for query, count in gap.queries.items():
            misses_of[topic_of[query]] += count
    completeness = {}
    for topic in uncovered:
        main = max((row["searches"] * row["purity"] for row in rows if row["topic"] == topic), default=0)
        completeness[topic] = round(main / misses_of[topic], 4) if misses_of[topic] else 0.0
    shown_covered = [row for row in rows if row["topic"] in covered and row["shown"]]
    return {
        "searches": sum(sum(topic["queries"].values()) for topic in case["topics"]),
        "topics": len(case["topics"]), "uncovered": uncovered,
        "misses": sum(gap.searches for gap in gaps), "gaps": len(gaps),
        "top": top, "top_are_uncovered": sorted(top) == sorted(uncovered),
        "min_purity": round(min((row["purity"] for row in rows), default=1.0), 4),
        "pure_gaps": round(sum(row["purity"] >= PURE for row in rows) / max(1, len(rows)), 4),
        "weighted_purity": round(sum(row["purity"] * row["searches"] for row in rows)
                                 / max(1, sum(row["searches"] for row in rows)), 4),
        "covered_gaps_shown": len(shown_covered),
        "covered_gaps": sum(row["topic"] in covered for row in rows),
        "largest_covered_gap": max((row["searches"] for row in rows if row["topic"] in covered), default=0),
        "uncovered_in_one_gap": completeness,
    }


def evaluate_agenda(kb: KnowledgeBase, path: Path, join: float | None = None) -> dict:
    """The agenda's figures on the simulated week in ``path`` (``join`` replaces the model's)."""
    case = json.loads(Path(path).read_text(encoding="utf-8"))
    now = dt.datetime.now(dt.UTC)
    searches, topic_of = simulated_week(kb, case, now)
    gaps = kb.gaps(agenda_questions(searches, now), join)
    report = figures(gaps, topic_of, case, kb.settings.agenda_min_count)
    report["join"] = kb.profile.agenda_join if join is None else join
    return report


def format_agenda(report: dict) -> str:
    """The figures as lines for a terminal."""
    verdict = "the uncovered topics" if report["top_are_uncovered"] else "NOT the uncovered topics"
    shares = ", ".join(f"{topic} {share:.0%}" for topic, share in report["uncovered_in_one_gap"].items())
    return "\n".join([
        f"agenda: {report['searches']} simulated searches over {report['topics']} topics "
        f"({len(report['uncovered'])} not covered), join {report['join']}",
        f"  misses {report['misses']}, gaps {report['gaps']}; top {len(report['uncovered'])} gaps: "
        f"{', '.join(report['top'])} ({verdict})",
        f"  purity: lowest {report['min_purity']:.0%}, gaps ≥ {PURE:.0%} pure {report['pure_gaps']:.0%}, "
        f"weighted {report['weighted_purity']:.0%}",
        f"  covered topics: {report['covered_gaps']} gaps, {report['covered_gaps_shown']} shown with their question, "
        f"largest {report['largest_covered_gap']} searches",
        f"  each uncovered topic's misses in its main gap: {shares}",
    ])
