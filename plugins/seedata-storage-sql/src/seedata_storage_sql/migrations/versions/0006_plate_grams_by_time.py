"""Plate grams keyed by ``(gram, ts, flow_id)``: each gram's flows in the listing's order.

The table is made again from the old one and the flows' timestamps (a gram whose flow is gone is
left behind). PostgreSQL fills a table without a key and then builds it, one sort, rather than
inserting tens of millions of rows into an index; SQLite and MariaDB store the table as its key,
so they get the rows in key order. At 10M flows (45M grams) this takes minutes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Spelled out, as in 0005: a revision is a frozen picture of the schema at its time.
FlowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GRAM = sa.String(3).with_variant(sa.String(3, collation="C"), "postgresql")
MARIADB_TABLE: dict[str, Any] = {
    f"{dialect}_{option}": value
    for dialect in ("mysql", "mariadb")
    for option, value in (("charset", "utf8mb4"), ("collate", "utf8mb4_nopad_bin"))
}


def upgrade() -> None:
    _rebuild(
        ("gram", "ts", "flow_id"),
        "SELECT g.gram, f.ts, g.flow_id FROM plate_grams g JOIN flows f ON f.id = g.flow_id",
    )


def downgrade() -> None:
    _rebuild(("gram", "flow_id"), "SELECT gram, flow_id FROM plate_grams")


def _rebuild(key: tuple[str, ...], rows: str) -> None:
    """Make ``plate_grams`` again with the primary key ``key``, filled from ``rows`` of the old one."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    columns: list[sa.Column[Any]] = [sa.Column("gram", GRAM, nullable=False)]
    if "ts" in key:
        columns.append(sa.Column("ts", sa.BigInteger, nullable=False, autoincrement=False))
    columns.append(sa.Column("flow_id", FlowId, nullable=False, autoincrement=False))
    constraints = [] if postgresql else [sa.PrimaryKeyConstraint(*key, name="pk_plate_grams")]
    op.create_table("plate_grams_new", *columns, *constraints, sqlite_with_rowid=False, **MARIADB_TABLE)
    order = "" if postgresql else " ORDER BY " + ", ".join(key)
    op.execute(f"INSERT INTO plate_grams_new ({', '.join(key)}) {rows}{order}")
    op.drop_table("plate_grams")
    op.rename_table("plate_grams_new", "plate_grams")
    if postgresql:
        op.create_primary_key("pk_plate_grams", "plate_grams", list(key))
        # Statistics now, not when autovacuum comes (see 0003).
        op.execute("ANALYZE plate_grams")
