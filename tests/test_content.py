"""The demo knowledge base and the judged queries: counts, formats and judged ids."""

import collections
import json

from indexer.evaluate import load_qrels, load_queries
from indexer.pipeline import scan
from tests.conftest import ROOT

CONTENT = ROOT / "content"
EVAL = ROOT / "tests" / "eval"


def documents():
    docs, skipped = scan(CONTENT, 2_000_000)
    assert skipped == []
    return {doc.id: doc for doc in docs}


def test_every_content_file_parses_in_its_declared_format():
    docs = documents()
    files = [p for p in CONTENT.rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert len(docs) == len(files)


def test_content_counts_hold():
    docs = documents().values()
    kinds = collections.Counter(doc.kind for doc in docs)
    assert kinds["article"] >= 40 and kinds["session"] >= 30 and kinds["forum"] >= 20
    assert sum(1 for p in (CONTENT / "articles").glob("*.html")) >= 10
    discourse = [p for p in (CONTENT / "forum").glob("*.json") if "post_stream" in json.loads(p.read_text())]
    assert len(discourse) >= 5
    languages = collections.Counter(doc.lang for doc in docs)
    assert min(languages["nl"], languages["en"]) >= 0.4 * len(docs)
    for doc in docs:
        if doc.kind == "forum":
            assert len(doc.posts) >= 3 and len({p.author for p in doc.posts}) >= 3
        else:
            words = len(doc.body.split())
            assert 300 <= words <= 2500, (doc.id, words)
    people = collections.Counter(name for doc in docs for name in doc.people())
    assert len(people) >= 20


def test_judged_queries_counts_and_ids_exist():
    docs = documents()
    texts, groups = load_queries(EVAL)
    qrels = load_qrels(EVAL / "qrels.tsv")
    assert len(texts) >= 100
    count = collections.Counter(groups.values())
    assert count["nl"] >= 35 and count["en"] >= 35 and count["cross"] >= 25
    assert count["exact"] >= 10 and count["typed"] >= 10 and count["no_answer"] >= 40
    for qid in texts:
        if groups.get(qid) == "no_answer":  # nothing in the content answers these: no judgments
            assert not qrels.get(qid), qid
        else:
            assert any(grade == 2 for grade in qrels.get(qid, {}).values()), qid
    judged = {doc_id for judgments in qrels.values() for doc_id in judgments}
    assert judged <= set(docs)


def test_related_cases_count_and_ids_exist():
    docs = documents()
    cases = [json.loads(line) for line in (EVAL / "related.jsonl").read_text().splitlines() if line.strip()]
    assert len(cases) >= 30
    people = {name for doc in docs.values() for name in doc.people()}
    for case in cases:
        assert case["id"] in docs and set(case["related"]) <= set(docs) and case["related"]
        assert set(case["experts"]) <= people
