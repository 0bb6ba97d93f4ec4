from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seedata_core.errors import FieldError, ValidationFailed
from seedata_core.validation import Checker, as_integer, label


def errors_of(body: dict[str, Any]) -> list[FieldError]:
    check = Checker(body)
    check.integer("camera_id")
    check.integer("capture_delay", default=0, minimum=0, maximum=3000)
    check.integer("interval_between_retries", default=500, minimum=500, maximum=1500)
    with pytest.raises(ValidationFailed) as info:
        check.done()
    return info.value.errors


def test_labels() -> None:
    assert label("camera_id") == "Camera Id"
    assert label("interval_between_retries") == "Interval Between Retries"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, [("camera_id", "Camera Id cannot be blank.")]),
        ({"camera_id": ""}, [("camera_id", "Camera Id cannot be blank.")]),
        ({"camera_id": None}, [("camera_id", "Camera Id cannot be blank.")]),
        ({"camera_id": True}, [("camera_id", "Camera Id must be an integer.")]),
        ({"camera_id": 2.5}, [("camera_id", "Camera Id must be an integer.")]),
        ({"camera_id": "abc"}, [("camera_id", "Camera Id must be an integer.")]),
        (
            {"camera_id": 1, "capture_delay": 3001},
            [("capture_delay", "Capture Delay must be no greater than 3000.")],
        ),
        (
            {"camera_id": "1", "capture_delay": "-1", "interval_between_retries": 499},
            [
                ("capture_delay", "Capture Delay must be no less than 0."),
                ("interval_between_retries", "Interval Between Retries must be no less than 500."),
            ],
        ),
        (
            {"camera_id": 1, "capture_delay": "9" * 4000},
            [("capture_delay", "Capture Delay must be no greater than 3000.")],
        ),
    ],
)
def test_messages(body: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert [(e.field, e.message) for e in errors_of(body)] == expected


def test_valid_body_passes_with_defaults() -> None:
    check = Checker({"camera_id": "7", "capture_delay": 2.0})
    assert check.integer("camera_id") == 7
    assert check.integer("capture_delay", default=0, minimum=0, maximum=3000) == 2
    assert check.integer("max_retries", default=3, minimum=0, maximum=5) == 3
    check.done()


def test_strings() -> None:
    check = Checker({"email": "  ", "password": 5})
    check.string("email")
    check.string("password")
    with pytest.raises(ValidationFailed) as info:
        check.done()
    assert [e.message for e in info.value.errors] == ["Email cannot be blank.", "Password must be a string."]


@given(st.integers())
def test_integers_and_their_strings_agree(n: int) -> None:
    assert as_integer(n) == n
    if abs(n) < 10**30:
        assert as_integer(str(n)) == n
