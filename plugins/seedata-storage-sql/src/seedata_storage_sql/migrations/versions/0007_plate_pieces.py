"""Plate pieces: how many stored plates hold each piece of one or two characters, the totals of a
``plate like`` that short. Counted from the stored plates, read once.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections import Counter
from itertools import chain
from operator import add
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Spelled out, as in 0006: a revision is a frozen picture of the schema at its time.
PIECE = sa.String(2).with_variant(sa.String(2, collation="C"), "postgresql")
MARIADB_TABLE: dict[str, Any] = {
    f"{dialect}_{option}": value
    for dialect in ("mysql", "mariadb")
    for option, value in (("charset", "utf8mb4"), ("collate", "utf8mb4_nopad_bin"))
}
READ_BATCH = 50_000


def upgrade() -> None:
    pieces = op.create_table(
        "plate_pieces",
        sa.Column("piece", PIECE, nullable=False),
        sa.Column("flows", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("piece", name="pk_plate_pieces"),
        sqlite_with_rowid=False,
        **MARIADB_TABLE,
    )
    counted = _count_pieces()
    if counted:
        op.bulk_insert(pieces, [{"piece": piece, "flows": n} for piece, n in sorted(counted.items())])


def downgrade() -> None:
    op.drop_table("plate_pieces")


def _count_pieces() -> Counter[str]:
    """How many stored plates hold each distinct piece of one or two characters."""
    plates = sa.text("SELECT plate FROM flows WHERE plate IS NOT NULL")
    # Options of this statement alone: the connection's own would stay on for the next ones.
    rows = op.get_bind().execute(plates.execution_options(yield_per=READ_BATCH)).scalars()
    return Counter(chain.from_iterable(_pieces(plate) for plate in rows))


def _pieces(plate: str) -> set[str]:
    found = set(plate)
    found.update(map(add, plate, plate[1:]))
    return found
