"""Choose the fusion parameters on several judged collections at once: a grid over FusionParams.

    python -m bench.tune_fusion tests/eval ../shared/evalsets/semeval16-cqa-qq ../shared/evalsets/scifact-train

Each setting is scored by nDCG@10 of the results search would give, per collection and per query
group. A setting is eligible when hybrid stays within ``TOLERANCE`` of the better of keyword-only
and dense-only in every group of every collection; the eligible ones are listed by their mean
nDCG@10 over the collections, so that no setting is chosen because one collection alone likes it.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from indexer.evaluate import TOLERANCE, evaluation_base, load_qrels, load_queries
from kb import CANDIDATES, FusionParams, fuse_for_mode, load_settings, ndcg, profile_for, result_pool

GRID = {
    "agreement_weight": (0.0, 0.25, 0.5, 1.0),
    "coverage_weight": (0.0, 0.25, 0.5),
    "coverage_power": (2.0, 3.0),
    "depth": (5,),
    "language_weight": (0.0, 1.5, 2.0, 3.0),
    "flat_weight": (0.0, 1.0, 2.0, 4.0),
    "flat_gap": (0.06, 0.08),
}


def candidate_scores(folder: Path) -> dict:
    """Per judged query both sides' candidates and signals, as the searcher takes them before fusion."""
    kb = evaluation_base(folder, load_settings())
    texts, groups = load_queries(folder)
    qrels = load_qrels(folder / "qrels.tsv")
    scores = {}
    for qid, text in texts.items():
        if qrels.get(qid):
            found = kb.candidates(text, "hybrid", CANDIDATES)
            scores[qid] = (found.dense, found.keyword, found.signals)
    kb.close()
    return {"scores": scores, "groups": groups, "qrels": qrels}


def score(mode: str, params: FusionParams, collection: dict, margin: float) -> dict[str, float]:
    """nDCG@10 per query group (and ``all``) of the results search would give in ``mode``."""
    per_group: dict[str, list[float]] = {}
    for qid, (dense, keyword, signals) in collection["scores"].items():
        fused, _ = fuse_for_mode(dense, keyword, signals, mode, params)
        ranked = [doc for doc, _ in (result_pool(fused, dense, {} if mode == "dense" else keyword, margin)
                                     if mode != "keyword" else fused)][:10]
        value = ndcg(ranked, collection["qrels"][qid])
        for group in ("all", collection["groups"].get(qid)):
            if group:
                per_group.setdefault(group, []).append(value)
    return {group: sum(values) / len(values) for group, values in per_group.items()}


def main(folders: list[str]) -> None:
    margin = profile_for(load_settings().model).dense_margin
    collections = {Path(folder).name: candidate_scores(Path(folder)) for folder in folders}
    floor = {}
    for name, collection in collections.items():
        keyword = score("keyword", FusionParams(), collection, margin)
        dense = score("dense", FusionParams(), collection, margin)
        floor[name] = {group: max(keyword[group], dense[group]) for group in keyword}
        print(f"{name}: keyword {_line(keyword)}\n{name}: dense   {_line(dense)}")
    results = []
    for values in itertools.product(*GRID.values()):
        params = FusionParams(**dict(zip(GRID, values, strict=True)))
        figures = {name: score("hybrid", params, collection, margin) for name, collection in collections.items()}
        worst = min(figures[name][group] - floor[name][group] for name in figures for group in figures[name])
        mean = sum(figures[name]["all"] for name in figures) / len(figures)
        results.append((worst >= -TOLERANCE, mean, worst, params, figures))
    results.sort(key=lambda item: (not item[0], -item[1]))
    print(f"{sum(item[0] for item in results)} of {len(results)} settings keep hybrid within {TOLERANCE} "
          "of the better single ranking in every group of every collection")
    for _, mean, worst, params, figures in results[:10]:
        print(f"mean {mean:.4f} worst {worst:+.3f} {params}\n    {_collections(figures)}")
    current = profile_for(load_settings().model).fusion
    in_use = {name: score("hybrid", current, collection, margin) for name, collection in collections.items()}
    print(f"in use {current}\n    {_collections(in_use)}")


def _line(figures: dict[str, float]) -> str:
    return "  ".join(f"{group}={value:.3f}" for group, value in sorted(figures.items()))


def _collections(figures: dict[str, dict[str, float]]) -> str:
    return "  ".join(f"{name}: {_line(groups)}" for name, groups in figures.items())


if __name__ == "__main__":
    main(sys.argv[1:] or ["tests/eval"])
