"""The tables, as SQLAlchemy Core metadata: what the migrations build and the queries read.

Times are integers: ``ts`` and ``keep_alive`` in UTC epoch seconds (the API's resolution), the
``created_us`` columns in UTC epoch microseconds (signing keys are ordered by them).

Indexes of ``flows`` and the queries they serve (``id`` is the primary key, SQLite's rowid):

- ``(ts, id)``: the default order, newest first, read backwards so a page needs no sort; timestamp
  ranges; the keyset pagination of :meth:`~seedata_storage_sql.storage.SqlStorage.iter_flows`.
- ``(camera_id, ts, id)``: one camera's flows in order, counts per camera, the foreign key's checks.
- ``(trigger_mode, ts, id)``: manual triggers are rare among automatic reads, so without this index
  a page of them would scan most of the table.
- ``(plate_key)``: ``plate =`` (the canonical key narrows, the plate itself confirms) and the
  ``similar`` patterns whose fixed part is a prefix.
- ``(plate_rkey)``: the reversed key, for the ``similar`` patterns whose fixed part is a suffix; with
  both, every pattern of a plate of two or more characters is an index range (see :mod:`.where`).

``plate like`` (a substring) of three characters or more finds its candidates in ``plate_grams``:
every distinct three-character piece (trigram) of every stored plate, with its flow's timestamp,
keyed by ``(gram, ts, flow_id)``. A plate that contains the value contains each of the value's
trigrams, so the flows that have them all are a superset of the matches, and ``LIKE`` confirms each
(see :mod:`.where`). Each gram's flows are in the listing's order in the key, so a page of a search
by ``like`` (and time) walks them newest first and stops when the page is full, and a value of three
characters, which is its own gram, is counted and paged on that index alone (:mod:`.plate_search`).
Shorter values are counted per day in ``plate_piece_days``; their pages walk the time index, from
the day that the counts say holds the page, or for a rare pair of characters the grams' key ranges
(:mod:`.where`). Writers of flows keep the grams and the
pieces' counts in the same transaction (:mod:`.grams`).

Flow counts per hour (``hour`` is ``ts // 3600``, floored, as Python divides) serve the deep pages
of the listings that the counters count (no filter, or only cameras): ``flow_hours`` counts all
flows of each hour, ``camera_flow_hours`` each camera's. Reading them from the nearer end finds the
hour that holds a page's first flow, so the page itself skips at most that hour's flows (see
:mod:`.hours` and :meth:`~seedata_storage_sql.storage.SqlStorage.search_flows`). They hold no row
for an hour without flows, and writers keep them exact in the transaction that changes the flows.

Text compares exactly, as on SQLite, on every database: MariaDB tables use the ``utf8mb4_nopad_bin``
collation (its default is case- and trailing-space-insensitive, which would merge ``Gate`` and
``GATE``), and PostgreSQL's key columns use ``COLLATE "C"``, so a range on a prefix (:mod:`.where`)
covers exactly the strings with that prefix, in code-point order, as the index stores them.
Scores are ``DOUBLE`` on MariaDB, whose ``FLOAT`` is single precision.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Double,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# On SQLite only ``INTEGER PRIMARY KEY`` is the rowid; BIGINT elsewhere.
FlowId = BigInteger().with_variant(Integer(), "sqlite")
Score = Float().with_variant(Double(), "mysql", "mariadb")

MARIADB_TABLE: dict[str, Any] = {
    f"{dialect}_{option}": value
    for dialect in ("mysql", "mariadb")
    for option, value in (("charset", "utf8mb4"), ("collate", "utf8mb4_nopad_bin"))
}
"""Table options for MariaDB: exact (binary, no-pad) text comparison, full Unicode."""


def Key(length: int) -> String:
    """A string compared by code point: ``COLLATE "C"`` on PostgreSQL (the others are binary)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


cameras = Table(
    "cameras",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alias", String(128), nullable=False, unique=True),
    Column("source", Text, nullable=False),
    Column("snapshot_url", Text, nullable=True),
    Column("capture_mode", String(8), nullable=False),
    Column("manual_trigger_delay", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("country", String(16), nullable=True),
    Column("keep_alive", BigInteger, nullable=True),
    CheckConstraint("capture_mode IN ('auto', 'manual', 'both')", name="capture_mode"),
    # AUTOINCREMENT: a removed camera's id is never given to another one.
    sqlite_autoincrement=True,
    **MARIADB_TABLE,
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False),
    # casefold(email): emails are unique and looked up case-insensitively, on every dialect alike.
    Column("email_key", String(320), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    sqlite_autoincrement=True,
    **MARIADB_TABLE,
)

flows = Table(
    "flows",
    metadata,
    Column("id", FlowId, primary_key=True, autoincrement=True),
    Column("camera_id", Integer, ForeignKey("cameras.id"), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("plate", Key(64), nullable=True),
    Column("plate_key", Key(64), nullable=True),
    Column("plate_rkey", Key(64), nullable=True),
    Column("score", Score, nullable=False),
    Column("trigger_mode", String(8), nullable=False),
    Column("lpr_version", String(128), nullable=False),
    Column("image_key", String(128), nullable=True),
    Column("plate_image_key", String(128), nullable=True),
    CheckConstraint("trigger_mode IN ('manual', 'auto')", name="trigger_mode"),
    # AUTOINCREMENT: API clients keep flow ids; one must never come back as another flow.
    sqlite_autoincrement=True,
    **MARIADB_TABLE,
)
Index(None, flows.c.ts, flows.c.id)
Index(None, flows.c.camera_id, flows.c.ts, flows.c.id)
Index(None, flows.c.trigger_mode, flows.c.ts, flows.c.id)
Index(None, flows.c.plate_key)
Index(None, flows.c.plate_rkey)

GRAM_LENGTH = 3
"""The length of the plate pieces in ``plate_grams``."""

plate_grams = Table(
    "plate_grams",
    metadata,
    Column("gram", Key(GRAM_LENGTH), primary_key=True),
    # The flow's: a gram's flows are in the key newest first, read backwards, as a page lists them.
    Column("ts", BigInteger, primary_key=True, autoincrement=False),
    Column("flow_id", FlowId, primary_key=True, autoincrement=False),
    # The primary key is the index the searches use; on SQLite the table is that index alone. No
    # other index, nor a foreign key: see :mod:`.grams`.
    sqlite_with_rowid=False,
    **MARIADB_TABLE,
)

PIECE_LENGTH = GRAM_LENGTH - 1
"""The longest plate pieces counted in ``plate_piece_days``."""

DAY = 86_400
"""Seconds per day: a flow's day is ``ts // DAY`` (floored, as Python divides)."""

plate_piece_days = Table(
    "plate_piece_days",
    metadata,
    # How many stored plates of each day hold each piece of one or two characters. Summed, they are
    # the total of a ``like`` that short, which matches too many plates to count by index; read
    # from the nearer end, they find the day that holds a deep page (see :mod:`.grams`).
    Column("piece", Key(PIECE_LENGTH), primary_key=True),
    Column("day", BigInteger, primary_key=True, autoincrement=False),
    Column("flows", BigInteger, nullable=False),
    sqlite_with_rowid=False,
    **MARIADB_TABLE,
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kid", String(64), nullable=False, unique=True),
    Column("private_pem", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    **MARIADB_TABLE,
)

counters = Table(
    "counters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
    **MARIADB_TABLE,
)

TOTAL_FLOWS = "flows"
"""The counter of all flows."""


def camera_flows_counter(camera_id: int) -> str:
    """The name of the counter of one camera's flows."""
    return f"flows:camera:{camera_id}"


flow_hours = Table(
    "flow_hours",
    metadata,
    Column("hour", BigInteger, primary_key=True, autoincrement=False),
    Column("flows", BigInteger, nullable=False),
    # Read in key order only: on SQLite the table is its primary key's index alone.
    sqlite_with_rowid=False,
    **MARIADB_TABLE,
)

camera_flow_hours = Table(
    "camera_flow_hours",
    metadata,
    Column("camera_id", Integer, primary_key=True, autoincrement=False),
    Column("hour", BigInteger, primary_key=True, autoincrement=False),
    Column("flows", BigInteger, nullable=False),
    sqlite_with_rowid=False,
    **MARIADB_TABLE,
)

camera_leases = Table(
    "camera_leases",
    metadata,
    # Which server process watches a camera, until when (UTC epoch milliseconds); see
    # :meth:`~seedata_storage_sql.storage.SqlStorage.claim_cameras`.
    Column(
        "camera_id",
        Integer,
        ForeignKey("cameras.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("owner", String(64), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    **MARIADB_TABLE,
)
