"""Plate trigrams: the pieces that let ``plate like`` find its few flows by index (see :mod:`.schema`).

Writers of flows call :func:`write_grams` in the transaction that writes the plates, so the grams
of every stored plate are there whenever the plate is; a deleted flow's grams go with it (the
foreign key cascades).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, delete

from .bulk import insert_rows
from .schema import GRAM_LENGTH, plate_grams


def grams(text: str) -> list[str]:
    """The distinct pieces of ``GRAM_LENGTH`` characters of ``text``, in order of first appearance."""
    pieces = (text[i : i + GRAM_LENGTH] for i in range(len(text) - GRAM_LENGTH + 1))
    return list(dict.fromkeys(pieces))


def write_grams(conn: Connection, flows: Iterable[tuple[int, str | None]], *, replace: bool = False) -> None:
    """Insert the grams of flows given as ``(id, stored plate)`` in the caller's transaction
    (``replace``: drop their old ones first)."""
    flows = list(flows)
    if replace:
        conn.execute(delete(plate_grams).where(plate_grams.c.flow_id.in_([flow_id for flow_id, _ in flows])))
    # Sorted as the primary key: each index page the batch touches is touched once, in order.
    rows = sorted((gram, flow_id) for flow_id, plate in flows if plate is not None for gram in grams(plate))
    insert_rows(conn, plate_grams, rows)
