"""Request body rules with the original framework's messages (SPEC §1.1).

A :class:`Checker` reads fields from a decoded JSON object and collects the first error per field;
:meth:`Checker.done` raises :class:`ValidationFailed` with all of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import FieldError, ValidationFailed

_INTEGER = re.compile(r"[+-]?[0-9]+")
# Longer digit strings are out of any range we accept; don't build huge ints for them.
_MAX_DIGITS = 30
_HUGE: int = 10**_MAX_DIGITS


def label(field: str) -> str:
    """``capture_delay`` -> ``Capture Delay``: the framework's generated attribute label."""
    return " ".join(word.capitalize() for word in field.split("_"))


def _blank(value: object) -> bool:
    return value is None or value in ([], {}) or (isinstance(value, str) and not value.strip())


def as_integer(value: object) -> int | None:
    """The integer a JSON value stands for (numbers, integral floats, numeric strings), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            return None
        return int(max(-_HUGE, min(_HUGE, value)))
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.fullmatch(text):
            if len(text.lstrip("+-").lstrip("0")) > _MAX_DIGITS:
                return -_HUGE if text.startswith("-") else _HUGE
            return int(text)
    return None


class Checker:
    """Reads and checks the fields of one request body."""

    def __init__(self, body: Mapping[str, Any]) -> None:
        self.body = body
        self.errors: list[FieldError] = []

    def _fail(self, field: str, message: str) -> None:
        if not any(error.field == field for error in self.errors):
            self.errors.append(FieldError(field=field, message=message))

    def string(self, field: str, *, max_length: int = 255) -> str:
        """A required string field."""
        value = self.body.get(field)
        if _blank(value):
            self._fail(field, f"{label(field)} cannot be blank.")
            return ""
        if not isinstance(value, str):
            self._fail(field, f"{label(field)} must be a string.")
            return ""
        if len(value) > max_length:
            self._fail(field, f"{label(field)} should contain at most {max_length} characters.")
            return ""
        return value

    def integer(
        self,
        field: str,
        *,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        """An integer field; required when ``default`` is ``None``."""
        value = self.body.get(field)
        if _blank(value):
            if default is None:
                self._fail(field, f"{label(field)} cannot be blank.")
                return 0
            return default
        number = as_integer(value)
        if number is None:
            self._fail(field, f"{label(field)} must be an integer.")
            return 0
        if minimum is not None and number < minimum:
            self._fail(field, f"{label(field)} must be no less than {minimum}.")
        elif maximum is not None and number > maximum:
            self._fail(field, f"{label(field)} must be no greater than {maximum}.")
        return number

    def done(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)
