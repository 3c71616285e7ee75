"""``kb eval``: index a judged collection into its own store and measure every ranking on it.

A dataset folder holds ``queries.jsonl`` (``_id``, ``text``, optional ``group``) and
``qrels.tsv``, plus either a BEIR ``corpus.jsonl`` or a ``dataset.json`` that points at a
content folder (``{"content_dir": "../../content"}``), whose document ids are judged. An
optional ``related.jsonl`` holds judged related-learning cases. The evaluation store lives in
``<data dir>/eval/<dataset>-<model>`` and is rebuilt on every run, with vectors from its
embedding cache, so only the first run of a model embeds.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from indexer.agenda_eval import evaluate_agenda, format_agenda
from kb import (
    MAX_LIMIT,
    MODES,
    NO_FLOOR,
    Document,
    Floor,
    FusionParams,
    KnowledgeBase,
    Settings,
    detect_language,
    floor_figures,
    precision,
    recall,
    summarise,
)

K = 10
AGENDA_CASE = "agenda.json"  # a simulated week of searches for the learning agenda (indexer.agenda_eval)
NO_ANSWER = "no_answer"  # the query group that the collection cannot answer: the right answer is none


def load_queries(folder: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(text by query id, group by query id)."""
    texts: dict[str, str] = {}
    groups: dict[str, str] = {}
    with open(folder / "queries.jsonl", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                query = json.loads(line)
                texts[str(query["_id"])] = query["text"]
                if query.get("group"):
                    groups[str(query["_id"])] = query["group"]
    return texts, groups


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if not row or row[0] == "query-id":
                continue
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return qrels


def corpus_documents(folder: Path, settings: Settings) -> list[Document]:
    """The collection's documents: a BEIR corpus, or the content folder that ``dataset.json`` names."""
    pointer = folder / "dataset.json"
    if pointer.exists():
        from indexer.pipeline import scan

        content_dir = (folder / json.loads(pointer.read_text())["content_dir"]).resolve()
        documents, skipped = scan(content_dir, settings.max_file_bytes)
        if skipped:
            raise SystemExit(f"{len(skipped)} content files do not load; run `kb index` to see which")
        return documents
    documents = []
    with open(folder / "corpus.jsonl", encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            text = row.get("text") or ""
            title = row.get("title") or ""  # none: the text is embedded and weighed once, not twice
            documents.append(Document(id=str(row["_id"]), kind="article", title=title, body=text,
                                      lang=detect_language(title + " " + text), path=str(row["_id"])))
    return documents


def eval_settings(folder: Path, settings: Settings, database_url: str | None = None) -> Settings:
    """``settings`` with this collection's own evaluation store for the model: a data folder of its
    own, or the dedicated ``database_url``. Never the live store: the evaluation replaces its
    documents with the collection's."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(folder).resolve().name)
    data_dir = settings.data_dir / "eval" / f"{name}-{settings.model.replace('/', '_')}"
    return settings.replace(data_dir=data_dir, database_url=database_url)


def evaluation_base(folder: Path, settings: Settings, fusion: FusionParams | None = None,
                    embedder=None, database_url: str | None = None) -> KnowledgeBase:
    """The collection's evaluation store, rebuilt from its documents (vectors from the cache). On a
    ``database_url`` (a database for evaluation only), the embedded evaluation store's embedding
    cache is copied in first when there is one."""
    own = eval_settings(folder, settings, database_url)
    kb = KnowledgeBase(own, embedder=embedder, fusion=fusion)
    embedded = eval_settings(folder, settings)
    if database_url and embedded.data_dir.is_dir():
        source = KnowledgeBase(embedded)
        try:
            kb.import_embeddings(source)
        finally:
            source.shutdown()
    documents = corpus_documents(folder, settings)
    with kb.index_run() as run:
        run.apply(documents, full=True)
    return kb


def evaluate(folder: Path, settings: Settings, modes: tuple[str, ...] = MODES, run_out: Path | None = None,
             kb: KnowledgeBase | None = None, database_url: str | None = None) -> dict:
    """Score each ranking overall and per query group, on ``kb`` when given (an evaluation store
    already built, see ``evaluation_base``), else on the collection indexed afresh."""
    folder = Path(folder)
    kb = kb or evaluation_base(folder, settings, database_url=database_url)
    texts, groups = load_queries(folder)
    qrels = load_qrels(folder / "qrels.tsv")
    profile = kb.profile
    report: dict = {"dataset": str(folder), "queries": len([q for q in texts if qrels.get(q)]), "model": settings.model,
                    "profile": {"name": profile.name, "calibrated": profile.calibrated},
                    "store": "postgresql" if database_url else "embedded", "modes": {}, "groups": {}}
    floor = kb.profile.floor or NO_FLOOR  # a model not yet calibrated is measured without one
    report["profile"]["floor"] = list(vars(kb.profile.floor).values()) if kb.profile.floor else None
    rankings_by_mode: dict[str, dict[str, list[str]]] = {}
    for mode in modes:
        rankings = {qid: [r.id for r in kb.search(text, limit=K, mode=mode, floor=floor).results]
                    for qid, text in texts.items()}
        rankings_by_mode[mode] = rankings
        report["modes"][mode] = summarise(rankings, qrels, K)
        for group in sorted(set(groups.values()) - {NO_ANSWER}):
            members = {qid: ranked for qid, ranked in rankings.items() if groups.get(qid) == group}
            figures = report["groups"].setdefault(group, {"queries": len([q for q in members if qrels.get(q)])})
            figures[mode] = summarise(members, qrels, K)
    if "hybrid" in modes:
        report["floor"] = _floor_report(kb, texts, groups, qrels, floor)
    if run_out and "hybrid" in rankings_by_mode:
        _write_run(run_out, kb, texts, floor)
    report["below_best"] = below_best(report)
    related_cases = folder / "related.jsonl"
    if related_cases.exists():
        report["related"] = evaluate_related(kb, related_cases)
    if (folder / AGENDA_CASE).exists():
        report["agenda"] = evaluate_agenda(kb, folder / AGENDA_CASE)
    return report


def _floor_report(kb: KnowledgeBase, texts: dict[str, str], groups: dict[str, str], qrels: dict,
                  floor: Floor) -> dict:
    """The relevance floor's figures: the share of ``no_answer`` queries that get the empty state
    (spelling corrections included, as search gives them), and the share of the judged-relevant
    documents of each answerable query's top 10 without a floor that remain among its results."""
    judged = [qid for qid in texts if qrels.get(qid)]
    floored = {qid: [r.id for r in kb.search(texts[qid], limit=MAX_LIMIT, floor=floor).results] for qid in judged}
    unfloored = {qid: [r.id for r in kb.search(texts[qid], limit=K, floor=NO_FLOOR).results] for qid in judged}
    no_answer = [qid for qid, group in groups.items() if group == NO_ANSWER]
    for qid in no_answer:
        floored[qid] = [r.id for r in kb.search(texts[qid], limit=K, floor=floor).results]
    return floor_figures(floored, unfloored, qrels, no_answer, K)


def evaluate_related(kb: KnowledgeBase, path: Path) -> dict:
    """Precision@3 and recall@5 of the related-learning panel, and how well people to ask are ranked."""
    cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    p3 = r5 = people_p = people_first = 0.0
    shown = 0
    for case in cases:
        answer = kb.related(case["id"])
        ranked = [item["id"] for item in answer["related"]]
        judged = dict.fromkeys(case["related"], 1)
        p3 += precision(ranked, judged, 3)
        r5 += recall(ranked, judged, 5)
        shown += len(ranked)
        experts = case.get("experts", [])
        names = [person["name"] for person in answer["people"]]
        people_p += precision(names, dict.fromkeys(experts, 1), 3)
        people_first += bool(names) and names[0] in experts
    n = max(1, len(cases))
    return {"cases": len(cases), "precision@3": round(p3 / n, 4), "recall@5": round(r5 / n, 4),
            "avg_shown": round(shown / n, 2), "people_precision@3": round(people_p / n, 4),
            "people_top1_is_expert": round(people_first / n, 4)}


def _write_run(path: Path, kb: KnowledgeBase, texts: dict[str, str], floor: Floor) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for qid, text in texts.items():
            for rank, result in enumerate(kb.search(text, limit=100, mode="hybrid", floor=floor).results, start=1):
                handle.write(f"{qid} Q0 {result.id} {rank} {result.score:.6f} kennisbank\n")


TOLERANCE = 0.005  # how far hybrid may fall below the better single ranking before it is flagged


def below_best(report: dict) -> list[dict]:
    """The query groups (and ``all``) where hybrid nDCG@10 falls below the better of keyword-only
    and dense-only by more than ``TOLERANCE``."""
    if not {"keyword", "dense", "hybrid"} <= set(report["modes"]):
        return []
    flagged = []
    for group, by_mode in [("all", report["modes"]), *report["groups"].items()]:
        best_mode = max(("keyword", "dense"), key=lambda mode: by_mode[mode]["ndcg@10"])
        gap = by_mode[best_mode]["ndcg@10"] - by_mode["hybrid"]["ndcg@10"]
        if gap > TOLERANCE:
            flagged.append({"group": group, "best": best_mode, "gap": round(gap, 4)})
    return flagged


def format_table(report: dict) -> str:
    """The report as a readable table: nDCG@10 of each mode per group, hybrid's recall and MRR,
    and a line for each group where hybrid falls below the better single ranking."""
    profile = report["profile"]
    used = "its own profile" if profile["calibrated"] else "no profile of its own: the documented defaults"
    modes = list(report["modes"])
    store = ", in PostgreSQL" if report.get("store") == "postgresql" else ""
    lines = [f"{report['dataset']}: {report['queries']} judged queries, model {report['model']} ({used}){store}",
             f"{'nDCG@10':<18}" + "".join(f"{mode:>9}" for mode in modes)
             + (f"{'R@10':>9}{'MRR@10':>8}" if "hybrid" in modes else "")]
    rows = [(f"all ({report['queries']})", report["modes"])]
    rows += [(f"{group} ({by_mode['queries']})", by_mode) for group, by_mode in report["groups"].items()]
    for label, by_mode in rows:
        line = f"{label:<18}" + "".join(f"{by_mode[mode]['ndcg@10']:>9.3f}" for mode in modes)
        if "hybrid" in modes:
            line += f"{by_mode['hybrid']['recall@10']:>9.3f}{by_mode['hybrid']['mrr@10']:>8.3f}"
        lines.append(line)
    for flag in report.get("below_best", []):
        lines.append(f"! {flag['group']}: hybrid is {flag['gap']:.3f} below {flag['best']}-only "
                     f"(more than {TOLERANCE})")
    floor = report.get("floor")
    if floor and floor["relevant"]:
        line = (f"relevance floor: {floor['kept_relevant']:.1%} of the {floor['relevant']} judged-relevant "
                "documents in the top 10 stay above it")
        if floor["no_answer"]:
            line += f"; {floor['empty_state']:.1%} of the {floor['no_answer']} no-answer queries get the empty state"
        lines.append(line)
    if "related" in report:
        rel = report["related"]
        lines.append(f"related learning ({rel['cases']} cases): precision@3 {rel['precision@3']:.3f}, "
                     f"recall@5 {rel['recall@5']:.3f}, {rel['avg_shown']} shown on average; people to ask: "
                     f"precision@3 {rel['people_precision@3']:.3f}, "
                     f"top-1 is an expert {rel['people_top1_is_expert']:.3f}")
    if "agenda" in report:
        lines.append(format_agenda(report["agenda"]))
    return "\n".join(lines)
