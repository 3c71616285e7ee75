"""The report of a load run (``make load``): figures per endpoint and memory over time, as JSON and a table."""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass

from bench.report import percentile


@dataclass
class Finished:
    """What a load run saw: per endpoint statuses and latencies, memory samples over time."""

    args: argparse.Namespace
    model: str
    documents: int  # at the end of the run
    workers: int
    endpoints: list[str]
    status: dict[str, Counter]
    latency: dict[str, list[float]]
    problems: list[str]
    samples: list[tuple[float, dict[str, float]]]  # (seconds since start, RSS MiB by process)
    elapsed: float


def summarise(run: Finished) -> dict:
    """The run's figures, as written to load.json."""
    args, samples, elapsed = run.args, run.samples, run.elapsed
    endpoints = {}
    for endpoint in run.endpoints:
        statuses = run.status.get(endpoint, Counter())
        times = run.latency.get(endpoint, [])
        endpoints[endpoint] = {
            "requests": sum(statuses.values()),
            "errors": {str(status): count for status, count in sorted(statuses.items(), key=str)
                       if status not in (200, 201)},
            **{f"p{q}_ms": round(percentile(times, q), 1) for q in (50, 95, 99)},
        }
    middle = min(samples, key=lambda sample: abs(sample[0] - elapsed / 2))
    processes = sorted({name for _, sample in samples for name in sample}, key=lambda name: (name != "master", name))
    rss = {name: {"start": samples[0][1].get(name), "middle": middle[1].get(name), "end": samples[-1][1].get(name)}
           for name in processes}
    total = sum(point["requests"] for point in endpoints.values())
    server_errors = sum(count for point in endpoints.values() for status, count in point["errors"].items()
                        if not status.isdigit() or int(status) >= 500)
    return {
        "seconds": round(elapsed, 1), "clients": args.clients, "note_every": args.note_every, "model": run.model,
        "workers": run.workers, "documents_at_end": run.documents, "requests": total,
        "requests_per_second": round(total / elapsed, 1), "server_errors": server_errors,
        "problems": run.problems, "endpoints": endpoints, "rss_mib": rss,
        "rss_series": [{"t": round(t, 1), **{k: round(v, 1) for k, v in sample.items()}} for t, sample in samples],
    }


def table(summary: dict) -> str:
    lines = [
        f"# Load run: {summary['seconds']:.0f} s, {summary['clients']} clients, a note every "
        f"{summary['note_every']:g} s",
        "",
        f"`kb serve` (gunicorn, {summary['workers']} workers) on 127.0.0.1 over temporary copies of the content "
        f"folder and the live index; model `{summary['model']}`; {summary['documents_at_end']} documents at the end.",
        "",
        f"{summary['requests']} requests, {summary['requests_per_second']} per second; "
        f"server errors (5xx or dropped connections): {summary['server_errors']}.",
        "",
        "| endpoint | requests | errors by status | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for name, point in summary["endpoints"].items():
        errors = ", ".join(f"{status}: {count}" for status, count in point["errors"].items()) or "none"
        lines.append(f"| {name} | {point['requests']} | {errors} | {point['p50_ms']:.1f} | {point['p95_ms']:.1f} "
                     f"| {point['p99_ms']:.1f} |")
    lines += ["", "| process | RSS start MiB | middle | end | change |", "|---|---:|---:|---:|---:|"]
    for name, rss in summary["rss_mib"].items():
        values = [rss[key] for key in ("start", "middle", "end")]
        shown = [f"{value:.0f}" if value is not None else "–" for value in values]
        change = f"{values[2] - values[0]:+.0f}" if None not in (values[0], values[2]) else "–"
        lines.append(f"| {name} | {' | '.join(shown)} | {change} |")
    if summary["problems"]:
        lines += ["", "Problems:", *(f"- {problem}" for problem in summary["problems"])]
    return "\n".join(lines) + "\n"
