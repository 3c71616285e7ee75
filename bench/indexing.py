"""Indexing: full runs into fresh data folders, the embedder alone on the same passages, and the
nightly re-runs (nothing changed; 1% of documents edited).

Every index run is ``kb index`` in a fresh process (``bench.index_run``), timed from the outside
as cron would see it: interpreter start, imports, scan, model load, embedding, publishing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import corpus, postgres
from bench.plan import Plan
from bench.report import Results
from indexer.pipeline import scan
from kb import EMBED_BATCH, KnowledgeBase, chunk_document, load_embedder, load_settings

SECTION = "Indexing"
ROOT = Path(__file__).resolve().parent.parent


def index_process(content: Path, data: Path, model: str, full: bool = False,
                  database_url: str | None = None) -> tuple[float, dict]:
    """(wall seconds, the run's JSON) of ``kb index`` in a fresh process (into ``database_url``
    when given, else the data folder)."""
    env = {**os.environ, "KB_CONTENT_DIR": str(content), "KB_DATA_DIR": str(data), "KB_MODEL": model,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    if database_url:
        env["KB_DATABASE_URL"] = database_url
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bench.index_run", *(["--full"] if full else [])], env=env,
                          cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"kb index failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return wall, json.loads(done.stdout.strip().splitlines()[-1])


def chunk_count(data: Path, database_url: str | None = None) -> tuple[int, int]:
    """(documents, chunks) indexed in the data folder ``data`` (or the database)."""
    kb = KnowledgeBase(load_settings(overrides={"data_dir": data, "database_url": database_url}))
    try:
        health = kb.health()
    finally:
        kb.shutdown()
    return health["documents"], health["chunks"]


def passage_texts(content: Path, chunk_words: int) -> list[str]:
    """The texts a full run embeds, in its order: every distinct chunk of every document."""
    documents, _ = scan(content, 10_000_000)
    texts = {chunk.hash: chunk.embed_text for doc in documents for chunk in chunk_document(doc, chunk_words)}
    return list(texts.values())


def embed_rate(embedder, texts: list[str]) -> float:
    """Passages per second of ``embed_passages`` alone, in the pipeline's batches."""
    started = time.perf_counter()
    for start in range(0, len(texts), EMBED_BATCH):
        embedder.embed_passages(texts[start : start + EMBED_BATCH])
    return len(texts) / (time.perf_counter() - started)


def fresh_dir(work: Path, prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix, dir=work))


def synthetic_corpus(plan: Plan) -> Path:
    """The synthetic corpus (generated once per generator version, seed and size)."""
    folder = plan.work / f"corpus-{plan.synthetic_docs}-v{corpus.VERSION}-s{corpus.SEED}"
    marker = folder / ".complete"
    if not marker.exists():
        corpus.generate(folder, plan.synthetic_docs, plan.content)
        marker.write_text("ok")
    return folder


def subsample(source: Path, documents: int, target: Path) -> Path:
    """The first ``documents`` synthetic documents (their kinds and languages were drawn at random)."""
    marker = target / ".complete"
    if marker.exists():
        return target
    if target.exists():
        shutil.rmtree(target)
    for path in sorted(source.rglob("*")):
        if path.is_file() and not path.name.startswith(".") and _number(path.name) < documents:
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
    marker.write_text("ok")
    return target


def _number(name: str) -> int:
    return int(name.rsplit("synth-", 1)[1].split(".")[0])


@dataclass(frozen=True)
class Subject:
    """A corpus indexed with a model, as the figures name it; ``runs`` full runs of it are timed."""

    label: str
    content: Path
    model: str
    runs: int = 1
    note: str = ""  # why this many runs


def full_runs(results: Results, subject: Subject, work: Path, embedder, keep: Path | None = None,
              shared: bool = False, target: float = 95) -> float:
    """Full index runs into fresh data folders (``shared``: fresh PostgreSQL databases), then the
    embedder alone on the same texts. Returns the median seconds of a full run; the last data
    folder is moved to ``keep``."""
    label, model, runs = subject.label, subject.model, subject.runs
    seconds, rates, embed_rates = [], [], []
    chunks = docs = 0
    texts = passage_texts(subject.content, load_settings().chunk_words)
    for number in range(runs):
        data = fresh_dir(work, "full-")
        url = postgres.database(postgres.server(work), "index_run", fresh=True) if shared else None
        wall, _ = index_process(subject.content, data, model, full=True, database_url=url)
        docs, chunks = chunk_count(data, url)
        seconds.append(wall)
        rates.append(chunks / wall)
        if keep is not None and number == runs - 1:
            if keep.exists():
                shutil.rmtree(keep)
            data.rename(keep)
        else:
            shutil.rmtree(data)
        if embedder is not None:
            embed_rates.append(embed_rate(embedder, texts))
    why = subject.note or ("" if runs >= 3 else f"{runs} run(s): each takes minutes with this model")
    results.add(SECTION, f"{label}: full index, {docs} docs, {chunks} chunks, {model}", "chunks/s", rates, why)
    results.add(SECTION, f"{label}: full index time", "s", seconds, why)
    if embed_rates:
        results.add(SECTION, f"{label}: embedder alone, same {len(texts)} passages, batches of {EMBED_BATCH}",
                    "passages/s", embed_rates, why)
        share = 100 * _median(rates) / _median(embed_rates)
        results.target(f"end-to-end indexing ≥ {target:.0f}% of the embedder alone ({label}, {model})", share, "%",
                       share >= target,
                       f"{_median(rates):.2f} vs {_median(embed_rates):.2f} passages/s; the run includes process start "
                       "and model loading")
    return sorted(seconds)[len(seconds) // 2]


def rerun_unchanged(results: Results, subject: Subject, data: Path, runs: int) -> tuple[float, bool]:
    """``kb index`` with nothing changed: (median seconds, whether the model stayed unloaded, i.e.
    none of its packages was even imported)."""
    seconds, loaded = [], set()
    for _ in range(runs):
        wall, payload = index_process(subject.content, data, subject.model)
        if payload["summary"]["embedded"] or payload["summary"]["added"] or payload["summary"]["updated"]:
            raise RuntimeError(f"an unchanged re-run indexed something: {payload['summary']}")
        seconds.append(wall)
        loaded.update(payload["model_packages"])
    verdict = (f"MODEL LOADED: {sorted(loaded)} imported" if loaded
               else "model not loaded: no model package imported")
    results.add(SECTION, f"{subject.label}: re-run, nothing changed (process wall time)", "s", seconds, verdict)
    return sorted(seconds)[len(seconds) // 2], not loaded


def rerun_edited(results: Results, subject: Subject, data: Path, plan: Plan, full_seconds: float) -> float:
    """``kb index`` after ``plan.edit_share`` of the documents were edited, on copies of content and data."""
    label, share = subject.label, plan.edit_share
    content_copy, data_copy = plan.work / f"edit-content-{label}", plan.work / f"edit-data-{label}"
    for source, target in ((subject.content, content_copy), (data, data_copy)):
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target)
    seconds, edited, embedded = [], 0, []
    try:
        for number in range(plan.runs):
            edited = len(corpus.edit(content_copy, share, number))
            wall, payload = index_process(content_copy, data_copy, subject.model)
            seconds.append(wall)
            embedded.append(payload["summary"]["embedded"])
    finally:
        shutil.rmtree(content_copy, ignore_errors=True)
        shutil.rmtree(data_copy, ignore_errors=True)
    results.add(SECTION, f"{label}: re-run, {edited} docs edited ({share:.0%})", "s", seconds,
                f"re-embedded {min(embedded)}-{max(embedded)} chunks")
    results.add(SECTION, f"{label}: re-run with {share:.0%} edited, share of a full run", "%",
                [100 * s / full_seconds for s in seconds], f"full run {full_seconds:.1f} s")
    return sorted(seconds)[len(seconds) // 2]


def run(results: Results, plan: Plan) -> Path:
    """All indexing figures; returns the data folder holding the demo index (default model)."""
    plan.work.mkdir(parents=True, exist_ok=True)
    demo = plan.work / f"demo-{plan.model.replace('/', '_')}"
    embedder = load_embedder(plan.model)
    full = full_runs(results, Subject("demo content", plan.content, plan.model, plan.full_runs), plan.work, embedder,
                     keep=demo)
    unchanged, not_loaded = rerun_unchanged(results, Subject("demo", plan.content, plan.model), demo, plan.runs)
    edited = rerun_edited(results, Subject("demo", plan.content, plan.model), demo, plan, full)
    results.target("re-run with nothing changed ≤ 3 s (demo, model not loaded)", unchanged, "s",
                   unchanged <= 3 and not_loaded, "model not loaded" if not_loaded else "model loaded")
    results.target("re-run with 1% edited ≤ 5% of a full run (demo)", 100 * edited / full, "%", edited <= 0.05 * full,
                   f"{edited:.1f} s of {full:.0f} s")

    synthetic = synthetic_corpus(plan)
    if plan.subsample_docs:
        sample = subsample(synthetic, plan.subsample_docs,
                           plan.work / f"corpus-sub-{plan.subsample_docs}-v{corpus.VERSION}")
        full_runs(results, Subject(f"synthetic, first {plan.subsample_docs} docs", sample, plan.model, plan.full_runs),
                  plan.work, embedder)
        full_runs(results, Subject(f"synthetic, first {plan.subsample_docs} docs, PostgreSQL", sample, plan.model,
                                   plan.full_runs), plan.work, embedder, shared=True, target=90)
    del embedder
    fast = load_embedder(plan.fast_model) if plan.fast_model != plan.model else None
    big = plan.work / "synthetic-data"
    label = f"synthetic {plan.synthetic_docs} docs"
    whole = Subject(label, synthetic, plan.fast_model, plan.fast_runs,
                    "" if plan.fast_runs >= 3 else f"{plan.fast_runs} run(s) to keep the benchmark short")
    big_full = full_runs(results, whole, plan.work, fast, keep=big)
    big_unchanged, big_not_loaded = rerun_unchanged(results, whole, big, plan.runs)
    big_edited = rerun_edited(results, whole, big, plan, big_full)
    results.target(f"re-run with nothing changed ≤ 3 s ({plan.synthetic_docs} docs)", big_unchanged, "s",
                   big_unchanged <= 3 and big_not_loaded, "model not loaded" if big_not_loaded else "model loaded")
    results.target(f"re-run with 1% edited ≤ 5% of a full run ({plan.synthetic_docs} docs, {plan.fast_model})",
                   100 * big_edited / big_full, "%", big_edited <= 0.05 * big_full,
                   f"{big_edited:.1f} s of {big_full:.0f} s")
    shutil.rmtree(big, ignore_errors=True)
    results.note(SECTION, (
        f"The synthetic corpus: {plan.synthetic_docs} documents generated by `bench/corpus.py` (seed {corpus.SEED}) "
        "from the demo content's own paragraphs, sentences, tags and people, per language, as Markdown articles "
        "and sessions with YAML front matter and forum JSON threads, 1-2 chunks each. "
        + (f"The model `{plan.model}` embeds {plan.subsample_docs} of them (the first by number; kind and language "
           "are drawn per document); " if plan.subsample_docs else "")
        + f"The whole corpus is indexed with `{plan.fast_model}`: the same pipeline with a faster model. Every index "
        "run is `kb index` in a new process (`bench/index_run.py`), into a new data folder for full runs, so the "
        "embedding cache starts empty; times are process wall time, including start-up and model loading."))
    return demo


def ensure_demo_index(work: Path, content: Path, model: str) -> Path:
    """The demo index for ``model``, built or brought up to date when the indexing section did not run."""
    demo = work / f"demo-{model.replace('/', '_')}"
    work.mkdir(parents=True, exist_ok=True)
    index_process(content, demo, model)
    return demo


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]
