"""Plate grams without an index on ``flow_id`` or a foreign key: deleted by their key (see grams.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Spelled out, as in 0003: a revision is a frozen picture of the schema at its time.
FlowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GRAM = sa.String(3).with_variant(sa.String(3, collation="C"), "postgresql")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot drop a foreign key: the table is made again, its rows copied in key order.
        op.create_table(
            "plate_grams_new",
            sa.Column("gram", GRAM, nullable=False),
            sa.Column("flow_id", FlowId, nullable=False, autoincrement=False),
            sa.PrimaryKeyConstraint("gram", "flow_id", name="pk_plate_grams"),
            sqlite_with_rowid=False,
        )
        op.execute(
            "INSERT INTO plate_grams_new (gram, flow_id) "
            "SELECT gram, flow_id FROM plate_grams ORDER BY gram, flow_id"
        )
        op.drop_table("plate_grams")
        op.rename_table("plate_grams_new", "plate_grams")
        return
    op.drop_constraint("fk_plate_grams_flow_id_flows", "plate_grams", type_="foreignkey")
    op.drop_index("ix_plate_grams_flow_id", table_name="plate_grams")


def downgrade() -> None:
    # On SQLite without the foreign key again (it would take another copy): 0004's code then leaves
    # the grams of deleted flows, which only cost room.
    op.create_index("ix_plate_grams_flow_id", "plate_grams", ["flow_id"])
    if op.get_bind().dialect.name != "sqlite":
        op.create_foreign_key(
            "fk_plate_grams_flow_id_flows", "plate_grams", "flows", ["flow_id"], ["id"], ondelete="CASCADE"
        )
