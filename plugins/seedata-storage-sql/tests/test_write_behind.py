"""Writes behind the making of the next: order, overlap, and which error wins."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from seedata_storage_sql.write_behind import written_behind


def test_writes_run_in_order_on_another_thread_while_the_next_is_made() -> None:
    log: list[str] = []
    writing = threading.Event()

    def write(n: int) -> Callable[[], int]:
        def run() -> int:
            assert threading.current_thread() is not threading.main_thread()
            writing.set()
            log.append(f"write {n}")
            return n * 10

        return run

    def writes() -> Iterator[Callable[[], int]]:
        for n in range(3):
            if n:
                # The write before this one runs while this one is made.
                assert writing.wait(5)
                writing.clear()
            log.append(f"make {n}")
            yield write(n)

    assert list(written_behind(writes())) == [0, 10, 20]
    assert [entry for entry in log if entry.startswith("write")] == ["write 0", "write 1", "write 2"]


def test_inline_writes_run_in_the_callers_thread() -> None:
    threads: list[threading.Thread] = []
    writes = [lambda: threads.append(threading.current_thread()) or 1] * 2
    assert list(written_behind(writes, inline=True)) == [1, 1]
    assert threads == [threading.main_thread()] * 2


def test_a_failed_write_stops_the_writes_after_it() -> None:
    ran: list[int] = []

    def write(n: int) -> Callable[[], int]:
        def run() -> int:
            ran.append(n)
            if n == 1:
                raise LookupError("write 1")
            return n

        return run

    results: list[int] = []
    with pytest.raises(LookupError, match="write 1"):
        results.extend(written_behind(write(n) for n in range(4)))
    assert results == [0]
    assert ran == [0, 1]


def test_the_earlier_error_wins_when_making_the_next_write_fails() -> None:
    def fails() -> int:
        raise LookupError("the write")

    def writes() -> Iterator[Callable[[], int]]:
        yield fails
        raise ValueError("making the next")

    with pytest.raises(LookupError, match="the write"):
        list(written_behind(writes()))


def test_an_error_making_a_write_waits_for_the_one_before() -> None:
    done = threading.Event()

    def slow() -> int:
        assert not done.wait(0.2)
        done.set()
        return 1

    def writes() -> Iterator[Callable[[], int]]:
        yield slow
        raise ValueError("making the next")

    with pytest.raises(ValueError, match="making the next"):
        list(written_behind(writes()))
    assert done.is_set()
