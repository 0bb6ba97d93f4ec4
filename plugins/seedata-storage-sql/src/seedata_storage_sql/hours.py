"""Flow counts per hour (``flow_hours``, ``camera_flow_hours``): kept exact, read to find a deep page.

Writers of flows add to them, and retention subtracts from them, in the transaction that changes the
flows, after the counters and in ascending key order (hours, then cameras and hours): with the total
counter's row lock taken first, every writer locks rows in one order. An hour whose count reaches 0
loses its row, so the tables hold the hours that have flows and nothing else (:mod:`.tallies`).

A deep page of a listing the counters count reads the hours from the nearer end of the listing,
in chunks that grow, until the running count passes the page's row number (:func:`passing`); the
page then starts inside that hour. The database sums each chunk of one stream of hours; several
cameras' hours are read row by row and merged (:func:`summed`).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from itertools import groupby
from operator import itemgetter
from typing import Final

from sqlalchemy import Connection, Table

from . import tallies
from .schema import camera_flow_hours, flow_hours

HOUR: Final = 3600
"""Seconds per hour: a flow's hour is ``ts // HOUR`` (floored, negative times too)."""

CameraHours = Mapping[tuple[int, int], int]
"""Flows per (camera id, hour)."""


def subtract_hours(conn: Connection, removed: CameraHours) -> None:
    """Count deleted flows off the hour counts, in the caller's transaction; empty hours go."""
    for table, rows in hour_changes(removed):
        tallies.subtract(conn, table, rows)


def summed(streams: list[Iterator[tuple[int, int]]], *, newest: bool) -> Iterator[tuple[int, int]]:
    """(hour, flows) of several streams ordered by hour (descending when ``newest``), merged in that
    order and summed per hour."""
    merged = heapq.merge(*streams, key=itemgetter(0), reverse=newest)
    for hour, rows in groupby(merged, key=itemgetter(0)):
        yield hour, sum(flows for _, flows in rows)


def passing(hours: Iterable[tuple[int, int]], row: int) -> tuple[int, int, int] | None:
    """The hour that holds row number ``row`` (from 0) of the flows counted by ``hours``, in their
    order: (hour, flows in the hours before it, its own flows); ``None`` if they hold fewer rows.

    Reads ``hours`` no further than that hour.
    """
    before = 0
    for hour, flows in hours:
        if before + flows > row:
            return hour, before, flows
        before += flows
    return None


def hour_changes(changes: CameraHours) -> list[tuple[Table, tallies.Changes]]:
    """The parameters for each table, in ascending key order (the lock order)."""
    by_hour: Counter[int] = Counter()
    for (_, hour), n in changes.items():
        by_hour[hour] += n
    hours: tallies.Changes = [{"k_hour": hour, "n": n} for hour, n in sorted(by_hour.items()) if n]
    cameras: tallies.Changes = [
        {"k_camera_id": camera_id, "k_hour": hour, "n": n}
        for (camera_id, hour), n in sorted(changes.items())
        if n
    ]
    return [(table, rows) for table, rows in ((flow_hours, hours), (camera_flow_hours, cameras)) if rows]
