"""``python -m indexer`` is the ``kb`` command."""

from indexer.cli import run

run()
