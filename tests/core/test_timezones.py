from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seedata_core.errors import ConfigError
from seedata_core.timezones import DisplayZone


def test_round_trip_in_a_named_zone() -> None:
    zone = DisplayZone("America/Sao_Paulo")
    moment = zone.parse("2025-02-08 22:52:46")
    assert moment == datetime(2025, 2, 9, 1, 52, 46, tzinfo=UTC)
    assert zone.format(moment) == "2025-02-08 22:52:46"


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)))
def test_every_display_string_reads_back_as_its_moment(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    zone = DisplayZone("UTC")
    assert zone.parse(f"{moment:%Y-%m-%d %H:%M:%S}".zfill(19)) == moment.replace(tzinfo=UTC)
    assert zone.parse(f"{moment:%Y-%m-%d}".zfill(10)) == datetime(
        moment.year, moment.month, moment.day, tzinfo=UTC
    )


def test_date_only_means_midnight() -> None:
    assert DisplayZone("UTC").parse("2024-11-18") == datetime(2024, 11, 18, tzinfo=UTC)


def test_dst_gap_and_overlap_do_not_fail() -> None:
    zone = DisplayZone("Europe/Berlin")
    # A time in the spring-forward gap reads as the same instant as one hour later, never as an error.
    assert zone.parse("2025-03-30 02:30:00") == zone.parse("2025-03-30 03:30:00")
    assert zone.format(zone.parse("2025-10-26 02:30:00")) == "2025-10-26 02:30:00"


def test_local_zone_round_trip() -> None:
    zone = DisplayZone()
    assert zone.format(zone.parse("2025-06-01 12:00:00")) == "2025-06-01 12:00:00"


@pytest.mark.parametrize(
    "text",
    [
        "2025-02-30 00:00:00",
        "2025-02-08T22:52:46",
        "20250208",
        "",
        "2025-2-8",
        "2025-02-08 22:52",
        "2025-02-08 22:52:46.5",
        "2025-02-08 22:52:46+00:00",
        "2025-W06-6",
        "2025-02-08 ２2:52:46",
    ],
)
def test_malformed(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        DisplayZone("UTC").parse(text)


def test_unknown_zone() -> None:
    with pytest.raises(ConfigError):
        DisplayZone("Nowhere/Land")
