"""Choose the fusion parameters on a judged collection: a grid over FusionParams, scored by nDCG@10.

Run on the project's own judged queries (tests/eval), never on the public sets, which stay
unseen for an honest check:  python -m bench.tune_fusion tests/eval
Prints the best settings overall and the worst query group for each, so the choice can also
guarantee that no group falls below the better of keyword-only and dense-only.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from indexer.evaluate import evaluation_base, load_qrels, load_queries
from kb import CANDIDATES, FusionParams, fuse_for_mode, load_settings, ndcg, profile_for, result_pool


def candidate_scores(folder: Path):
    """Per query both sides' candidates, as the searcher takes them before fusion."""
    kb = evaluation_base(folder, load_settings())
    texts, groups = load_queries(folder)
    out = {}
    for qid, text in texts.items():
        found = kb.candidates(text, "hybrid", CANDIDATES)
        out[qid] = (found.dense, found.keyword, found.signals)
    return out, groups, load_qrels(folder / "qrels.tsv")


def score(params, scores, groups, qrels):
    """nDCG@10 per query group of the results search would give under ``params``: fused, then
    kept within the model's dense margin."""
    margin = profile_for(load_settings().model).dense_margin
    per_group: dict[str, list[float]] = {}
    for qid, (dense, keyword, signals) in scores.items():
        fused, _ = fuse_for_mode(dense, keyword, signals, "hybrid", params)
        ranked = [doc for doc, _ in result_pool(fused, dense, keyword, margin)][:10]
        value = ndcg(ranked, qrels.get(qid, {}))
        per_group.setdefault("all", []).append(value)
        per_group.setdefault(groups.get(qid, "all"), []).append(value) if groups.get(qid) else None
    return {group: sum(values) / len(values) for group, values in per_group.items()}


def main(folder: str) -> None:
    scores, groups, qrels = candidate_scores(Path(folder))
    keyword_only = score(FusionParams(0.0, 1.0, 0.0, 5), {q: ({}, k, c) for q, (_, k, c) in scores.items()}, groups,
                         qrels)
    dense_only = score(FusionParams(0.0, 0.0, 1.0, 5), {q: (d, {}, c) for q, (d, _, c) in scores.items()}, groups,
                       qrels)
    floor = {group: max(keyword_only[group], dense_only[group]) for group in keyword_only}
    print("keyword only ", _line(keyword_only))
    print("dense only   ", _line(dense_only))
    grid = itertools.product([0.0, 0.2, 0.4, 0.6, 1.0], [0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0], [1.0, 2.0, 3.0, 4.0, 6.0],
                             [5, 10, 20])
    results = []
    for agreement_weight, coverage_weight, power, depth in grid:
        params = FusionParams(agreement_weight, coverage_weight, power, depth)
        results.append((score(params, scores, groups, qrels), params))
    results.sort(key=lambda item: -item[0]["all"])
    eligible = [(figures, params) for figures, params in results
                if all(figures[group] >= floor[group] - 1e-9 for group in floor)]
    print(f"{len(eligible)} of {len(results)} settings keep every group at or above the better single ranking")
    for figures, params in (eligible or results)[:10]:
        print(f"{params}  {_line(figures)}")
    current = profile_for(load_settings().model).fusion
    print(f"in use {current}  {_line(score(current, scores, groups, qrels))}")


def _line(figures: dict[str, float]) -> str:
    return "  ".join(f"{group}={value:.3f}" for group, value in sorted(figures.items()))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/eval")
