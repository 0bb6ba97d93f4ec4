"""Plate trigrams: ``plate_grams``, the index behind ``plate like``, filled for the stored flows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Spelled out, as in 0001: a revision is a frozen picture of the schema at its time.
FlowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MARIADB_TABLE: dict[str, Any] = {
    f"{dialect}_{option}": value
    for dialect in ("mysql", "mariadb")
    for option, value in (("charset", "utf8mb4"), ("collate", "utf8mb4_nopad_bin"))
}
GRAM = sa.String(3).with_variant(sa.String(3, collation="C"), "postgresql")
PLATE_LENGTH = 64
BATCH = 50_000
"""Flow ids per backfill statement: bounded statements, and progress that a crash keeps."""


def upgrade() -> None:
    op.create_table(
        "plate_grams",
        sa.Column("gram", GRAM, nullable=False),
        sa.Column("flow_id", FlowId, nullable=False, autoincrement=False),
        sa.ForeignKeyConstraint(
            ["flow_id"], ["flows.id"], name="fk_plate_grams_flow_id_flows", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("gram", "flow_id", name="pk_plate_grams"),
        sqlite_with_rowid=False,
        **MARIADB_TABLE,
    )
    op.create_index("ix_plate_grams_flow_id", "plate_grams", ["flow_id"])
    _backfill()


def _backfill() -> None:
    """Every distinct trigram of every stored plate, in SQL, a range of flow ids at a time."""
    bind = op.get_bind()
    # Characters, not bytes: MariaDB's LENGTH counts bytes.
    length = "length" if bind.dialect.name in ("sqlite", "postgresql") else "char_length"
    positions = " UNION ALL ".join(f"SELECT {n} AS n" for n in range(1, PLATE_LENGTH - 1))
    fill = sa.text(
        "INSERT INTO plate_grams (gram, flow_id) "
        "SELECT DISTINCT substr(f.plate, p.n, 3), f.id "
        f"FROM flows f JOIN ({positions}) p ON p.n + 2 <= {length}(f.plate) "
        "WHERE f.plate IS NOT NULL AND f.id >= :low AND f.id < :high"
    )
    top = bind.execute(sa.text("SELECT max(id) FROM flows")).scalar()
    if top is None:
        return
    sqlite = bind.dialect.name == "sqlite"
    saved = 0
    if sqlite:  # the grams land all over their index: a larger page cache saves rereading it
        saved = int(bind.exec_driver_sql("PRAGMA cache_size").scalar_one())
        bind.exec_driver_sql("PRAGMA cache_size = -262144")
    for low in range(0, int(top) + 1, BATCH):
        bind.execute(fill, {"low": low, "high": low + BATCH})
    if sqlite:
        bind.exec_driver_sql(f"PRAGMA cache_size = {saved}")
    if bind.dialect.name == "postgresql":
        # Statistics now, not when autovacuum comes: without them the planner walks the time
        # index past every flow rather than look up a gram's few.
        bind.exec_driver_sql("ANALYZE plate_grams")


def downgrade() -> None:
    op.drop_table("plate_grams")
