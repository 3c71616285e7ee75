"""Figures, targets and the table they make: printed, and written as Markdown and JSON.

A figure is one measured quantity over several runs; the table shows its median with the
minimum and maximum beside it, and says how many runs there were and why when fewer.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np


def percentile(values, q: float) -> float:
    """The ``q``-th percentile (0-100), linearly interpolated; NaN for no values."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")


@dataclass
class Figure:
    """One row of the table: a quantity measured ``len(runs)`` times."""

    section: str
    name: str
    unit: str
    runs: list[float]
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.runs) if self.runs else float("nan")

    @property
    def low(self) -> float:
        return min(self.runs) if self.runs else float("nan")

    @property
    def high(self) -> float:
        return max(self.runs) if self.runs else float("nan")


@dataclass
class Target:
    """A goal from the brief, the figure that decides it, and whether it is met."""

    goal: str
    value: float
    unit: str
    met: bool
    detail: str = ""


@dataclass
class Results:
    machine: dict
    options: dict
    figures: list[Figure] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def add(self, section: str, name: str, unit: str, runs, note: str = "") -> Figure:
        figure = Figure(section, name, unit, [float(v) for v in runs], note)
        self.figures.append(figure)
        return figure

    def note(self, section: str, text: str) -> None:
        self.notes.setdefault(section, []).append(text)

    def target(self, goal: str, value: float, unit: str, met: bool, detail: str = "") -> None:
        self.targets.append(Target(goal, float(value), unit, bool(met), detail))

    def sections(self) -> list[str]:
        return list(dict.fromkeys([f.section for f in self.figures] + list(self.notes)))


def number(value: float) -> str:
    """Three significant digits, without scientific notation for everyday sizes."""
    if value != value:  # NaN
        return "–"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def markdown(results: Results) -> str:
    lines = ["# Kennisbank benchmark", ""]
    machine = results.machine
    lines.append(f"{machine['when']} · {machine['summary']} · commit {machine['commit']}")
    lines.append("")
    lines.append(f"Options: `{results.options['command']}`. Each figure is the median of its runs, with the "
                 "minimum and maximum beside it; `runs` says how many, and the note why when fewer than usual.")
    lines.append(f"Machine load average (1 min) at the start {machine['load_start']}, at the end "
                 f"{machine.get('load_end', '–')}: the machine is shared, so absolute times vary between runs.")
    lines += ["", "## Targets", "", "| target | figure | met |", "|---|---:|:---:|"]
    for t in results.targets:
        detail = f" ({t.detail})" if t.detail else ""
        lines.append(f"| {t.goal} | {number(t.value)} {t.unit}{detail} | {'yes' if t.met else '**no**'} |")
    for section in results.sections():
        lines += ["", f"## {section}", ""]
        figures = [f for f in results.figures if f.section == section]
        if figures:
            lines += ["| measure | median | min | max | unit | runs | note |", "|---|---:|---:|---:|---|---:|---|"]
            for f in figures:
                lines.append(f"| {f.name} | {number(f.median)} | {number(f.low)} | {number(f.high)} | {f.unit} | "
                             f"{len(f.runs)} | {f.note} |")
        for text in results.notes.get(section, []):
            lines += ["", text]
    return "\n".join(lines) + "\n"


def terminal(results: Results) -> str:
    """The same table for a terminal: fixed-width columns, no Markdown."""
    out = ["TARGETS"]
    for t in results.targets:
        out.append(f"  [{'met' if t.met else 'NOT MET'}] {t.goal}: {number(t.value)} {t.unit}"
                   + (f" ({t.detail})" if t.detail else ""))
    width = max([len(f.name) for f in results.figures] + [20])
    for section in results.sections():
        figures = [f for f in results.figures if f.section == section]
        out += ["", section.upper()]
        if figures:
            out.append(f"  {'measure':<{width}} {'median':>10} {'min':>10} {'max':>10}  {'unit':<10} runs  note")
        for f in figures:
            out.append(f"  {f.name:<{width}} {number(f.median):>10} {number(f.low):>10} {number(f.high):>10}  "
                       f"{f.unit:<10} {len(f.runs):>4}  {f.note}")
        for text in results.notes.get(section, []):
            out.append("  " + text.replace("\n", "\n  "))
    return "\n".join(out)


def as_json(results: Results) -> dict:
    return {
        "machine": results.machine,
        "options": results.options,
        "targets": [asdict(t) for t in results.targets],
        "figures": [{**asdict(f), "median": f.median, "min": f.low, "max": f.high} for f in results.figures],
        "notes": results.notes,
        "extra": results.extra,
    }


def write(results: Results, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    md, js = folder / "bench.md", folder / "bench.json"
    md.write_text(markdown(results), encoding="utf-8")
    js.write_text(json.dumps(as_json(results), indent=2, ensure_ascii=False, default=_plain), encoding="utf-8")
    return md, js


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(type(value).__name__)
