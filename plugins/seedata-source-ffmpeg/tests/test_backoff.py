"""The reconnect policy: capped exponential backoff."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from seedata_source_ffmpeg import Backoff


@pytest.mark.parametrize(
    ("backoff", "failures", "delay"),
    [
        (Backoff(), 0, 0.25),
        (Backoff(), 1, 0.5),
        (Backoff(), 2, 1.0),
        (Backoff(), 3, 2.0),
        (Backoff(), 4, 2.0),
        (Backoff(), 10_000, 2.0),
        (Backoff(initial=1, factor=3, cap=20), 2, 9.0),
        (Backoff(initial=1, factor=3, cap=20), 3, 20.0),
        (Backoff(initial=0.5, factor=1, cap=5), 50, 0.5),
        (Backoff(initial=1, factor=1e300, cap=60), 5, 60.0),
    ],
)
def test_delay_table(backoff: Backoff, failures: int, delay: float) -> None:
    assert backoff.delay(failures) == pytest.approx(delay)


backoffs = st.builds(
    lambda initial, factor, extra: Backoff(initial=initial, factor=factor, cap=initial + extra),
    st.floats(0.001, 10),
    st.floats(1, 100),
    st.floats(0, 100),
)


@given(backoffs, st.integers(0, 10_000))
def test_delay_grows_and_stays_between_initial_and_cap(backoff: Backoff, failures: int) -> None:
    delay = backoff.delay(failures)
    assert backoff.initial <= delay <= backoff.cap
    assert backoff.delay(failures + 1) >= delay


@pytest.mark.parametrize(
    "kwargs", [{"initial": 0}, {"initial": -1}, {"factor": 0.5}, {"initial": 3, "cap": 2}]
)
def test_nonsense_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="backoff needs"):
        Backoff(**kwargs)


def test_negative_failures_are_refused() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        Backoff().delay(-1)
