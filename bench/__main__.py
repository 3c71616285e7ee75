"""``make bench``: speed and memory of Kennisbank on this machine, as one table.

    python -m bench                      # everything, default settings (about 20-30 minutes)
    python -m bench --quick              # a short run: fewer repetitions, smaller sizes, a fast model
    python -m bench --only search,http   # some sections: indexing, search, agenda, http, memory, scale

Prints the table and writes it to bench/results/bench.md and bench/results/bench.json. Work files
(indexes, synthetic corpora, server logs) go to bench/results/work/; built synthetic indexes are
reused by later runs while the code that builds them is unchanged.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import traceback
from pathlib import Path

from bench import agenda, indexing, latency, machine, postgres, report, scale, server, synthetic
from bench.plan import SWEEP, Plan, documents_for
from kb import Graph, load_embedder, load_settings

SECTIONS = ("indexing", "search", "agenda", "http", "memory", "scale")
ROOT = Path(__file__).resolve().parent.parent
QUICK_MODEL = "use-multilingual"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"short run: 1-2 repetitions, smaller corpora and indexes, model {QUICK_MODEL} "
                             "unless --model")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections ({', '.join(SECTIONS)})")
    parser.add_argument("--model", help="embedding model (default: KB_MODEL or the default model)")
    parser.add_argument("--runs", type=int, help="repetitions of each cheap measurement (default 3; 1 with --quick)")
    parser.add_argument("--synthetic-docs", type=int, help="documents in the synthetic corpus (default 5000)")
    parser.add_argument("--subsample", type=int,
                        help="synthetic documents indexed with the default model (default 300)")
    parser.add_argument("--http-seconds", type=float, help="seconds per HTTP load run (default 10)")
    parser.add_argument("--scale-sizes",
                        help="chunks×dimension list for the scale section, e.g. 100000x896,1000000x384")
    parser.add_argument("--hnsw", help="try other HNSW settings in the scale section: M,efConstruction,efSearch")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="where bench.md and bench.json go")
    parser.add_argument("--work", type=Path, help="work folder (default OUT/work)")
    parser.add_argument("--clean", action="store_true", help="remove the work folder first (rebuild cached indexes)")
    options = parser.parse_args(argv)
    unknown = set(options.only.split(",")) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    return options


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    options = parse(sys.argv[1:] if argv is None else argv)
    # The benchmark builds and rebuilds stores of its own; a live database must never be one of them.
    os.environ.pop("KB_DATABASE_URL", None)
    only = options.only.split(",")
    quick = options.quick
    model = options.model or (QUICK_MODEL if quick else load_settings().model)
    runs = options.runs or (1 if quick else 3)
    work = options.work or options.out / "work"
    if options.clean and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    content = ROOT / "content"
    results = report.Results(machine.describe(),
                             {"command": "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv),
                                                   "model": model, "runs": runs, "quick": quick, "sections": only})
    if quick and not options.model:
        results.note("Run", f"Quick run: model `{QUICK_MODEL}` instead of the default, 1 repetition, smaller sizes; "
                            "the figures are indicative only.")
    timings: dict[str, float] = {}
    megabytes, torch = machine.environment_megabytes()
    results.add("Install", f"virtual environment ({sys.prefix})", "MB", [megabytes],
                "with torch (the sentence-transformers extra)" if torch else "no torch: the default install")

    def section(name: str, action):
        """Run one section; a failure is reported in the table and the other sections still run."""
        say(f"{name} …")
        started = time.perf_counter()
        try:
            value = action()
        except Exception as exc:  # noqa: BLE001 - a benchmark reports what broke and goes on
            value = None
            results.note("Errors", f"{name} failed: {exc.__class__.__name__}: {exc}")
            traceback.print_exc()
        timings[name] = time.perf_counter() - started
        say(f"{name} done in {timings[name]:.0f} s")
        return value

    plan = Plan(model=model, work=work, content=content, runs=runs,
                synthetic_docs=options.synthetic_docs or (1000 if quick else 5000),
                subsample_docs=options.subsample if options.subsample is not None else 0 if quick else 300,
                fast_model=QUICK_MODEL if model != "hashing" else "hashing",
                sweep=SWEEP[:2] if quick else SWEEP, seconds=options.http_seconds or (3 if quick else 10))
    if "indexing" in only:
        plan.demo = section("indexing", lambda: indexing.run(results, plan))
    if plan.demo is None and {"search", "agenda", "http", "memory"} & set(only):
        plan.demo = section("demo index", lambda: indexing.ensure_demo_index(work, content, model))
    judged = latency.judged_queries()
    dim = None
    if "search" in only:
        embedder = load_embedder(model)
        dim = embedder.dim
        section("search", lambda: latency.run(results, plan, embedder))
        del embedder
    if "agenda" in only:
        embedder = load_embedder(model)
        dim = embedder.dim
        section("agenda", lambda: agenda.run(results, plan, embedder))
        del embedder
    if "http" in only:
        section("first search", lambda: server.run_first_search(results, plan, judged))
        section("slow clients", lambda: server.run_slow_clients(results, plan, judged))
        section("http", lambda: server.run_http(results, plan, judged))
        shared = section("demo index in PostgreSQL", lambda: postgres.demo_copy(work, plan.demo, content, model))
        if shared:
            section("http, two hosts", lambda: server.run_http_shared(results, plan, judged, shared))
    if "memory" in only:
        large = None
        if not quick:
            dim = dim or load_embedder(model).dim
            large = section("100k-chunk index", lambda: synthetic.build(work, content, documents_for(100_000),
                                                                        model, dim))
        section("memory", lambda: server.run_memory(results, plan, judged, large, "100k chunks (synthetic vectors)"))
    if "scale" in only:
        sizes = _sizes(options.scale_sizes) if options.scale_sizes else (
            ((20_000, 384), (100_000, 384)) if quick else ((100_000, 896), (1_000_000, 384)))
        graph = Graph(*(int(v) for v in options.hnsw.split(","))) if options.hnsw else None
        raw = section("scale", lambda: scale.run(results, scale.ScalePlan(sizes=sizes, runs=runs, graph=graph)))
        results.extra["scale"] = {key: {k: v for k, v in figures.items() if "latency" not in k} for key,
                                  figures in raw.items()}
    results.machine["load_end"] = machine.load_average()
    results.extra["section_seconds"] = {name: round(seconds) for name, seconds in timings.items()}
    results.note("Run", "Section times: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items())
                 + f"; total {sum(timings.values()) / 60:.1f} min.")
    md, js = report.write(results, options.out)
    print(report.terminal(results))
    say(f"wrote {md} and {js}")


def _sizes(text: str) -> tuple[tuple[int, int], ...]:
    return tuple((int(n), int(d)) for n, d in (part.split("x") for part in text.split(",")))


if __name__ == "__main__":
    main()
