"""Display time zone: flows are stored in UTC and shown, and filtered, in the configured zone.

The API's timestamps are ``YYYY-MM-DD HH:MM:SS`` strings with one-second resolution.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError

DISPLAY_FORMAT = "%Y-%m-%d %H:%M:%S"
# The display format, or its date alone. Checked by a regular expression and read by fromisoformat,
# both in C: strptime costs ~10 us a call, and imports read one timestamp per flow.
_DISPLAY_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?: [0-9]{2}:[0-9]{2}:[0-9]{2})?")


class DisplayZone:
    """Formats UTC times for display and reads display-zone strings back into UTC.

    ``name=None`` means the machine's local zone, as the C library knows it (DST included).
    """

    def __init__(self, name: str | None = None) -> None:
        self.name = name
        self._zone: tzinfo | None
        if name is None:
            self._zone = None
        else:
            try:
                self._zone = UTC if name.upper() == "UTC" else ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ConfigError(f"unknown time zone {name!r}") from exc
        # Formatting is on every API row: cache per epoch second.
        self.format_epoch = lru_cache(maxsize=4096)(self._format_epoch)

    def _format_epoch(self, epoch: int) -> str:
        if self._zone is None:
            return datetime.fromtimestamp(epoch).strftime(DISPLAY_FORMAT)
        return datetime.fromtimestamp(epoch, self._zone).strftime(DISPLAY_FORMAT)

    def format(self, moment: datetime) -> str:
        """``moment`` (aware) as a display string."""
        return self.format_epoch(int(moment.timestamp()))

    def to_utc(self, local: datetime) -> datetime:
        """A naive display-zone time as aware UTC (an ambiguous DST hour takes its first occurrence)."""
        if self._zone is None:
            return datetime.fromtimestamp(local.timestamp(), UTC)
        if self._zone is UTC:  # no conversion: imports parse a million of these a minute
            return local.replace(tzinfo=UTC)
        return local.replace(tzinfo=self._zone).astimezone(UTC)

    def parse(self, text: str) -> datetime:
        """A ``YYYY-MM-DD HH:MM:SS`` or ``YYYY-MM-DD`` display string as aware UTC.

        Raises ``ValueError`` when the text is malformed.
        """
        if _DISPLAY_TEXT.fullmatch(text) is None:
            raise ValueError(f"not a timestamp: {text!r}")
        return self.to_utc(datetime.fromisoformat(text))


def utc_now() -> datetime:
    """Now, aware UTC, truncated to whole seconds as stored."""
    return datetime.now(UTC).replace(microsecond=0)


def from_epoch(epoch: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=epoch)
