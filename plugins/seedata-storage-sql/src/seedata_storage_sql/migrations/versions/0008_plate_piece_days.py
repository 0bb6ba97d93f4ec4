"""Plate pieces counted per day: summed, the totals of a ``plate like`` of one or two characters, as
before; read from the nearer end, the day that holds a deep page of one. Counted from the stored
plates, read once; downgrading sums the days.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections import Counter
from operator import add
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Spelled out, as in 0007: a revision is a frozen picture of the schema at its time.
PIECE = sa.String(2).with_variant(sa.String(2, collation="C"), "postgresql")
MARIADB_TABLE: dict[str, Any] = {
    f"{dialect}_{option}": value
    for dialect in ("mysql", "mariadb")
    for option, value in (("charset", "utf8mb4"), ("collate", "utf8mb4_nopad_bin"))
}
DAY = 86_400
READ_BATCH = 50_000
WRITE_BATCH = 10_000


def upgrade() -> None:
    days = op.create_table(
        "plate_piece_days",
        sa.Column("piece", PIECE, nullable=False),
        sa.Column("day", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("flows", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("piece", "day", name="pk_plate_piece_days"),
        sqlite_with_rowid=False,
        **MARIADB_TABLE,
    )
    rows = [
        {"piece": piece, "day": day, "flows": n} for (piece, day), n in sorted(_count_piece_days().items())
    ]
    for start in range(0, len(rows), WRITE_BATCH):
        op.bulk_insert(days, rows[start : start + WRITE_BATCH])
    op.drop_table("plate_pieces")


def downgrade() -> None:
    op.create_table(
        "plate_pieces",
        sa.Column("piece", PIECE, nullable=False),
        sa.Column("flows", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("piece", name="pk_plate_pieces"),
        sqlite_with_rowid=False,
        **MARIADB_TABLE,
    )
    op.execute(
        "INSERT INTO plate_pieces (piece, flows) "
        "SELECT piece, SUM(flows) FROM plate_piece_days GROUP BY piece"
    )
    op.drop_table("plate_piece_days")


def _count_piece_days() -> Counter[tuple[str, int]]:
    """How many stored plates of each day hold each distinct piece of one or two characters."""
    plates = sa.text("SELECT ts, plate FROM flows WHERE plate IS NOT NULL")
    # Options of this statement alone: the connection's own would stay on for the next ones.
    rows = op.get_bind().execute(plates.execution_options(yield_per=READ_BATCH))
    counted: Counter[tuple[str, int]] = Counter()
    for ts, plate in rows:
        day = ts // DAY
        counted.update((piece, day) for piece in _pieces(plate))
    return counted


def _pieces(plate: str) -> set[str]:
    found = set(plate)
    found.update(map(add, plate, plate[1:]))
    return found
