"""Flow counts per hour: ``flow_hours`` and ``camera_flow_hours``, filled from the stored flows.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Spelled out, as in 0001: a revision is a frozen picture of the schema at its time.
MARIADB_TABLE: dict[str, Any] = {
    f"{dialect}_{option}": value
    for dialect in ("mysql", "mariadb")
    for option, value in (("charset", "utf8mb4"), ("collate", "utf8mb4_nopad_bin"))
}
HOUR = 3600
BATCH_HOURS = 24
"""Hours per backfill statement: bounded statements, each a range of the time index."""


def upgrade() -> None:
    op.create_table(
        "flow_hours",
        sa.Column("hour", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("flows", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hour", name="pk_flow_hours"),
        sqlite_with_rowid=False,
        **MARIADB_TABLE,
    )
    op.create_table(
        "camera_flow_hours",
        sa.Column("camera_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("hour", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("flows", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("camera_id", "hour", name="pk_camera_flow_hours"),
        sqlite_with_rowid=False,
        **MARIADB_TABLE,
    )
    _backfill()


def _hour_of_ts(dialect: str) -> str:
    """``ts // 3600`` as Python floors it, in SQL: ``%`` and integer ``/`` truncate toward zero on
    SQLite and PostgreSQL (MariaDB's ``/`` gives a decimal; ``DIV`` truncates), so the remainder is
    made non-negative first and the division is then exact."""
    divide = "DIV" if dialect in ("mysql", "mariadb") else "/"
    return f"(ts - ((ts % {HOUR}) + {HOUR}) % {HOUR}) {divide} {HOUR}"


def _backfill() -> None:
    """Count the stored flows per hour, a range of whole hours at a time, skipping empty stretches."""
    bind = op.get_bind()
    hour = _hour_of_ts(bind.dialect.name)
    window = "ts >= :low AND ts < :high"
    fill_hours = sa.text(
        "INSERT INTO flow_hours (hour, flows) SELECT h, count(*) "
        f"FROM (SELECT {hour} AS h FROM flows WHERE {window}) AS f GROUP BY h"
    )
    fill_cameras = sa.text(
        "INSERT INTO camera_flow_hours (camera_id, hour, flows) SELECT camera_id, h, count(*) "
        f"FROM (SELECT camera_id, {hour} AS h FROM flows WHERE {window}) AS f GROUP BY camera_id, h"
    )
    next_ts = sa.text("SELECT min(ts) FROM flows WHERE ts >= :low")
    found = bind.execute(sa.text("SELECT min(ts) FROM flows")).scalar()
    while found is not None:
        low = int(found) // HOUR * HOUR  # the window starts on an hour: no hour is split between two
        window_values = {"low": low, "high": low + BATCH_HOURS * HOUR}
        bind.execute(fill_hours, window_values)
        bind.execute(fill_cameras, window_values)
        found = bind.execute(next_ts, {"low": window_values["high"]}).scalar()


def downgrade() -> None:
    op.drop_table("camera_flow_hours")
    op.drop_table("flow_hours")
