"""The initial schema: cameras, users, flows, signing keys and counters.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# A revision is a frozen picture of the schema at its time: it spells out its columns instead of
# importing seedata_storage_sql.schema, which keeps changing.
FlowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Score = sa.Float().with_variant(sa.Double(), "mysql", "mariadb")
# MariaDB: exact text comparison (binary, no padding) instead of its case-insensitive default.
MARIADB_TABLE: dict[str, Any] = {
    f"{dialect}_{option}": value
    for dialect in ("mysql", "mariadb")
    for option, value in (("charset", "utf8mb4"), ("collate", "utf8mb4_nopad_bin"))
}


def Key(length: int) -> sa.String:
    """A string compared by code point on PostgreSQL too (prefix ranges on its index)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "cameras",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("alias", sa.String(128), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("snapshot_url", sa.Text(), nullable=True),
        sa.Column("capture_mode", sa.String(8), nullable=False),
        sa.Column("manual_trigger_delay", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("country", sa.String(16), nullable=True),
        sa.Column("keep_alive", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("capture_mode IN ('auto', 'manual', 'both')", name="ck_cameras_capture_mode"),
        sa.PrimaryKeyConstraint("id", name="pk_cameras"),
        sa.UniqueConstraint("alias", name="uq_cameras_alias"),
        sqlite_autoincrement=True,
        **MARIADB_TABLE,
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_key", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email_key", name="uq_users_email_key"),
        sqlite_autoincrement=True,
        **MARIADB_TABLE,
    )
    op.create_table(
        "flows",
        sa.Column("id", FlowId, nullable=False, autoincrement=True),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("plate", Key(64), nullable=True),
        sa.Column("plate_key", Key(64), nullable=True),
        sa.Column("plate_rkey", Key(64), nullable=True),
        sa.Column("score", Score, nullable=False),
        sa.Column("trigger_mode", sa.String(8), nullable=False),
        sa.Column("lpr_version", sa.String(128), nullable=False),
        sa.Column("image_key", sa.String(128), nullable=True),
        sa.Column("plate_image_key", sa.String(128), nullable=True),
        sa.CheckConstraint("trigger_mode IN ('manual', 'auto')", name="ck_flows_trigger_mode"),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], name="fk_flows_camera_id_cameras"),
        sa.PrimaryKeyConstraint("id", name="pk_flows"),
        sqlite_autoincrement=True,
        **MARIADB_TABLE,
    )
    op.create_index("ix_flows_ts_id", "flows", ["ts", "id"])
    op.create_index("ix_flows_camera_id_ts_id", "flows", ["camera_id", "ts", "id"])
    op.create_index("ix_flows_trigger_mode_ts_id", "flows", ["trigger_mode", "ts", "id"])
    op.create_index("ix_flows_plate_key", "flows", ["plate_key"])
    op.create_index("ix_flows_plate_rkey", "flows", ["plate_rkey"])
    op.create_table(
        "signing_keys",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_signing_keys"),
        sa.UniqueConstraint("kid", name="uq_signing_keys_kid"),
        **MARIADB_TABLE,
    )
    counters = op.create_table(
        "counters",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_counters"),
        **MARIADB_TABLE,
    )
    op.bulk_insert(counters, [{"name": "flows", "value": 0}])


def downgrade() -> None:
    for table in ("counters", "signing_keys", "flows", "users", "cameras"):
        op.drop_table(table)
