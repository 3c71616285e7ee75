"""Related learning on hand-made documents: exclusions, mixing, threshold, reasons, people."""

import numpy as np
import pytest

from kb import Document, Post
from kb.embeddings import normalise
from kb.people import rank_people
from kb.profiles import PROFILES
from tests.conftest import BOTH_BACKENDS

BACKENDS = BOTH_BACKENDS


class TopicEmbedder:
    """Places each text on a topic axis by its keywords, so closeness is known exactly."""

    name = "hashing"
    dim = 8
    topics = ["feedback", "terraform", "privacy", "toegankelijkheid"]

    def embed_passages(self, texts):
        rows = []
        for text in texts:
            row = np.zeros(self.dim, dtype=np.float32)
            for word in text.lower().replace("\n", " ").split():
                if word in self.topics:
                    row[self.topics.index(word)] += 2.0
                else:  # other words move the text a little, so only copies coincide
                    row[4 + sum(map(ord, word)) % 4] += 1.0
            rows.append(row)
        return normalise(np.array(rows))

    embed_queries = embed_passages


def doc(doc_id, kind, title, text, **fields):
    """A document dated 2025-06-01, in English unless ``fields`` say otherwise."""
    return Document(id=doc_id, kind=kind, title=title, body=text, path=doc_id + ".md",
                    **{"lang": "en", "date": "2025-06-01", **fields})


FEEDBACK = [
    doc("articles/feedback", "article", "Feedback basics", "feedback feedback situation", authors=["Sanne"],
        tags=["feedback", "sbi"]),
    doc("articles/feedback-copy", "article", "Feedback basics (copy)", "feedback feedback situation", authors=["Sanne"],
        tags=["feedback", "sbi"]),
    doc("sessions/feedback-leerlunch", "session", "Leerlunch feedback", "feedback geven feedback", lang="nl",
        authors=["Sanne", "Eva"], tags=["feedback"]),
    doc("forum/feedback-senior", "forum", "Feedback aan een senior", "", lang="nl", tags=["feedback"], posts=[
        Post("Anouk", "2025-02-01", "Hoe geef ik feedback aan een senior?"),
        Post("Sanne", "2025-02-02", "Feedback met SBI: situatie, gedrag, impact.", accepted=True)]),
    doc("articles/feedback-more", "article", "More on feedback", "feedback upward feedback", authors=["Eva"],
        tags=["feedback"]),
]
UNRELATED = [
    doc("articles/terraform", "article", "Terraform state", "terraform terraform lock", authors=["Lars"],
        tags=["terraform"]),
    doc("articles/privacy", "article", "Privacy by design", "privacy privacy dpia", authors=["Fatima"],
        tags=["privacy"]),
]


@pytest.fixture
def related_world(world):
    settings, kb = world
    kb._embedder = TopicEmbedder()
    kb.add_documents(FEEDBACK + UNRELATED)
    return kb


def panel(kb, doc_id):
    return kb.related(doc_id)


def test_document_itself_and_its_near_duplicate_are_excluded(related_world):
    shown = [item["id"] for item in panel(related_world, "articles/feedback")["related"]]
    assert "articles/feedback" not in shown and "articles/feedback-copy" not in shown


def test_kinds_are_mixed_when_good_matches_of_other_kinds_exist(related_world):
    kinds = [item["kind"] for item in panel(related_world, "articles/feedback")["related"]]
    assert {"session", "forum", "article"} <= set(kinds)


def test_threshold_hides_weak_suggestions(related_world):
    shown = [item["id"] for item in panel(related_world, "articles/feedback")["related"]]
    assert "articles/terraform" not in shown and "articles/privacy" not in shown
    assert all(item["score"] >= PROFILES["hashing"].related_threshold for item in panel(related_world,
                                                                                        "articles/feedback")["related"])
    lonely = panel(related_world, "articles/privacy")["related"]
    assert lonely == []  # nothing related well enough: nothing shown, not padding


def test_every_suggestion_says_why_as_data(related_world):
    related = panel(related_world, "articles/feedback")["related"]
    assert related and all(item["why"]["kind"] == item["kind"] for item in related)
    session = next(item for item in related if item["kind"] == "session")
    assert (session["why"]["lang"], session["why"]["source_lang"]) == ("nl", "en")
    assert session["why"]["shared_tags"] == ["feedback"] and session["why"]["shared_people"] == ["Sanne"]
    assert session["why"]["passage"].startswith("feedback geven")


def test_people_are_ranked_by_evidence(related_world):
    people = panel(related_world, "articles/feedback")["people"]
    names = [person["name"] for person in people]
    assert names[0] == "Sanne"  # wrote, spoke and gave the accepted answer
    assert "Lars" not in names and "Fatima" not in names
    sanne = people[0]
    assert sanne["evidence"]["accepted"] == 1 and "articles/feedback" in sanne["documents"]


def test_recent_and_stronger_evidence_counts_more(related_world):
    ranked = rank_people(related_world.document, [("sessions/feedback-leerlunch", 1.0), ("forum/feedback-senior", 1.0)])
    scores = {person["name"]: person["score"] for person in ranked}
    assert scores["Sanne"] > scores["Eva"] > scores["Anouk"]  # speaker + accepted answer > speaker > asker


def test_search_learn_more_suggests_sessions_and_threads(related_world):
    answer = related_world.learn_more(["articles/feedback", "articles/feedback-more"])
    assert answer["related"] and {item["kind"] for item in answer["related"]} <= {"session", "forum"}
    assert answer["people"][0]["name"] == "Sanne"
