"""Inter-process locks on files in the data folder (flock: released when the process dies)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kb.errors import Busy


@contextmanager
def file_lock(path: Path, wait: bool = True, what: str = "the index") -> Iterator[None]:
    """Hold an exclusive lock on ``path``; without ``wait``, raise Busy if someone else holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise Busy(f"{what} is busy: {holder} holds {path}; wait for it to finish and try again") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
