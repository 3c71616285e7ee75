"""The ``kb`` command: a thin click layer over ``kb`` and the indexer pipeline."""

from __future__ import annotations

import html
import json
import logging
import os
import re
import sys
import time
from pathlib import Path

import click

from kb import (
    KINDS,
    LANGUAGES,
    MODES,
    SORTS,
    Filters,
    KbError,
    KnowledgeBase,
    NoteInvalid,
    load_settings,
    profile_for,
    require_content_dir,
)


class KbGroup(click.Group):
    """Turns every Kennisbank error into one clean line and exit status 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except NoteInvalid as exc:
            from web.wording import invalid_note

            raise click.ClickException(invalid_note(exc.fields, "en")) from None
        except KbError as exc:
            raise click.ClickException(exc.message) from None


def _settings(ctx: click.Context):
    if "settings" not in ctx.obj:
        ctx.obj["settings"] = load_settings()
    return ctx.obj["settings"]


def _kb(ctx: click.Context) -> KnowledgeBase:
    if "kb" not in ctx.obj:
        ctx.obj["kb"] = KnowledgeBase(_settings(ctx))
    return ctx.obj["kb"]


@click.group(cls=KbGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """Kennisbank: bilingual search and related learning over articles, session notes and forum threads.

    Settings come from KB_* environment variables; see the README.
    """
    ctx.ensure_object(dict)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    logging.getLogger("faiss").setLevel(logging.WARNING)  # its loader logs every attempted CPU variant


@main.command("index")
@click.option("--full", is_flag=True,
              help="Rebuild store and index from the files (chunks embedded before by this model come from the cache).")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.pass_context
def index_command(ctx: click.Context, full: bool, as_json: bool) -> None:
    """Index the content folder: only new and changed files are embedded (what cron runs nightly).

    Exit status: 0 when every file was indexed, 2 when some files were skipped (listed with the reason).
    """
    from indexer.pipeline import run_index

    settings = _settings(ctx)
    progress = IndexProgress(sys.stderr.isatty() and not as_json, profile_for(settings.model).passages_per_second)
    try:
        report = run_index(settings, _kb(ctx), full=full, progress=progress)
    finally:
        progress.close()
    if as_json:
        click.echo(json.dumps({k: v for k, v in report.as_json().items() if k != "generation"}, ensure_ascii=False))
    else:
        click.echo(_summary(report))
    if report.skipped:
        ctx.exit(2)


class IndexProgress:
    """What an index run tells a person. On a terminal: a bar over the passages to embed, with
    time left. Without one (cron, a log file): a line at the start (documents, passages to embed,
    passages from the cache, an estimate), a line about every tenth, then the summary."""

    def __init__(self, terminal: bool, rate: float | None) -> None:
        self.terminal = terminal
        self.rate = rate  # the model's passages per second on the benchmark machine, if measured
        self.log = logging.getLogger("kb.index")
        self.bar = None
        self.started = 0.0
        self.next_tenth = 1

    def __call__(self, embedded: int, to_embed: int, cached: int, documents: int) -> None:
        if embedded == 0:
            self.started = time.monotonic()
            if self.terminal and to_embed:
                from tqdm import tqdm

                self.bar = tqdm(total=to_embed, unit="passage", desc="embedding", leave=False)
            elif not self.terminal:
                estimate = f", about {_duration(to_embed / self.rate)}" if self.rate and to_embed else ""
                self.log.info("indexing %d documents: %d passages to embed, %d from the cache%s", documents,
                              to_embed, cached, estimate)
            return
        if self.bar is not None:
            self.bar.update(embedded - self.bar.n)
            return
        if not self.terminal and embedded * 10 >= self.next_tenth * to_embed:
            while embedded * 10 >= self.next_tenth * to_embed:
                self.next_tenth += 1
            spent = time.monotonic() - self.started
            left = spent * (to_embed - embedded) / embedded
            self.log.info("embedded %d of %d passages (%d%%), %s left", embedded, to_embed, 100 * embedded // to_embed,
                          _duration(left))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _duration(seconds: float) -> str:
    """``42 s``, ``3 min 5 s``, ``1 h 12 min``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _summary(report) -> str:
    """An index run's summary line, and one line per skipped file."""
    done = report.applied
    lines = [f"added {done.added}, updated {done.updated}, removed {done.removed}, unchanged {done.unchanged}, "
             f"skipped {len(report.skipped)}; embedded {done.embedded} chunks, {done.cached} from cache; "
             f"{report.seconds:.1f} s; index generation {done.generation}"]
    lines += [f"  skipped {item.path}: {item.reason}" for item in report.skipped]
    return "\n".join(lines)


@main.command("search")
@click.argument("query")
@click.option("--kind", type=click.Choice(KINDS), help="Only this kind of document.")
@click.option("--tag", help="Only documents with this tag.")
@click.option("--author", help="Only documents by this colleague.")
@click.option("--lang", type=click.Choice(LANGUAGES), help="Only documents in this language.")
@click.option("--limit", type=int, default=None, help="Results to show (default KB_TOP_K).")
@click.option("--offset", type=int, default=0, help="Results to skip (for the next page).")
@click.option("--date-from", type=click.DateTime(["%Y-%m-%d"]), help="Only documents of this day or later.")
@click.option("--date-to", type=click.DateTime(["%Y-%m-%d"]), help="Only documents of this day or earlier.")
@click.option("--sort", type=click.Choice(SORTS), default="relevance", help="Best match first, or newest first.")
@click.option("--as-typed", is_flag=True, help="Search the words as typed, never a spelling correction of them.")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", help="Ranking to use.")
@click.option("--json", "as_json", is_flag=True, help="Print the same JSON as GET /api/search.")
def search_command(query, limit, offset, mode, sort, as_typed, as_json, date_from, date_to, **filters) -> None:
    """Search the knowledge base in Dutch or English."""
    from web.present import search_json

    dates = {name: value.date().isoformat() if value else None
             for name, value in (("date_from", date_from), ("date_to", date_to))}
    page = _kb(click.get_current_context()).search(query, Filters(**filters, **dates), limit, offset, mode,
                                                  sort=sort, as_typed=as_typed)
    if as_json:
        click.echo(json.dumps(search_json(page), ensure_ascii=False))
        return
    if page.corrected_from:
        click.echo(f"Showing results for “{page.query}” (for “{page.corrected_from}” as typed: --as-typed)")
    elif page.did_you_mean:
        click.echo(f"Did you mean “{page.did_you_mean}”?")
    if not page.answered:
        click.echo(f"No close match for “{page.query}”.")
        if page.topics:
            click.echo("Nearest topics: " + ", ".join(page.topics))
        return
    click.echo(f"{page.total} results ({page.took_ms:.0f} ms)")
    for number, result in enumerate(page.results, start=offset + 1):
        click.echo(f"{number:>3}. [{result.kind}/{result.lang}] {result.title}  ({result.id}, {result.score:.3f})")
        click.echo("     " + plain_snippet(result.snippet, sys.stdout.isatty()))


@main.command("related")
@click.argument("doc_id")
@click.option("--json", "as_json", is_flag=True, help="Print the same JSON as GET /api/documents/<id>/related.")
@click.pass_context
def related_command(ctx, doc_id, as_json) -> None:
    """Related learning for a document: what to read or attend next, and whom to ask."""
    from web.present import related_json

    answer = related_json(_kb(ctx).related(doc_id))
    if as_json:
        click.echo(json.dumps(answer, ensure_ascii=False))
        return
    for item in answer["related"]:
        click.echo(f"- [{item['kind']}] {item['title']} ({item['id']}): {item['reason']}")
    if not answer["related"]:
        click.echo("nothing related well enough")
    for person in answer["people"]:
        click.echo(f"* ask {person['name']}: {person['reason']}")


@main.command("agenda")
@click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True, help="The window, in days.")
@click.option("--json", "as_json", is_flag=True, help="Print the same JSON as GET /api/agenda.")
@click.option("--eval", "eval_dataset", type=click.Path(exists=True, file_okay=False, path_type=Path),
              is_flag=False, flag_value="tests/eval", default=None,
              help="Instead, measure the grouping on the simulated week in DATASET/agenda.json (default tests/eval), "
                   "in the collection's evaluation store.")
@click.option("--join", type=click.FloatRange(-1.0, 2.0), default=None,
              help="With --eval: the closeness from which questions are one gap (default: the model's).")
@click.pass_context
def agenda_command(ctx, days, as_json, eval_dataset, join) -> None:
    """The learning agenda: what colleagues looked for and did not find, grouped by meaning."""
    from web.present import agenda_json

    if eval_dataset is not None:
        from indexer.agenda_eval import evaluate_agenda, format_agenda
        from indexer.evaluate import AGENDA_CASE, evaluation_base

        if not (eval_dataset / AGENDA_CASE).exists():
            raise click.ClickException(f"{eval_dataset} has no {AGENDA_CASE}: nothing to measure the agenda on")
        kb = evaluation_base(eval_dataset, _settings(ctx))
        try:
            report = evaluate_agenda(kb, eval_dataset / AGENDA_CASE, join)
        finally:
            kb.shutdown()
        click.echo(json.dumps(report, ensure_ascii=False, indent=2) if as_json else format_agenda(report))
        return
    answer = agenda_json(_kb(ctx).agenda(days))
    if as_json:
        click.echo(json.dumps(answer, ensure_ascii=False))
        return
    if not answer["gaps"]:
        click.echo(f"No gaps in the last {days} days ({answer['searches']} searches logged). The agenda fills as "
                   "colleagues search and find nothing; the search log must be on (KB_SEARCH_LOG).")
        return
    rare = sum(gap["searches"] for gap in answer["gaps"] if not gap["label"])
    for gap in answer["gaps"]:
        if not gap["label"]:
            continue
        rising = ", rising" if gap["rising"] else ""
        click.echo(f"- “{gap['label']}” [{gap['status']}]: {gap['searches']} searches, {gap['queries']} questions, "
                   f"last asked {gap['last_asked'][:10]}{rising}  (id {gap['id']})")
        if gap["answered_by"]:
            click.echo(f"    answered by: {gap['answered_by']['title']}")
        for host in gap["hosts"][:3]:
            click.echo(f"    could host: {host['name']} ({host['reason']})")
    if rare:
        click.echo(f"and {rare} searches whose questions were asked too rarely to show their words")


@main.command("add-note")
@click.argument("source", type=click.File("r", encoding="utf-8"))
@click.pass_context
def add_note_command(ctx, source) -> None:
    """Add a session note from a Markdown file with front matter, or '-' for standard input.

    The note is written to the content folder (or, with KB_DATABASE_URL, into the database) and
    indexed at once.
    """
    from web.present import document_url

    doc = _kb(ctx).add_note_markdown(source.read())
    click.echo(f"added {doc.id} ({document_url(doc.id)})")


@main.command("export-notes")
@click.pass_context
def export_notes_command(ctx) -> None:
    """Write the notes kept in the database into the content folder as Markdown files.

    With KB_DATABASE_URL, notes added through the web live in the database. This writes them as
    files a person can read, edit and back up (never over another file), and from then on the file
    is the note: editing it edits the note, deleting it removes the note at the next index run.
    Run it on the indexer host, before the nightly run. Without a database there is nothing to do.
    """
    from indexer.pipeline import export_notes

    settings = _settings(ctx)
    export = export_notes(_kb(ctx), require_content_dir(settings))
    for path in export.written:
        click.echo(f"wrote {path}")
    for path in export.clashes:
        click.echo(f"not written: {path} exists with other text; rename that file and run this again", err=True)
    click.echo(f"{len(export.written)} note(s) written to {settings.content_dir}")


@main.command("eval")
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path), default="tests/eval")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--run-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the hybrid ranking as a TREC run file.")
@click.option("--modes", default="keyword,dense,hybrid", help="Comma-separated rankings to evaluate.")
@click.option("--database-url", metavar="URL",
              help="Evaluate on this PostgreSQL database (one for evaluation only: its documents are replaced) "
                   "instead of an embedded store under KB_DATA_DIR/eval.")
@click.pass_context
def eval_command(ctx, dataset, as_json, run_out, modes, database_url) -> None:
    """Search quality on a BEIR-layout collection: nDCG@10, Recall@10, MRR@10 per mode and query group.

    The collection gets an evaluation store of its own, never the live one (KB_DATABASE_URL is not used).
    """
    from indexer.evaluate import evaluate, format_table

    report = evaluate(dataset, _settings(ctx), modes=tuple(modes.split(",")), run_out=run_out,
                      database_url=database_url)
    click.echo(json.dumps(report, ensure_ascii=False, indent=2) if as_json else format_table(report))


@main.command("migrate-to-postgres")
@click.pass_context
def migrate_command(ctx) -> None:
    """Move the embedded knowledge base in KB_DATA_DIR into the database at KB_DATABASE_URL.

    Copies the embedding cache (so nothing is embedded again), then indexes the content folder
    into the database; notes are files there and come along. The embedded store is left as it
    was. Run it on the indexer host, then point the web hosts at the database (with one
    KB_SECRET_KEY for all, or none: the database then makes one).
    """
    from indexer.pipeline import run_index

    settings = _settings(ctx)
    if not settings.database_url:
        raise click.ClickException("set KB_DATABASE_URL to the PostgreSQL database to move into")
    require_content_dir(settings)
    embedded = KnowledgeBase(settings.replace(database_url=None))
    target = _kb(ctx)
    copied = target.import_embeddings(embedded)
    embedded.shutdown()
    click.echo(f"copied {copied} cached embeddings into the database")
    report = run_index(settings, target, full=True)
    click.echo(_summary(report))


def plain_snippet(snippet: str, terminal: bool, width: int = 200) -> str:
    """A result's snippet (escaped HTML with ``<mark>``) as text: matches in bold on a terminal,
    between [brackets] when piped; entities decoded."""
    start, end = ("\x1b[1m", "\x1b[0m") if terminal else ("[", "]")
    text = html.unescape(re.sub(r"<(/?)mark>", lambda m: end if m.group(1) else start, snippet))
    text = " ".join(text.split())
    if len(text) > width:
        text = text[:width].rsplit(" ", 1)[0] + " …"
    return text + (end if terminal and text.count(start) > text.count(end) else "")


@main.command("stats")
@click.pass_context
def stats_command(ctx) -> None:
    """What is indexed: documents, passages, model, index generation, and the last run's summary."""
    kb = _kb(ctx)
    health = kb.health()
    settings = _settings(ctx)
    rows = [("status", health["status"]), ("documents", f"{health['documents']:,}"),
            ("passages", f"{health['chunks']:,}"), ("model", health["model"]),
            ("index generation", str(health["index_generation"])),
            ("store", "PostgreSQL" if settings.database_url else f"embedded, in {settings.data_dir}")]
    last = health.get("last_run")
    if last:
        rows.append(("last run", f"{last['finished_at']}, {last['seconds']} s"))
        rows.append(("", f"{last['added']} added, {last['updated']} updated, {last['removed']} removed, "
                         f"{last['embedded']} passages embedded, {last['skipped']} files skipped"))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        click.echo(f"{name:<{width}}  {value}")


@main.command("serve")
@click.option("--dev", is_flag=True, help="Flask's development server with reloading, instead of gunicorn.")
@click.pass_context
def serve_command(ctx, dev: bool) -> None:
    """Serve the web app on KB_HOST:KB_PORT with gunicorn (KB_WORKERS processes, KB_THREADS threads each)."""
    settings = _settings(ctx)
    _kb(ctx).close()  # the store must answer before the server starts: else one line, and exit
    if dev:
        os.execvp(sys.executable, [sys.executable, "-m", "flask", "--app", "web:create_app", "run",
                                   "--host", settings.host, "--port", str(settings.port), "--debug"])
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    os.execvp(sys.executable, [
        sys.executable, "-m", "gunicorn", "web:create_app()",
        "--bind", f"{settings.host}:{settings.port}", "--workers", str(settings.workers),
        "--threads", str(settings.threads), "--worker-class", "web.server.Worker",
        "--access-logfile", "-", "--timeout", "120", *gunicorn_options(settings.data_dir),
    ])


SOCKET_PATH_MAX = 100  # bytes: a Unix socket's path must fit in sun_path (108 on Linux, 104 elsewhere)


def gunicorn_options(data_dir: Path) -> list[str]:
    """gunicorn's options that keep its files under ``data_dir``: the control socket there
    (``gunicornc -s DATA_DIR/gunicorn.ctl``), or none when that path is too long for a socket;
    never the shared ``~/.gunicorn/gunicorn.ctl``, which a second server on the machine would take."""
    socket = Path(data_dir).resolve() / "gunicorn.ctl"
    if len(str(socket).encode()) > SOCKET_PATH_MAX:
        return ["--no-control-socket"]
    return ["--control-socket", str(socket)]


def run() -> None:
    main(obj={})


if __name__ == "__main__":
    run()
