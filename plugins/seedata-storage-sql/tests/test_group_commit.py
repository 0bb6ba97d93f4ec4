"""The leader/follower batcher on its own, with threads: who writes what, and what each caller gets."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest
from seedata_storage_sql import group_commit
from seedata_storage_sql.group_commit import GroupCommit


class Recorder:
    """A ``write`` that records its groups; while ``gate`` is closed it blocks, so callers pile up."""

    def __init__(self) -> None:
        self.groups: list[list[int]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def __call__(self, items: list[int]) -> Sequence[int | BaseException]:
        self.groups.append(list(items))
        self.entered.set()
        self.gate.wait()
        if -1 in items:
            raise OSError("connection lost")
        return [ValueError(f"odd {item}") if item % 2 else item * 10 for item in items]


def run_all(batcher: GroupCommit[int, int], items: list[int]) -> dict[int, int | BaseException]:
    results: dict[int, int | BaseException] = {}

    def call(item: int) -> None:
        try:
            results[item] = batcher.submit(item)
        except BaseException as exc:
            results[item] = exc

    threads = [threading.Thread(target=call, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive(), "a caller waits forever"
    return results


def test_a_lone_caller_writes_its_own_item_at_once() -> None:
    write = Recorder()
    batcher = GroupCommit(write, most=10)
    assert batcher.submit(4) == 40
    with pytest.raises(ValueError, match="odd 3"):
        batcher.submit(3)
    assert write.groups == [[4], [3]]


def test_callers_that_arrive_while_one_writes_are_written_together() -> None:
    write = Recorder()
    batcher = GroupCommit(write, most=4)
    write.gate.clear()
    first = threading.Thread(target=batcher.submit, args=(100,))
    first.start()
    assert write.entered.wait(5)  # the first caller leads and is writing
    waiting = list(range(1, 11))
    results: dict[int, int | BaseException] = {}
    late = threading.Thread(target=lambda: results.update(run_all(batcher, waiting)))
    late.start()
    while len(batcher._waiting) < len(waiting):  # all ten wait behind the leader
        threading.Event().wait(0.001)
    write.gate.set()
    first.join(5)
    late.join(10)
    # Ten waiting callers, at most four per write, in the order they came.
    assert write.groups[0] == [100]
    assert [len(group) for group in write.groups[1:]] == [4, 4, 2]
    assert sorted(item for group in write.groups[1:] for item in group) == waiting
    for item in waiting:
        outcome = results[item]
        if item % 2:
            assert isinstance(outcome, ValueError)
            assert str(outcome) == f"odd {item}"
        else:
            assert outcome == item * 10


def test_a_failed_write_fails_its_group_only_and_the_lead_passes_on() -> None:
    write = Recorder()
    batcher = GroupCommit(write, most=3)
    write.gate.clear()
    first = threading.Thread(target=batcher.submit, args=(0,))
    first.start()
    assert write.entered.wait(5)
    results: dict[int, int | BaseException] = {}
    late = threading.Thread(target=lambda: results.update(run_all(batcher, [-1, 2, 4, 6, 8])))
    late.start()
    while len(batcher._waiting) < 5:
        threading.Event().wait(0.001)
    write.gate.set()
    first.join(5)
    late.join(10)
    failed = next(group for group in write.groups if -1 in group)
    for item in (-1, 2, 4, 6, 8):
        if item in failed:
            assert isinstance(results[item], OSError)
        else:
            assert results[item] == item * 10
    assert batcher.submit(12) == 120  # no leader is left stuck


def test_many_threads_each_get_their_own_result() -> None:
    write = Recorder()
    batcher = GroupCommit(write, most=7)
    items = list(range(0, 400, 2))
    results = run_all(batcher, items)
    assert results == {item: item * 10 for item in items}
    written = [item for group in write.groups for item in group]
    assert sorted(written) == items  # each once
    assert max(len(group) for group in write.groups) <= 7


def test_a_write_that_gives_too_few_outcomes_fails_its_callers() -> None:
    batcher: GroupCommit[int, int] = GroupCommit(lambda items: [], most=2)
    with pytest.raises(RuntimeError, match="0 outcomes for 1 items"):
        batcher.submit(1)


def test_most_must_be_positive() -> None:
    with pytest.raises(ValueError, match="most"):
        GroupCommit(Recorder(), most=0)


class Interrupted(threading.Event):
    """A caller's wake-up on which a Ctrl-C arrives: at once (``when="waiting"``), or just as the
    caller is woken (``when="woken"``)."""

    def __init__(self, when: str) -> None:
        super().__init__()
        self.when = when

    def wait(self, timeout: float | None = None) -> bool:
        if self.when == "woken":
            super().wait(timeout)
        raise KeyboardInterrupt


def interrupting(monkeypatch: pytest.MonkeyPatch, item: int, when: str) -> None:
    """Make the caller of ``item`` be interrupted while it waits."""
    made = group_commit._Waiter.__init__

    def init(self: group_commit._Waiter[int, int], submitted: int) -> None:
        made(self, submitted)
        if submitted == item:
            self.woken = Interrupted(when)

    monkeypatch.setattr(group_commit._Waiter, "__init__", init)


@pytest.mark.parametrize("when", ["waiting", "woken"])
def test_an_interrupted_caller_takes_its_item_back_and_passes_on_the_lead(
    monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    write = Recorder()
    batcher = GroupCommit(write, most=10)
    write.gate.clear()
    leader = threading.Thread(target=batcher.submit, args=(2,))
    leader.start()
    assert write.entered.wait(5)
    interrupting(monkeypatch, 4, when)
    results: dict[int, int | BaseException] = {}
    interrupted = threading.Thread(target=lambda: results.update(run_all(batcher, [4])))
    interrupted.start()
    if when == "waiting":
        interrupted.join(5)  # gone before the leader is done
        assert not interrupted.is_alive()
    else:
        while len(batcher._waiting) < 1:
            time.sleep(0.001)
    # Another caller waits behind the interrupted one, which is handed the lead ("woken") or gone.
    follower = threading.Thread(target=lambda: results.update(run_all(batcher, [6])))
    follower.start()
    while len(batcher._waiting) < (2 if when == "woken" else 1):
        time.sleep(0.001)
    write.gate.set()
    for thread in (leader, interrupted, follower):
        thread.join(10)
        assert not thread.is_alive(), "a caller waits forever"
    assert isinstance(results[4], KeyboardInterrupt)
    assert results[6] == 60
    assert write.groups == [[2], [6]]  # 4 was never written
