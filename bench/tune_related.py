"""Calibrate the related-learning threshold (and tag weight) of the current model on the judged
cases in tests/eval/related.jsonl: precision@3 and recall@5 of the panel for each setting.

    python -m bench.tune_related tests/eval [TAG-WEIGHTS, e.g. 0.04,0.08]

A higher threshold shows fewer, surer suggestions; the chosen threshold is the highest one
that keeps recall@5 within 0.02 of the best, so the panel does not pad with weak matches.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from indexer.evaluate import evaluation_base
from kb import RelatedParams, load_settings, precision, recall


def main(folder: str, tag_weights: tuple[float, ...] = (0.0, 0.02, 0.04, 0.08, 0.12)) -> None:
    folder_path = Path(folder)
    settings = load_settings()
    kb = evaluation_base(folder_path, settings)
    cases = [json.loads(line) for line in (folder_path / "related.jsonl").read_text().splitlines() if line.strip()]
    rows = []
    for tag_weight in tag_weights:
        for step in range(0, 41):
            threshold = round(0.3 + step * 0.0175, 4)
            params = RelatedParams(threshold, tag_weight)
            p3 = r5 = shown = 0.0
            for case in cases:
                ranked = [doc for doc, _ in kb.suggestions(case["id"], params)]
                judged = dict.fromkeys(case["related"], 1)
                p3 += precision(ranked, judged, 3)
                r5 += recall(ranked, judged, 5)
                shown += len(ranked)
            n = len(cases)
            rows.append((tag_weight, threshold, p3 / n, r5 / n, shown / n))
    best_recall = max(row[3] for row in rows)
    eligible = [row for row in rows if row[3] >= best_recall - 0.02]
    choice = max(eligible, key=lambda row: (row[1], row[2]))
    print(f"model {settings.model}: {len(cases)} cases")
    print(f"{'tags':>5} {'threshold':>9} {'P@3':>6} {'R@5':>6} {'shown':>6}")
    for row in rows:
        if row is choice or (row[0] == choice[0] and round((row[1] - 0.3) / 0.0175) % 4 == 0):
            mark = "  <- chosen" if row is choice else ""
            print(f"{row[0]:>5.2f} {row[1]:>9.4f} {row[2]:>6.3f} {row[3]:>6.3f} {row[4]:>6.2f}{mark}")
    for tag_weight in sorted({row[0] for row in rows}):
        best = max((row for row in rows if row[0] == tag_weight), key=lambda row: (row[3], row[2]))
        print(f"best recall with tag weight {tag_weight:.2f}: threshold {best[1]:.4f} "
              f"P@3 {best[2]:.3f} R@5 {best[3]:.3f}")


if __name__ == "__main__":
    weights = tuple(float(w) for w in sys.argv[2].split(",")) if len(sys.argv) > 2 else (0.0, 0.02, 0.04, 0.08, 0.12)
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/eval", weights)
