"""The plate index behind ``plate like``: trigrams and the counts of shorter pieces (see :mod:`.schema`).

Writers of flows call :func:`index_plates` in the transaction that writes the plates, and
:func:`unindex_plates` in the one that deletes or replaces them, with the total counter's row lock
taken first (the lock order of :mod:`.counting`). The grams of every stored plate are then there
whenever the plate is, and no others, and ``plate_piece_days`` counts exactly the stored plates of
each day that hold each piece of one or two characters.

A flow's timestamp never changes, so neither does a gram's key. Grams are deleted by their key,
made from the flow's timestamp and plate: ``plate_grams`` has no index on ``flow_id`` (nor a
foreign key, which would need one), as each of its writes would cost as much as the key's
(PostgreSQL imports 12,500 -> 19,500 flows/s without). A search by a three-character value counts
its flows by their grams alone (:mod:`.plate_search`), so a gram without its flow would be counted:
every writer keeps them in step, and migrations drop any.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from itertools import chain
from operator import add, itemgetter
from typing import NamedTuple

from sqlalchemy import Connection, Dialect, bindparam, delete

from . import tallies
from .bulk import BulkRows, bulk_rows, insert_bulk
from .schema import DAY, GRAM_LENGTH, PIECE_LENGTH, plate_grams, plate_piece_days

Plates = Iterable[tuple[int, int, str | None]]
"""Flows as ``(id, ts, stored plate)``."""

TimedPlates = Iterable[tuple[int, str | None]]
"""Flows as ``(ts, stored plate)``."""

# The cuts of grams() and pieces() are written out for these lengths.
assert (GRAM_LENGTH, PIECE_LENGTH) == (3, 2), "grams() and pieces() cut 3 and 1-2 characters"


def grams(text: str) -> list[str]:
    """The distinct pieces of ``GRAM_LENGTH`` characters of ``text``, in order of first appearance."""
    # Character by character in C (map over shifted copies): imports cut millions of these a minute.
    return list(dict.fromkeys(map(add, map(add, text, text[1:]), text[2:])))


def pieces(text: str) -> set[str]:
    """The distinct pieces of ``text`` that ``plate_piece_days`` counts: of one to ``PIECE_LENGTH``
    characters."""
    found = set(text)
    found.update(map(add, text, text[1:]))
    return found


class PlateRows(NamedTuple):
    """What indexing some flows' plates writes: their gram rows and their pieces' counts."""

    grams: BulkRows
    pieces: tallies.Changes


def plate_rows(dialect: Dialect, flows: Plates) -> PlateRows:
    """The rows that index flows' plates, made apart from writing them: imports make the next
    batch's while the database stores the last."""
    flows = list(flows)
    # Grouped by gram, the key's first column: each index page the batch touches is touched once,
    # in order. Sorting on the gram alone takes 40 % of the time of sorting on the whole key.
    grams = bulk_rows(dialect, plate_grams, sorted(_gram_rows(flows), key=itemgetter(0)))
    return PlateRows(grams, piece_changes((ts, plate) for _, ts, plate in flows))


def index_plates(conn: Connection, flows: Plates | PlateRows) -> None:
    """Add the grams and pieces of flows' plates, in the caller's transaction."""
    rows = flows if isinstance(flows, PlateRows) else plate_rows(conn.dialect, flows)
    insert_bulk(conn, rows.grams)
    tallies.add(conn, plate_piece_days, rows.pieces)


def count_pieces(conn: Connection, plates: TimedPlates) -> None:
    """Add the pieces of stored plates to their counts, in the caller's transaction; the writer
    adds the plates' grams itself."""
    tallies.add(conn, plate_piece_days, piece_changes(plates))


def unindex_plates(conn: Connection, flows: Plates) -> None:
    """Delete the grams and pieces of flows' plates, in the caller's transaction."""
    flows = list(flows)
    rows = [{"gram": gram, "ts": ts, "flow_id": flow_id} for gram, ts, flow_id in _gram_rows(flows)]
    if rows:
        conn.execute(_DELETE, rows)
    tallies.subtract(conn, plate_piece_days, piece_changes((ts, plate) for _, ts, plate in flows))


_DELETE = delete(plate_grams).where(
    plate_grams.c.gram == bindparam("gram"),
    plate_grams.c.ts == bindparam("ts"),
    plate_grams.c.flow_id == bindparam("flow_id"),
)


def _gram_rows(flows: Plates) -> Iterator[tuple[str, int, int]]:
    return ((gram, ts, flow_id) for flow_id, ts, plate in flows if plate is not None for gram in grams(plate))


def piece_changes(plates: TimedPlates) -> tallies.Changes:
    """The counts to add for the pieces of these plates, per day, in key order (the lock order)."""
    by_day: defaultdict[int, list[str]] = defaultdict(list)
    for ts, plate in plates:
        if plate is not None:
            by_day[ts // DAY].append(plate)
    # Counted a day at a time, in C: an import batch counts the pieces of tens of thousands of plates.
    counted = {day: Counter(chain.from_iterable(map(pieces, held))) for day, held in by_day.items()}
    changes = [(piece, day, n) for day, counts in counted.items() for piece, n in counts.items()]
    return [{"k_piece": piece, "k_day": day, "n": n} for piece, day, n in sorted(changes)]
