"""Flow counts per hour (``flow_hours``, ``camera_flow_hours``): kept exact, read to find a deep page.

Writers of flows add to them, and retention subtracts from them, in the transaction that changes the
flows, after the counters and in ascending key order (hours, then cameras and hours): with the total
counter's row lock taken first, every writer locks rows in one order. An hour whose count reaches 0
loses its row, so the tables hold the hours that have flows and nothing else.

A deep page of a listing the counters count reads the hours from the nearer end of the listing,
in chunks that grow, until the running count passes the page's row number (:func:`summed`,
:func:`passing`); the page then starts inside that hour.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from itertools import groupby
from operator import itemgetter
from typing import Any, Final

from sqlalchemy import Connection, Table, bindparam, delete, update
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.sql import Executable

from .schema import camera_flow_hours, flow_hours

HOUR: Final = 3600
"""Seconds per hour: a flow's hour is ``ts // HOUR`` (floored, negative times too)."""

CameraHours = Mapping[tuple[int, int], int]
"""Flows per (camera id, hour)."""


def add_hours(conn: Connection, added: CameraHours) -> None:
    """Add flows to the hour counts, in the caller's transaction."""
    for table, rows in _rows(added):
        conn.execute(_adding(conn.dialect.name, table), rows)


def subtract_hours(conn: Connection, removed: CameraHours) -> None:
    """Count deleted flows off the hour counts, in the caller's transaction; empty hours go."""
    for table, rows in _rows(removed):
        conn.execute(_subtracting(table), rows)
        conn.execute(_dropping_empty(table), [{k: v for k, v in row.items() if k != "n"} for row in rows])


def summed(streams: list[Iterator[tuple[int, int]]], *, newest: bool) -> Iterator[tuple[int, int]]:
    """(hour, flows) of several streams ordered by hour (descending when ``newest``), merged in that
    order and summed per hour."""
    if len(streams) == 1:  # nothing to merge or sum: the stream as it is
        yield from streams[0]
        return
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


def _rows(changes: CameraHours) -> list[tuple[Table, list[dict[str, int]]]]:
    """The parameters for each table, in ascending key order (the lock order)."""
    by_hour: Counter[int] = Counter()
    for (_, hour), n in changes.items():
        by_hour[hour] += n
    hours = [{"b_hour": hour, "n": n} for hour, n in sorted(by_hour.items()) if n]
    cameras = [
        {"b_camera": camera_id, "b_hour": hour, "n": n}
        for (camera_id, hour), n in sorted(changes.items())
        if n
    ]
    return [(table, rows) for table, rows in ((flow_hours, hours), (camera_flow_hours, cameras)) if rows]


def _key(table: Table) -> dict[str, str]:
    """The parameter name of each primary key column of an hour table."""
    names = {"camera_id": "b_camera", "hour": "b_hour"}
    return {column.name: names[column.name] for column in table.primary_key}


@cache
def _adding(dialect: str, table: Table) -> Executable:
    """An upsert that adds ``n`` to a row's flows, or inserts the row with ``n``."""
    values: dict[str, Any] = {column: bindparam(name) for column, name in _key(table).items()}
    values["flows"] = bindparam("n")
    columns = list(_key(table))
    if dialect == "sqlite":
        lite = sqlite.insert(table).values(values)
        return lite.on_conflict_do_update(
            index_elements=columns, set_={"flows": table.c.flows + lite.excluded.flows}
        )
    if dialect == "postgresql":
        pg = postgresql.insert(table).values(values)
        return pg.on_conflict_do_update(
            index_elements=columns, set_={"flows": table.c.flows + pg.excluded.flows}
        )
    # MySQL and MariaDB.
    my = mysql.insert(table).values(values)
    return my.on_duplicate_key_update(flows=table.c.flows + my.inserted.flows)


@cache
def _subtracting(table: Table) -> Executable:
    where = [table.c[column] == bindparam(name) for column, name in _key(table).items()]
    return update(table).where(*where).values(flows=table.c.flows - bindparam("n"))


@cache
def _dropping_empty(table: Table) -> Executable:
    where = [table.c[column] == bindparam(name) for column, name in _key(table).items()]
    return delete(table).where(*where, table.c.flows == 0)
