from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seedata_core.auth import LoginThrottle
from seedata_core.errors import Throttled


def fail(throttle: LoginThrottle, address: str, account: str) -> None:
    throttle.check(address, account)
    throttle.record_failure(address, account)


def retry_after(throttle: LoginThrottle, address: str, account: str) -> int:
    with pytest.raises(Throttled) as info:
        throttle.check(address, account)
    return info.value.retry_after


def test_an_account_is_refused_after_its_limit_until_the_oldest_failure_leaves_the_window(
    make_throttle: Callable[..., LoginThrottle], monotonic: Any
) -> None:
    throttle = make_throttle(per_account=3, window=300)
    for _ in range(3):
        fail(throttle, "10.0.0.1", "bob@example.com")
        monotonic.advance(10)
    # Another address, and the email in other case: still the same account.
    assert retry_after(throttle, "10.0.0.2", "BOB@example.com") == 300 - 30
    monotonic.advance(269.5)
    assert retry_after(throttle, "10.0.0.2", "bob@example.com") == 1
    monotonic.advance(0.5)
    throttle.check("10.0.0.2", "bob@example.com")
    throttle.record_failure("10.0.0.2", "bob@example.com")
    assert retry_after(throttle, "10.0.0.3", "bob@example.com") == 10
    throttle.check("10.0.0.3", "carol@example.com")


def test_an_address_is_refused_after_its_limit_across_accounts(
    make_throttle: Callable[..., LoginThrottle], monotonic: Any
) -> None:
    throttle = make_throttle(per_address=4, per_account=100, window=60)
    for i in range(4):
        fail(throttle, "10.0.0.1", f"user{i}@example.com")
    assert retry_after(throttle, "10.0.0.1", "new@example.com") == 60
    throttle.check("10.0.0.2", "new@example.com")


def test_success_clears_the_account_but_not_the_address(
    make_throttle: Callable[..., LoginThrottle],
) -> None:
    throttle = make_throttle(per_address=4, per_account=2, window=60)
    fail(throttle, "10.0.0.1", "bob@example.com")
    fail(throttle, "10.0.0.1", "bob@example.com")
    retry_after(throttle, "10.0.0.1", "bob@example.com")
    throttle.record_success("10.0.0.9", "Bob@Example.com")
    fail(throttle, "10.0.0.1", "bob@example.com")
    throttle.check("10.0.0.1", "bob@example.com")
    throttle.record_success("10.0.0.1", "bob@example.com")
    # Three failures and one success from this address: one more failure and it is at its limit.
    fail(throttle, "10.0.0.1", "alice@example.com")
    retry_after(throttle, "10.0.0.1", "carol@example.com")


def test_attempts_in_progress_count_against_the_limit(
    make_throttle: Callable[..., LoginThrottle], monotonic: Any
) -> None:
    throttle = make_throttle(per_address=100, per_account=3, window=60)
    for _ in range(3):
        throttle.check("10.0.0.1", "bob@example.com")
    retry_after(throttle, "10.0.0.1", "bob@example.com")
    throttle.release("10.0.0.1", "bob@example.com")
    throttle.check("10.0.0.1", "bob@example.com")
    retry_after(throttle, "10.0.0.1", "bob@example.com")
    # Reservations never settled (a crashed worker) expire like failures.
    monotonic.advance(60)
    throttle.check("10.0.0.1", "bob@example.com")


def test_concurrent_attempts_never_exceed_the_limit(make_throttle: Callable[..., LoginThrottle]) -> None:
    throttle = make_throttle(per_address=1000, per_account=5, window=60)
    start = threading.Barrier(32)
    passed: list[bool] = []

    def attempt() -> None:
        start.wait()
        try:
            throttle.check("10.0.0.1", "bob@example.com")
        except Throttled:
            passed.append(False)
            return
        passed.append(True)
        throttle.record_failure("10.0.0.1", "bob@example.com")

    threads = [threading.Thread(target=attempt) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert passed.count(True) == 5
    assert passed.count(False) == 27


def test_memory_is_bounded_and_idle_keys_go_first(
    make_throttle: Callable[..., LoginThrottle], monotonic: Any
) -> None:
    throttle = LoginThrottle(3, 3, 60, clock=monotonic, max_keys=10)
    for i in range(1000):
        fail(throttle, f"10.0.{i // 256}.{i % 256}", f"user{i}@example.com")
    assert throttle.tracked_keys() == 20
    monotonic.advance(61)
    fail(throttle, "10.9.9.9", "last@example.com")
    # The others are out of the window, so they are dropped rather than kept up to the cap.
    assert throttle.tracked_keys() == 2


def test_bad_arguments() -> None:
    for args in ((0, 1, 1), (1, 0, 1), (1, 1, 0)):
        with pytest.raises(ValueError, match="positive"):
            LoginThrottle(*args)


# -- properties against a reference model --------------------------------------------------------

ADDRESSES = ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
ACCOUNTS = ["a@x.org", "A@X.org", "b@x.org", "c@x.org"]

steps = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=40, allow_nan=False),  # seconds before the attempt
        st.sampled_from(ADDRESSES),
        st.sampled_from(ACCOUNTS),
        st.booleans(),  # whether the password was right
        st.booleans(),  # whether a refused client waits exactly Retry-After and tries again
    ),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(
    per_address=st.integers(1, 6),
    per_account=st.integers(1, 4),
    window=st.sampled_from([10.0, 30.0, 60.0, 0.5]),
    steps=steps,
)
def test_throttle_matches_the_sliding_window_model(
    new_clock: Any, per_address: int, per_account: int, window: float, steps: list[Any]
) -> None:
    clock = new_clock(0.0)
    throttle = LoginThrottle(per_address, per_account, window, clock=clock)
    failures: dict[str, list[float]] = {}  # key -> times of failures the model still counts
    history: list[tuple[float, str, str, bool]] = []  # every accepted attempt: (time, address, account, ok)

    def live(key: str, now: float) -> list[float]:
        return [t for t in failures.get(key, []) if t + window > now]

    def expected_retry(keys: list[tuple[str, int]], now: float) -> int | None:
        blocked = [min(live(k, now)) + window for k, limit in keys if len(live(k, now)) >= limit]
        if not blocked:
            return None
        # The fewest whole seconds after which waiting gets the client in.
        return next(s for s in itertools.count(1) if now + s >= max(blocked))

    for wait, address, account, right, patient in steps:
        clock.advance(wait)
        keys = [(f"ip:{address}", per_address), (f"user:{account.lower()}", per_account)]
        expected = expected_retry(keys, clock())
        if expected is None:
            throttle.check(address, account)
        else:
            with pytest.raises(Throttled) as refused:
                throttle.check(address, account)
            assert refused.value.retry_after == expected
            assert 1 <= expected <= math.ceil(window)
            if not patient:
                continue
            clock.advance(expected)
            throttle.check(address, account)  # Retry-After is honest
        history.append((clock(), address, account.lower(), right))
        if right:
            throttle.record_success(address, account)
            failures.pop(f"user:{account.lower()}", None)
        else:
            throttle.record_failure(address, account)
            for key, _limit in keys:
                failures.setdefault(key, []).append(clock())

    # The promise in plain terms: within any window, never more accepted failures than the limit
    # (for an account: counting only those since its last success).
    for when, address, account, _ok in history:
        recent = [h for h in history if h[0] <= when < h[0] + window]
        address_failures = [h for h in recent if h[1] == address and not h[3]]
        assert len(address_failures) <= per_address
        since_success = recent
        for i, h in enumerate(recent):
            if h[2] == account and h[3]:
                since_success = recent[i + 1 :]
        account_failures = [h for h in since_success if h[2] == account and not h[3]]
        assert len(account_failures) <= per_account
