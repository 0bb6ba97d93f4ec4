"""Plate trigrams: the pieces that let ``plate like`` find its few flows by index (see :mod:`.schema`).

Writers of flows call :func:`write_grams` in the transaction that writes the plates, so the grams
of every stored plate are there whenever the plate is; a deleted flow's grams go with it (the
foreign key cascades).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, insert

from .schema import GRAM_LENGTH, plate_grams


def grams(text: str) -> list[str]:
    """The distinct pieces of ``GRAM_LENGTH`` characters of ``text``, in order of first appearance."""
    pieces = (text[i : i + GRAM_LENGTH] for i in range(len(text) - GRAM_LENGTH + 1))
    return list(dict.fromkeys(pieces))


def gram_rows(flows: Iterable[tuple[int, str | None]]) -> list[dict[str, Any]]:
    """The ``plate_grams`` rows of flows given as ``(id, stored plate)``."""
    return [
        {"gram": gram, "flow_id": flow_id}
        for flow_id, plate in flows
        if plate is not None
        for gram in grams(plate)
    ]


def write_grams(conn: Connection, flows: Iterable[tuple[int, str | None]], *, replace: bool = False) -> None:
    """Insert the grams of these flows in the caller's transaction (``replace``: drop their old ones)."""
    flows = list(flows)
    if replace:
        conn.execute(delete(plate_grams).where(plate_grams.c.flow_id.in_([flow_id for flow_id, _ in flows])))
    rows = gram_rows(flows)
    if not rows:
        return
    compiled = insert(plate_grams).compile(dialect=conn.dialect)
    order = compiled.positiontup
    # The driver's executemany directly: SQLAlchemy's per-row handling costs more than the insert.
    params: list[Any] = rows if order is None else [tuple(row[name] for name in order) for row in rows]
    conn.exec_driver_sql(compiled.string, params)
