"""Exceptions that core raises and the HTTP and CLI layers translate.

Each carries the message users see; the layers above only choose the status code or exit code.
"""

from __future__ import annotations

import msgspec


class SeedataError(Exception):
    """Base of every error Seedata raises on purpose."""


class FieldError(msgspec.Struct):
    """One failed rule of a request body, in the framework's wording."""

    field: str
    message: str


class ValidationFailed(SeedataError):
    """A request body broke one or more rules; ``errors`` holds the first error per field."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


class FilterError(ValidationFailed):
    """A search filter is malformed; the message is one of SPEC §1.3's."""

    def __init__(self, message: str) -> None:
        super().__init__([FieldError(field="filter", message=message)])
        self.message = message


class NotFound(SeedataError):
    """The named object does not exist."""


class Conflict(SeedataError):
    """The object exists already (a camera alias, a user email)."""


class AuthenticationFailed(SeedataError):
    """Wrong email or password, or an unusable token."""


class Throttled(SeedataError):
    """Too many failed attempts; retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed attempts. Retry after {retry_after} seconds.")
        self.retry_after = retry_after


class CameraNotEnabled(SeedataError):
    """The camera exists but is disabled."""


class NoCurrentImage(SeedataError):
    """The camera has no image newer than the freshness limit."""


class AlprError(SeedataError):
    """The ALPR engine failed (crashed, timed out, answered garbage); not "no plate found"."""


class StorageUnavailable(SeedataError):
    """The storage backend cannot be reached."""


class PluginError(SeedataError):
    """A plugin is missing, duplicated or broken."""


class ConfigError(SeedataError):
    """A setting is unknown or has a bad value."""
