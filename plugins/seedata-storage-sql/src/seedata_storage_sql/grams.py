"""Plate trigrams: the pieces that let ``plate like`` find its few flows by index (see :mod:`.schema`).

Writers of flows call :func:`write_grams` in the transaction that writes the plates, and
:func:`delete_grams` in the one that deletes or replaces them, so the grams of every stored plate
are there whenever the plate is, and no others. A flow's timestamp never changes, so neither does a
gram's key. They are deleted by their key, made from the flow's timestamp and plate:
``plate_grams`` has no index on ``flow_id`` (nor a foreign key, which would need one), as each of
its writes would cost as much as the key's (PostgreSQL imports 12,500 -> 19,500 flows/s without).
A search by a three-character value counts its flows by their grams alone (:mod:`.plate_search`), so
a gram without its flow would be counted: every writer keeps them in step, and migrations drop any.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import Connection, bindparam, delete

from .bulk import insert_rows
from .schema import GRAM_LENGTH, plate_grams


def grams(text: str) -> list[str]:
    """The distinct pieces of ``GRAM_LENGTH`` characters of ``text``, in order of first appearance."""
    pieces = (text[i : i + GRAM_LENGTH] for i in range(len(text) - GRAM_LENGTH + 1))
    return list(dict.fromkeys(pieces))


def write_grams(conn: Connection, flows: Iterable[tuple[int, int, str | None]]) -> None:
    """Insert the grams of flows given as ``(id, ts, stored plate)`` in the caller's transaction."""
    # Sorted as the primary key: each index page the batch touches is touched once, in order.
    insert_rows(conn, plate_grams, sorted(_rows(flows)))


def delete_grams(conn: Connection, flows: Iterable[tuple[int, int, str | None]]) -> None:
    """Delete the grams of flows given as ``(id, ts, stored plate)`` in the caller's transaction."""
    rows = [{"gram": gram, "ts": ts, "flow_id": flow_id} for gram, ts, flow_id in _rows(flows)]
    if rows:
        conn.execute(_DELETE, rows)


_DELETE = delete(plate_grams).where(
    plate_grams.c.gram == bindparam("gram"),
    plate_grams.c.ts == bindparam("ts"),
    plate_grams.c.flow_id == bindparam("flow_id"),
)


def _rows(flows: Iterable[tuple[int, int, str | None]]) -> Iterator[tuple[str, int, int]]:
    return ((gram, ts, flow_id) for flow_id, ts, plate in flows if plate is not None for gram in grams(plate))
