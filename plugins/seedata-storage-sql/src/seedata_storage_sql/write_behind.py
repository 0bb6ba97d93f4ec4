"""Writes that run on a thread of their own while the caller makes the next one.

An import spends about half its time waiting for the database server to store a batch, and the
other half in Python, reading and preparing the next. On PostgreSQL and MariaDB the wait releases
the GIL, so with the writes on a thread the two halves overlap, and the server works on its own
core meanwhile. SQLite runs in this process and releases the GIL around each row it steps; a
thread beside it would hand the GIL back and forth at every row, so its writes stay inline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def written_behind(writes: Iterable[Callable[[], T]], *, inline: bool = False) -> Iterator[T]:
    """Run each of ``writes`` in order, one at a time, and yield its result.

    The next write is taken from ``writes`` (made) while the one before runs on a worker thread,
    and starts only once that one has ended, so a write that fails stops those after it. When
    making a write fails, the one before it still ends, and its error, if it has one, is raised
    first: it is the earlier. With ``inline`` every write runs in the caller's thread.
    """
    if inline:
        for write in writes:
            yield write()
        return
    running: Future[T] | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="seedata-write") as worker:
        try:
            for write in writes:
                if running is not None:
                    ended, running = running, None
                    yield ended.result()
                running = worker.submit(write)
            if running is not None:
                ended, running = running, None
                yield ended.result()
        except BaseException:
            if running is not None:
                running.result()
            raise
