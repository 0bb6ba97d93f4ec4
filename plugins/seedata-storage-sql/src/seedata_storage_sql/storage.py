"""The SQL storage: Seedata's :class:`~seedata_core.storage.Storage` on SQLAlchemy Core.

Reads are single Core statements outside any transaction; the hottest (the unfiltered page and count,
one flow by id, the cameras and the counters) are compiled once and run on the driver's cursor (see
:mod:`.prepared`). Every insert adds to the ``counters`` rows in its own transaction, so the unfiltered
count, and any count that tests only the camera, reads counters instead of counting rows; it adds to
the flow counts per hour too, which take a deep page of those listings to its hour (:mod:`.hours`).
Reads of flows run under the ``statement_timeout_ms`` deadline; writes wait at most that long for the lock.

On PostgreSQL and MariaDB, writers of flows take the row lock of the total counter first (SQLite's
write lock does the same for every write), so concurrent inserts and imports of any number of
processes are serialised where they meet: counters stay exact, an import's check for existing ids
holds until it commits, and PostgreSQL's id sequence is moved past imported ids before any insert
could draw one of them.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property, partial
from operator import itemgetter
from typing import Any, Final

import msgspec
from sqlalchemy import (
    BigInteger,
    BindParameter,
    Column,
    ColumnElement,
    Connection,
    CursorResult,
    Dialect,
    Engine,
    Row,
    Select,
    Subquery,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import Executable

from seedata_core.errors import Conflict, NotFound, StorageUnavailable
from seedata_core.filter_ast import MATCH_ALL, Node, is_match_all
from seedata_core.filters import fold_case
from seedata_core.lookalike import canonical
from seedata_core.models import Camera, Flow, FlowImages, NewCamera, NewFlow, SigningKey, User
from seedata_core.storage import ImportResult, Pruned
from seedata_core.timezones import from_epoch

from . import plate_search
from .bulk import BulkRows, bulk_rows, insert_bulk, insert_rows
from .counting import LOCK_FLOW_WRITES, count_added
from .engine import WRITE_OPTION, bulk_load, one_line
from .grams import PlateRows, index_plates, plate_rows, unindex_plates
from .group_commit import GroupCommit
from .hours import HOUR, passing, summed
from .images import NO_IMAGES, ImageStore, StagedImages, key_day
from .pipeline import add_drawn_flows
from .prepared import Prepared
from .retention import ImageUsage, delete_oldest, remove_pictures
from .schema import (
    DAY,
    PIECE_LENGTH,
    TOTAL_FLOWS,
    camera_flow_hours,
    camera_flows_counter,
    camera_leases,
    cameras,
    counters,
    flow_hours,
    flows,
    plate_piece_days,
    signing_keys,
    users,
)
from .watchdog import Watchdog
from .where import CameraAliases, camera_only, compile_where, needs_cameras
from .write_behind import written_behind

log = logging.getLogger(__name__)

AnyRow = Row[*tuple[Any, ...]]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
CAMERA_FIELDS: Final = frozenset(NewCamera.__struct_fields__)
IMPORT_BATCH: Final = 40_000
"""Flows per import transaction: each commit writes every index page the batch touched, and the
plate grams touch one page per distinct trigram, thousands whatever the batch's size, so larger
batches import faster (1M flows on SQLite: 10,600 flows/s with 10,000, 13,400 with 40,000;
PostgreSQL 11,000 and 11,800)."""
GROUP_COMMIT: Final = 500
"""Most flows of concurrent :meth:`SqlStorage.add_flow` calls written in one transaction (see
:mod:`.group_commit`): each commit's log flush, and the total counter's lock held through it, is
then shared by the group."""
IMPORT_BATCH_BYTES: Final = 64 * 1024 * 1024
"""An import batch ends early once its pictures hold this much (they are in memory until it commits)."""
ANALYZE_AFTER: Final = 10_000
DEEP_OFFSET: Final = 1000
"""From this offset on, a page finds its ids first (on an index alone where one covers the filter),
and one that the counters can count starts in the hour that the hour counts say (see ``search_flows``)."""
_FIRST_HOURS: Final = 64
_MOST_HOURS: Final = 4096
"""Hours per read, summed or row by row, the first and the most: the reads grow while the page's hour
is not found (:meth:`SqlStorage._passing_hour`)."""
_FAR: Final = 2**62
"""Beyond every hour, on both sides: where the reading of the hours starts."""

_CAMERA_ALIAS = select(cameras.c.alias).where(cameras.c.id == flows.c.camera_id).scalar_subquery()
# Positions matter: _flow() reads rows by index, the cheapest way through a hot path.
_FLOW_COLUMNS = (
    flows.c.id,
    flows.c.camera_id,
    _CAMERA_ALIAS.label("camera"),
    flows.c.plate,
    flows.c.score,
    flows.c.ts,
    flows.c.trigger_mode,
    flows.c.lpr_version,
    flows.c.image_key,
    flows.c.plate_image_key,
)
_NEWEST_FIRST = (flows.c.ts.desc(), flows.c.id.desc())
_OLDEST_FIRST = (flows.c.ts, flows.c.id)


_OFFSET: Final[BindParameter[int]] = bindparam("offset")
_LIMIT: Final[BindParameter[int]] = bindparam("limit")
_BELOW: Final[BindParameter[int]] = bindparam("below")


def _page_statement(
    clause: ColumnElement[bool] | None,
    *,
    deep: bool,
    offset: int | BindParameter[Any],
    limit: int | BindParameter[Any],
) -> Select[Any]:
    """A page of the flows that satisfy ``clause`` (``None``: all), newest first.

    A ``deep`` page finds its ids first, on an index alone where one covers the filter (the time
    index for all flows, ``(camera_id, ts, id)`` for cameras): OFFSET then skips index entries, not
    table rows, and only the page's own rows are read from the table.
    """
    order = _NEWEST_FIRST
    if not deep:
        statement = select(*_FLOW_COLUMNS)
        if clause is not None:
            statement = statement.where(clause)
        return statement.order_by(*order).limit(limit).offset(offset)
    ids = select(flows.c.id)
    if clause is not None:
        ids = ids.where(clause)
    return _flows_of(ids.order_by(*order).limit(limit).offset(offset).subquery("page"))


def _flows_of(page: Subquery) -> Select[Any]:
    """The flows whose ids (the first column) ``page`` holds, newest first."""
    return (
        select(*_FLOW_COLUMNS).select_from(page.join(flows, flows.c.id == page.c[0])).order_by(*_NEWEST_FIRST)
    )


def _hours_statement(camera: BindParameter[int] | None, newest: bool) -> Select[Any]:
    """``n`` hour counts past the hour ``edge``, going back in time when ``newest`` (the listing's
    order), else forward: of all flows, or of the ``camera`` given. Each is a range of a primary key."""
    if camera is None:
        return _counts_statement(flow_hours.c.hour, None, newest)
    return _counts_statement(camera_flow_hours.c.hour, camera_flow_hours.c.camera_id == camera, newest)


def _counts_statement(period: Column[int], key: ColumnElement[bool] | None, newest: bool) -> Select[Any]:
    """``n`` (period, flows) counts of a table of counts per hour or day (``period``) past ``edge``,
    of the ``key`` given, newest first when ``newest``: a range of the table's primary key."""
    table = period.table
    edge: BindParameter[int] = bindparam("edge")
    statement = select(period, table.c.flows)
    if key is not None:
        statement = statement.where(key)
    if newest:
        statement = statement.where(period < edge).order_by(period.desc())
    else:
        statement = statement.where(period > edge).order_by(period)
    # An OFFSET of its own (0): SQLite's dialect would otherwise add one as an unnamed parameter.
    return statement.limit(bindparam("n")).offset(bindparam("skip"))


def _hour_sums_statement(camera: BindParameter[int] | None, newest: bool) -> Select[Any]:
    """The hours that :func:`_hours_statement` gives, as one row: how many, their flows (0 for
    none), and the last of them in its order."""
    chunk = _hours_statement(camera, newest).subquery("chunk")
    last = func.min(chunk.c.hour) if newest else func.max(chunk.c.hour)
    return select(func.count(), func.coalesce(func.sum(chunk.c.flows), literal_column("0")), last)


def _start(
    found: tuple[int, int, int] | None, *, total: int, offset: int, newest: bool
) -> tuple[int, int] | None:
    """Where a page at ``offset`` of ``total`` flows starts, from what :func:`~.hours.passing` found
    reading hours or days newest first (``newest``) or oldest first: the hour or day, and how many
    of its flows the page skips, newest first. ``None`` when counts and flows disagree."""
    if found is None:
        return None
    period, before, inside = found
    skip = offset - (before if newest else total - before - inside)
    return None if skip < 0 else (period, skip)


def epoch_seconds(moment: datetime) -> int:
    """Whole UTC epoch seconds of an aware ``datetime`` (floored, as the API truncates)."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: Seedata stores aware UTC times")
    if moment.microsecond == 0:  # the usual case, and a float holds whole seconds exactly
        return int(moment.timestamp())
    return (moment - _EPOCH) // timedelta(seconds=1)


def _epoch_us(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: Seedata stores aware UTC times")
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _from_us(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _flow(row: Sequence[Any]) -> Flow:
    return Flow(
        id=row[0],
        camera_id=row[1],
        camera=row[2],
        plate=row[3],
        score=row[4],
        timestamp=from_epoch(row[5]),
        trigger_mode=row[6],
        lpr_version=row[7],
        image_key=row[8],
        plate_image_key=row[9],
    )


def _camera(row: AnyRow) -> Camera:
    return Camera(
        id=row.id,
        alias=row.alias,
        source=row.source,
        snapshot_url=row.snapshot_url,
        capture_mode=row.capture_mode,
        manual_trigger_delay=row.manual_trigger_delay,
        enabled=row.enabled,
        country=row.country,
        keep_alive=None if row.keep_alive is None else from_epoch(row.keep_alive),
    )


def _user(row: AnyRow) -> User:
    return User(
        id=row.id,
        email=row.email,
        password_hash=row.password_hash,
        enabled=row.enabled,
        created_at=_from_us(row.created_us),
    )


def _new_id(result: CursorResult[Any]) -> int:
    """The primary key an INSERT gave its row."""
    key = result.inserted_primary_key
    assert key is not None, "an INSERT of one row has its primary key"
    return int(key[0])


def _stored_flow(values: Mapping[str, Any], camera: str) -> Flow:
    """The flow stored from ``values`` (as :func:`_flow_values` makes them, its id drawn)."""
    return Flow(
        id=values["id"],
        camera_id=values["camera_id"],
        camera=camera,
        plate=values["plate"],
        score=values["score"],
        timestamp=from_epoch(values["ts"]),
        trigger_mode=values["trigger_mode"],
        lpr_version=values["lpr_version"],
        image_key=values["image_key"],
        plate_image_key=values["plate_image_key"],
    )


def _flow_values(flow: NewFlow, staged: StagedImages = NO_IMAGES) -> dict[str, Any]:
    # Plates are stored folded like filter values, so comparisons need no function on the column.
    plate = None if flow.plate is None else fold_case(flow.plate)
    key = None if plate is None else canonical(plate)
    return {
        "id": flow.id,
        "camera_id": flow.camera_id,
        "ts": epoch_seconds(flow.timestamp),
        "plate": plate,
        "plate_key": key,
        "plate_rkey": None if key is None else key[::-1],
        "score": float(flow.score),
        "trigger_mode": flow.trigger_mode,
        "lpr_version": flow.lpr_version,
        "image_key": staged.image_key,
        "plate_image_key": staged.plate_image_key,
    }


_FLOW_ROW = itemgetter(*flows.columns.keys())


def _insert_flows(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert flow rows (all columns' values, as :func:`_flow_values` makes them) in one go."""
    insert_rows(conn, flows, map(_FLOW_ROW, rows))


_CAMERA_ALIASES = select(cameras.c.id, cameras.c.alias).where(
    cameras.c.id.in_(bindparam("ids", expanding=True))
)
# The ids go as one parameter: an array on PostgreSQL, a JSON array on SQLite, a tuple that PyMySQL
# writes out as a list. Expanded into a parameter each, SQLAlchemy spent ~45 ms naming the 40,000
# parameters of an import batch, and psycopg ~0.3 s building a query of 10,000.
_EXISTING_IDS = {
    "postgresql": "SELECT id FROM flows WHERE id = ANY(%s)",
    "sqlite": "SELECT id FROM flows WHERE id IN (SELECT value FROM json_each(?))",
    "mysql": "SELECT id FROM flows WHERE id IN %s",
}
# Moves the sequence to ``top`` unless it is past it already (``setval`` ignores transactions: a
# rollback keeps the move, which only skips ids).
_PG_SKIP_IDS = text(
    "SELECT setval(seq, GREATEST(:top, COALESCE(pg_sequence_last_value(seq), 0), 1)) "
    "FROM (SELECT pg_get_serial_sequence('flows', 'id')::regclass AS seq) AS s"
)


def _skip_given_ids(conn: Connection, top: int) -> None:
    """Make the ids that new flows draw start above ``top``, an id given by the caller.

    SQLite (AUTOINCREMENT) and MariaDB (AUTO_INCREMENT) do this themselves on insert; a PostgreSQL
    sequence does not, and would hand out an imported id again.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(_PG_SKIP_IDS, {"top": top})


@dataclass(slots=True)
class _ImportBatch:
    """A batch of imported flows, with everything its write needs made ahead of it: the write holds
    up the database server, while the batch is made beside the server's work on the last one."""

    dialect: Dialect
    given: int
    """Flows in the batch, repeated ids included."""
    wanted: dict[int, tuple[dict[str, Any], FlowImages]]
    """Each id's values and pictures, the first of repeated ids."""
    with_images: bool
    """Whether any flow given brings a picture."""
    rows: list[dict[str, Any]]
    """The values of all the wanted flows."""
    flows: BulkRows
    """``rows``, to insert."""
    plates: PlateRows
    hours: Counter[tuple[int, int]]
    cameras: list[int]
    """The cameras of ``rows``, in order."""
    top: int
    """The highest id of ``rows`` (0 for none)."""

    @classmethod
    def of(cls, dialect: Dialect, batch: list[tuple[NewFlow, FlowImages]]) -> _ImportBatch:
        wanted: dict[int, tuple[dict[str, Any], FlowImages]] = {}
        for flow, images in batch:
            if flow.id is None:
                raise ValueError("imported flows must carry their ids")
            if flow.id not in wanted:  # the first of repeated ids wins
                wanted[flow.id] = (_flow_values(flow), images)
        with_images = any(i.image is not None or i.plate_image is not None for _, i in wanted.values())
        return cls._made(dialect, len(batch), wanted, with_images)

    def without(self, existing: Collection[int]) -> _ImportBatch:
        """This batch less the flows of ``existing`` ids, made again (with the keys of the pictures
        staged meanwhile)."""
        wanted = {flow_id: flow for flow_id, flow in self.wanted.items() if flow_id not in existing}
        return self._made(self.dialect, self.given, wanted, self.with_images)

    @classmethod
    def _made(
        cls,
        dialect: Dialect,
        given: int,
        wanted: dict[int, tuple[dict[str, Any], FlowImages]],
        with_images: bool,
    ) -> _ImportBatch:
        rows = [values for values, _ in wanted.values()]
        return cls(
            dialect,
            given,
            wanted,
            with_images,
            rows,
            bulk_rows(dialect, flows, list(map(_FLOW_ROW, rows))),
            plate_rows(dialect, ((row["id"], row["ts"], row["plate"]) for row in rows)),
            Counter((row["camera_id"], row["ts"] // HOUR) for row in rows),
            sorted({row["camera_id"] for row in rows}),
            max(wanted, default=0),
        )


def _batches(
    flows: Iterable[tuple[NewFlow, FlowImages]], size: int, max_bytes: int
) -> Iterator[list[tuple[NewFlow, FlowImages]]]:
    """``flows`` in lists of ``size``, or fewer where their pictures reach ``max_bytes``."""
    batch: list[tuple[NewFlow, FlowImages]] = []
    held = 0
    for item in flows:
        batch.append(item)
        images = item[1]
        held += len(images.image or b"") + len(images.plate_image or b"")
        if len(batch) >= size or held >= max_bytes:
            yield batch
            batch, held = [], 0
    if batch:
        yield batch


def _analyze(conn: Connection) -> None:
    """Refresh the statistics of the flow tables on PostgreSQL and MariaDB (SQLite plans without),
    with no statement deadline: it samples a bounded number of rows, but may wait for disk.

    PostgreSQL also vacuums them: its first read of a freshly written row sets the row's hint bits
    and so writes the page, and an index-only scan needs the visibility map that VACUUM sets. Right
    after a bulk load a search for a plate would otherwise write as much as it reads (measured at
    10M flows: ``plate like`` p95 660 ms before, 67 ms after).
    """
    if conn.dialect.name == "postgresql":
        vacuuming = conn.execution_options(isolation_level="AUTOCOMMIT")  # VACUUM runs outside transactions
        vacuuming.exec_driver_sql("SET statement_timeout = 0")
        try:
            vacuuming.exec_driver_sql("VACUUM (ANALYZE) flows, plate_grams")
        finally:
            vacuuming.exec_driver_sql("RESET statement_timeout")
    elif conn.dialect.name in ("mysql", "mariadb"):
        with conn.begin():
            analyze = "ANALYZE TABLE flows, plate_grams"
            conn.exec_driver_sql(f"SET STATEMENT max_statement_time = 0 FOR {analyze}").all()


def _timed_out(reason: object) -> bool:
    """Whether a driver error says that the statement deadline stopped the statement."""
    message = str(reason)
    # SQLite's interrupt (the watchdog); MariaDB's "Query execution was interrupted
    # (max_statement_time exceeded)"; PostgreSQL's "canceling statement due to statement timeout".
    return "interrupted" in message or "statement timeout" in message


_FIRST_ID_FROM = select(flows.c.id).where(flows.c.id >= bindparam("low")).order_by(flows.c.id).limit(1)


def _existing_ids(conn: Connection, ids: Collection[int]) -> set[int]:
    if not ids:
        return set()
    # Imports mostly bring ids above every stored one: one step of the key says so, where looking
    # each id up took a fifth of PostgreSQL's import.
    first = conn.execute(_FIRST_ID_FROM, {"low": min(ids)}).scalar()
    if first is None or first > max(ids):
        return set()
    dialect = conn.dialect.name
    given: Any = list(ids)
    if dialect == "sqlite":
        given = msgspec.json.encode(given).decode()
    elif dialect != "postgresql":
        dialect, given = "mysql", tuple(given)
    return set(conn.exec_driver_sql(_EXISTING_IDS[dialect], (given,)).scalars())


def _image_keys(values: Mapping[str, Any]) -> list[str]:
    return [key for key in (values["image_key"], values["plate_image_key"]) if key is not None]


def _insert_missing_leases(dialect: str, owner: str, camera_ids: list[int], expires_ms: int) -> Executable:
    """An INSERT of ``owner``'s lease for each of these cameras that exists and has no lease yet.

    A lease row that another process inserted first is a conflict to ignore, not an error: that
    process won the camera.
    """
    rows = select(
        cameras.c.id, literal(owner, camera_leases.c.owner.type), literal(expires_ms, BigInteger())
    ).where(cameras.c.id.in_(camera_ids))
    columns = ["camera_id", "owner", "expires_at"]
    if dialect == "sqlite":
        return sqlite.insert(camera_leases).from_select(columns, rows).on_conflict_do_nothing()
    if dialect == "postgresql":
        return postgresql.insert(camera_leases).from_select(columns, rows).on_conflict_do_nothing()
    # MySQL and MariaDB.
    return insert(camera_leases).from_select(columns, rows).prefix_with("IGNORE")


CLAIM_ATTEMPTS: Final = 3


def _deadlocked(exc: BaseException | None) -> bool:
    """Whether the database rolled the transaction back to break a deadlock (MariaDB 1213)."""
    args: tuple[Any, ...] = getattr(exc.orig, "args", ()) if isinstance(exc, sa_exc.DBAPIError) else ()
    return args[:1] == (1213,)


_SERVER_NOW_MS = {
    "postgresql": "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
    "mysql": "SELECT CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)",
    "mariadb": "SELECT CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)",
}


def _now_ms(conn: Connection) -> int:
    """UTC epoch milliseconds by the database server's clock, which every process sharing the
    database reads alike; SQLite's processes share one machine, and so its clock."""
    query = _SERVER_NOW_MS.get(conn.dialect.name)
    if query is None:
        return time.time_ns() // 1_000_000
    return int(conn.exec_driver_sql(query).scalar_one())


def _checked_camera(fields: Mapping[str, Any]) -> NewCamera:
    """``fields`` as a camera, its types and literals checked (``msgspec.ValidationError``)."""
    return msgspec.convert(dict(fields), NewCamera)


class SqlStorage:
    """Cameras, users, flows and signing keys in an SQL database; pictures in files beside it.

    Build it with :func:`seedata_storage_sql.open_storage`, which migrates the schema and recovers
    interrupted picture writes first. Thread-safe: each call checks a connection out of the pool.
    """

    def __init__(self, engine: Engine, images: ImageStore, *, statement_timeout_ms: int) -> None:
        self.engine = engine
        self.images = images
        self._timeout_s = statement_timeout_ms / 1000
        self._closed = False
        self._watchdog = Watchdog()
        # touch_camera() runs per frame; one write per camera and second is all the API can show.
        self._touched: dict[int, int] = {}
        dbapi = engine.dialect.loaded_dbapi
        # PyMySQL reports some server errors (a statement stopped by max_statement_time among them)
        # as InternalError.
        self._database_errors: tuple[type[Exception], ...] = (
            sa_exc.OperationalError,
            sa_exc.InternalError,
            dbapi.OperationalError,
            dbapi.InternalError,
        )
        self._integrity_errors = (sa_exc.IntegrityError, dbapi.IntegrityError)
        self._postgresql = engine.dialect.name == "postgresql"
        # Whether a group of new flows goes to the server in one round trip (pipeline.py).
        self._pipelined = engine.dialect.name in ("postgresql", "mysql", "mariadb")
        dialect = engine.dialect
        self._counter = Prepared(
            select(counters.c.value).where(counters.c.name == bindparam("name")), dialect
        )
        # The unfiltered pages, by deep: see _page_statement and search_flows.
        self._pages = {
            deep: Prepared(_page_statement(None, deep=deep, offset=_OFFSET, limit=_LIMIT), dialect)
            for deep in (False, True)
        }
        # From the end of an hour on (see search_flows).
        self._hour_page = Prepared(
            _page_statement(flows.c.ts < _BELOW, deep=True, offset=_OFFSET, limit=_LIMIT), dialect
        )
        # The hour counts, by newest first: all flows', and one camera's.
        camera: BindParameter[int] = bindparam("camera")
        self._hours = {newest: Prepared(_hours_statement(None, newest), dialect) for newest in (False, True)}
        self._hour_sums = {
            newest: Prepared(_hour_sums_statement(None, newest), dialect) for newest in (False, True)
        }
        self._camera_hour_sums = {
            newest: Prepared(_hour_sums_statement(camera, newest), dialect) for newest in (False, True)
        }
        self._camera_hours = {
            newest: Prepared(_hours_statement(camera, newest), dialect) for newest in (False, True)
        }
        self._aliases = Prepared(select(cameras.c.id, cameras.c.alias), dialect)
        self._counters = Prepared(select(counters.c.name, counters.c.value), dialect)
        holding = plate_piece_days.c.piece == bindparam("piece")
        self._piece = Prepared(select(func.sum(plate_piece_days.c.flows)).where(holding), dialect)
        self._piece_days = {
            newest: Prepared(_counts_statement(plate_piece_days.c.day, holding, newest), dialect)
            for newest in (False, True)
        }
        self._by_id = Prepared(select(*_FLOW_COLUMNS).where(flows.c.id == bindparam("id")), dialect)
        self._adding: GroupCommit[dict[str, Any], Flow] = GroupCommit(self._add_flows, most=GROUP_COMMIT)

    # -- plumbing --------------------------------------------------------------------------------
    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Database failures as :class:`StorageUnavailable`, with what went wrong."""
        if self._closed:
            raise StorageUnavailable("the storage is closed")
        try:
            yield
        except self._database_errors as exc:
            reason = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
            if _timed_out(reason):
                raise StorageUnavailable(
                    f"the query ran longer than statement_timeout_ms ({self._timeout_s * 1000:.0f} ms)"
                ) from exc
            raise StorageUnavailable(f"the database is unavailable: {one_line(reason)}") from exc
        except sa_exc.TimeoutError as exc:
            raise StorageUnavailable("no database connection became free in time") from exc

    @contextmanager
    def _connect(self, *, write: bool = False) -> Iterator[Connection]:
        """A pooled connection; for ``write``, in a write transaction that commits on success."""
        with self._errors(), self.engine.connect() as conn:
            if not write:
                yield conn
                return
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    def _fetch(self, prepared: Prepared, values: Mapping[str, Any]) -> list[Any]:
        """The rows of a prepared statement, read under the deadline on a pooled driver connection."""
        with self._errors():
            pooled = self.engine.raw_connection()
            try:
                with self._single_statement(pooled):
                    cursor = pooled.cursor()
                    try:
                        with self._watchdog.deadline(pooled, self._timeout_s):
                            cursor.execute(prepared.sql, prepared.parameters(values))
                            return list(cursor.fetchall())
                    finally:
                        cursor.close()
            finally:
                pooled.close()

    @contextmanager
    def _single_statement(self, pooled: PoolProxiedConnection) -> Iterator[None]:
        """Run one statement outside a transaction on PostgreSQL: psycopg would wrap it in BEGIN and,
        back in the pool, ROLLBACK, two round trips more (half a page-1 read's time). Switching
        autocommit on and off costs none."""
        driver = pooled.driver_connection
        if not self._postgresql or driver is None:
            yield
            return
        driver.autocommit = True
        try:
            yield
        finally:
            # On a lost connection this raises too; the pool then drops the connection on its return.
            driver.autocommit = False

    def _read(self, conn: Connection, statement: Select[Any]) -> Sequence[AnyRow]:
        with self._watchdog.deadline(conn.connection, self._timeout_s):
            return conn.execute(statement).all()

    def _camera_aliases(self) -> dict[int, str]:
        return dict(self._fetch(self._aliases, {}))

    def _aliases_for(self, where: Node) -> CameraAliases:
        """Every camera's alias when ``where`` tests cameras (:func:`.where.compile_where` needs them)."""
        return self._camera_aliases() if needs_cameras(where) else {}

    def _where(self, where: Node) -> ColumnElement[bool] | None:
        """The WHERE clause for ``where`` (``None``: no condition)."""
        if is_match_all(where):
            return None
        return compile_where(where, self._aliases_for(where))

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        """Settle this storage's staged pictures, release its lock and its connections. Idempotent."""
        if self._closed:
            return
        try:
            self.images.close(self._referenced)
        except Exception:
            log.exception("could not settle staged images; the next open will")
        finally:
            self._closed = True
            self._watchdog.stop()
            self.engine.dispose()

    def ping(self) -> bool:
        """True when the database answers a trivial query now."""
        try:
            with self._connect() as conn:
                conn.exec_driver_sql("SELECT 1").all()
        except StorageUnavailable:
            return False
        return True

    def recover_images(self) -> int:
        """Settle the staged pictures of storages that are gone (run by ``open_storage``)."""
        return self.images.recover(self._referenced)

    def _referenced(self, keys: Collection[str]) -> set[str]:
        """Which of these image keys a stored flow names; a key's date bounds its flow's timestamp."""
        by_day: dict[int, list[str]] = defaultdict(list)
        for key in keys:
            by_day[key_day(key)].append(key)
        found: set[str] = set()
        with self._connect() as conn:
            for start, day_keys in by_day.items():
                rows = conn.execute(
                    select(flows.c.image_key, flows.c.plate_image_key).where(
                        flows.c.ts >= start,
                        flows.c.ts < start + DAY,
                        or_(flows.c.image_key.in_(day_keys), flows.c.plate_image_key.in_(day_keys)),
                    )
                )
                found.update(key for row in rows for key in row if key in day_keys)
        return found

    # -- cameras ---------------------------------------------------------------------------------
    def add_camera(self, camera: NewCamera) -> Camera:
        """Add a camera; :class:`Conflict` if the alias is taken, ``ValueError`` if a field is invalid."""
        values = msgspec.structs.asdict(_checked_camera(msgspec.structs.asdict(camera)))
        with self._connect(write=True) as conn:
            try:
                camera_id = _new_id(conn.execute(insert(cameras).values(**values)))
            except sa_exc.IntegrityError as exc:
                raise Conflict(f"a camera named {camera.alias!r} exists") from exc
            conn.execute(insert(counters).values(name=camera_flows_counter(camera_id), value=0))
        return Camera(id=camera_id, **values)

    def update_camera(self, camera_id: int, **changes: Any) -> Camera:
        """Change fields of :class:`NewCamera`.

        ``NotFound`` if absent, ``Conflict`` for a taken alias, ``TypeError`` for an unknown field.
        """
        unknown = sorted(set(changes) - CAMERA_FIELDS)
        if unknown:
            raise TypeError(f"cameras have no field {unknown[0]!r}")
        with self._connect(write=True) as conn:
            row = conn.execute(select(cameras).where(cameras.c.id == camera_id)).first()
            if row is None:
                raise NotFound(f"camera {camera_id}")
            current = {name: getattr(row, name) for name in CAMERA_FIELDS}
            values = msgspec.structs.asdict(_checked_camera({**current, **changes}))
            try:
                conn.execute(update(cameras).where(cameras.c.id == camera_id).values(**values))
            except sa_exc.IntegrityError as exc:
                raise Conflict(f"a camera named {values['alias']!r} exists") from exc
            keep_alive = None if row.keep_alive is None else from_epoch(row.keep_alive)
        return Camera(id=camera_id, keep_alive=keep_alive, **values)

    def remove_camera(self, camera_id: int) -> None:
        """Delete a camera without flows, or disable one with flows and drop its sources; ``NotFound``."""
        with self._connect(write=True) as conn:
            if conn.execute(select(cameras.c.id).where(cameras.c.id == camera_id)).first() is None:
                raise NotFound(f"camera {camera_id}")
            has_flows = conn.execute(
                select(flows.c.id).where(flows.c.camera_id == camera_id).limit(1)
            ).first()
            if has_flows:
                conn.execute(
                    update(cameras)
                    .where(cameras.c.id == camera_id)
                    .values(enabled=False, source="", snapshot_url=None)
                )
            else:
                conn.execute(delete(counters).where(counters.c.name == camera_flows_counter(camera_id)))
                conn.execute(delete(camera_flow_hours).where(camera_flow_hours.c.camera_id == camera_id))
                conn.execute(delete(cameras).where(cameras.c.id == camera_id))

    def list_cameras(self) -> list[Camera]:
        with self._connect() as conn:
            return [_camera(row) for row in conn.execute(select(cameras).order_by(cameras.c.id))]

    def get_camera(self, camera_id: int) -> Camera | None:
        with self._connect() as conn:
            row = conn.execute(select(cameras).where(cameras.c.id == camera_id)).first()
        return None if row is None else _camera(row)

    def get_camera_by_alias(self, alias: str) -> Camera | None:
        with self._connect() as conn:
            row = conn.execute(select(cameras).where(cameras.c.alias == alias)).first()
        return None if row is None else _camera(row)

    def touch_camera(self, camera_id: int, keep_alive: datetime) -> None:
        """Record a frame's arrival; calls within the second already recorded write nothing."""
        second = epoch_seconds(keep_alive)
        if self._touched.get(camera_id) == second:
            return
        with self._connect(write=True) as conn:
            conn.execute(update(cameras).where(cameras.c.id == camera_id).values(keep_alive=second))
        self._touched[camera_id] = second

    def claim_cameras(
        self, owner: str, camera_ids: Collection[int], *, ttl: float, now: datetime | None = None
    ) -> set[int]:
        """Take or renew ``owner``'s camera leases; see :meth:`seedata_core.storage.Storage.claim_cameras`.

        One transaction: renew the leases that are ours or expired, insert those that are missing
        (ignoring a row another process inserted meanwhile), then read which are ours. On PostgreSQL and
        MariaDB a concurrent UPDATE of the same lease waits for the first one and checks its condition
        again on the committed row, so two processes never both win a camera; SQLite's write lock
        serialises the whole transaction.
        """
        ids = sorted(set(camera_ids))  # one order for every process: row locks taken without deadlock
        if not ids:
            return set()
        for attempt in range(CLAIM_ATTEMPTS):
            try:
                return self._claim(owner, ids, ttl, now)
            except StorageUnavailable as exc:
                # InnoDB may still pick a victim among concurrent INSERT IGNOREs of the same new
                # leases (their duplicate-key locks); it rolled the whole claim back, so claim again.
                if not _deadlocked(exc.__cause__) or attempt == CLAIM_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _claim(self, owner: str, ids: list[int], ttl: float, now: datetime | None) -> set[int]:
        with self._connect(write=True) as conn:
            now_ms = _now_ms(conn) if now is None else _epoch_us(now) // 1000
            expires_ms = now_ms + round(ttl * 1000)
            conn.execute(
                update(camera_leases)
                .where(
                    camera_leases.c.camera_id.in_(ids),
                    or_(camera_leases.c.owner == owner, camera_leases.c.expires_at < now_ms),
                )
                .values(owner=owner, expires_at=expires_ms)
            )
            conn.execute(_insert_missing_leases(conn.dialect.name, owner, ids, expires_ms))
            held = conn.execute(
                select(camera_leases.c.camera_id).where(
                    camera_leases.c.camera_id.in_(ids), camera_leases.c.owner == owner
                )
            ).scalars()
            return set(held)

    def release_cameras(self, owner: str, camera_ids: Collection[int]) -> None:
        """Delete ``owner``'s leases of these cameras."""
        ids = sorted(set(camera_ids))
        if not ids:
            return
        with self._connect(write=True) as conn:
            conn.execute(
                delete(camera_leases).where(
                    camera_leases.c.camera_id.in_(ids), camera_leases.c.owner == owner
                )
            )

    # -- users -----------------------------------------------------------------------------------
    def add_user(self, email: str, password_hash: str) -> User:
        created = datetime.now(UTC)
        with self._connect(write=True) as conn:
            try:
                user_id = _new_id(
                    conn.execute(
                        insert(users).values(
                            email=email,
                            email_key=email.casefold(),
                            password_hash=password_hash,
                            enabled=True,
                            created_us=_epoch_us(created),
                        )
                    )
                )
            except sa_exc.IntegrityError as exc:
                raise Conflict(f"a user with email {email!r} exists") from exc
        return User(id=user_id, email=email, password_hash=password_hash, enabled=True, created_at=created)

    def get_user(self, user_id: int) -> User | None:
        with self._connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        return None if row is None else _user(row)

    def get_user_by_email(self, email: str) -> User | None:
        with self._connect() as conn:
            row = conn.execute(select(users).where(users.c.email_key == email.casefold())).first()
        return None if row is None else _user(row)

    def list_users(self) -> list[User]:
        with self._connect() as conn:
            return [_user(row) for row in conn.execute(select(users).order_by(users.c.id))]

    def update_user(
        self, user_id: int, *, enabled: bool | None = None, password_hash: str | None = None
    ) -> User:
        changes: dict[str, Any] = {}
        if enabled is not None:
            changes["enabled"] = enabled
        if password_hash is not None:
            changes["password_hash"] = password_hash
        with self._connect(write=True) as conn:
            if changes:
                conn.execute(update(users).where(users.c.id == user_id).values(**changes))
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
            if row is None:
                raise NotFound(f"user {user_id}")
        return _user(row)

    # -- flows: writing --------------------------------------------------------------------------
    def add_flow(self, flow: NewFlow, images: FlowImages) -> Flow:
        """Store a flow and its pictures (see :mod:`.images` for the crash-safe order of the steps).

        ``NotFound`` if the camera does not exist; ``Conflict`` if ``flow.id`` is given and taken.
        """
        values = _flow_values(flow)
        staged = self.images.stage(values["ts"], images)
        values.update(image_key=staged.image_key, plate_image_key=staged.plate_image_key)
        try:
            if staged.present():
                self.images.sync()
            # Written with the flows of other threads that arrive meanwhile, in one transaction.
            stored = self._adding.submit(values)
        except Exception:
            self.images.discard(staged.present())
            raise
        # An interruption (KeyboardInterrupt) may come after the group took the row: the pictures
        # stay staged, and closing the store publishes or deletes them as the rows say (images.py).
        self.images.publish(staged.present())
        return stored

    def _add_flows(self, group: list[dict[str, Any]]) -> list[Flow | Exception]:
        """Write the rows of a group of :meth:`add_flow` calls in one transaction: for each, its
        stored flow, or the ``NotFound`` or ``Conflict`` that fails it alone."""
        if self._pipelined and all(values["id"] is None for values in group):
            try:
                with self._connect(write=True) as conn:
                    aliases = add_drawn_flows(conn, group)
                return [_stored_flow(values, alias) for values, alias in zip(group, aliases, strict=True)]
            except self._integrity_errors:
                pass  # a camera is missing: the checked write below says whose
        return self._add_checked_flows(group)

    def _add_checked_flows(self, group: list[dict[str, Any]]) -> list[Flow | Exception]:
        """:meth:`_add_flows`, checking the cameras and the given ids before writing."""
        outcomes: list[dict[str, Any] | Exception] = []
        with self._connect(write=True) as conn:
            camera_ids = sorted({values["camera_id"] for values in group})
            aliases: dict[int, str] = dict(conn.execute(_CAMERA_ALIASES, {"ids": camera_ids}).all())
            given = [values["id"] for values in group if values["id"] is not None]
            taken: set[int] = set()
            if given:  # checked under the total's row lock, which holds until the commit (module docstring)
                conn.execute(LOCK_FLOW_WRITES)
                taken = _existing_ids(conn, given)
            for values in group:
                if values["camera_id"] not in aliases:
                    outcomes.append(NotFound(f"camera {values['camera_id']}"))
                elif values["id"] in taken:  # stored, or given earlier in the group
                    outcomes.append(Conflict(f"flow {values['id']} exists"))
                else:
                    if values["id"] is not None:
                        taken.add(values["id"])
                    outcomes.append(values)
            rows = [outcome for outcome in outcomes if isinstance(outcome, dict)]
            if rows:
                # Counted first: the total's row lock then covers the ids drawn (module docstring).
                count_added(conn, Counter((row["camera_id"], row["ts"] // HOUR) for row in rows))
                self._insert_group(conn, rows)
                index_plates(conn, [(row["id"], row["ts"], row["plate"]) for row in rows])
        return [o if isinstance(o, Exception) else _stored_flow(o, aliases[o["camera_id"]]) for o in outcomes]

    @staticmethod
    def _insert_group(conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Insert flow rows, giving those without an id the one the database draws."""
        given = [row for row in rows if row["id"] is not None]
        if given:  # first, so that no drawn id is one of theirs
            _skip_given_ids(conn, max(row["id"] for row in given))
            _insert_flows(conn, given)
        # One at a time: not every database returns a multi-row insert's drawn ids in its rows' order.
        for row in rows:
            if row["id"] is None:
                drawn = {name: value for name, value in row.items() if name != "id"}
                row["id"] = _new_id(conn.execute(insert(flows).values(**drawn)))

    def import_flows(
        self, flows: Iterable[tuple[NewFlow, FlowImages]], *, batch_size: int = IMPORT_BATCH
    ) -> ImportResult:
        """Store flows that carry their ids, ``batch_size`` per transaction (fewer once a batch's
        pictures reach :data:`IMPORT_BATCH_BYTES`); skip ids that exist.

        ``ValueError`` for a flow without an id; ``NotFound`` when a flow's camera does not exist
        (batches before it stay stored). An import that added :data:`ANALYZE_AFTER` flows or more
        refreshes the planner's statistics on PostgreSQL and MariaDB (and vacuums on PostgreSQL), so
        that searches use the indexes that suit the new data at once rather than after the next
        automatic analysis (:func:`_analyze`).
        """
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        result = ImportResult()
        # One connection for the whole import, each batch a transaction of its own on it, written
        # while the next batch is read and prepared.
        with self._connect() as conn, bulk_load(conn):
            conn.execution_options(**{WRITE_OPTION: True})
            prepared = map(
                partial(_ImportBatch.of, conn.dialect), _batches(flows, batch_size, IMPORT_BATCH_BYTES)
            )
            writes = (partial(self._import_batch, conn, batch) for batch in prepared)
            for given, added in written_behind(writes, inline=conn.dialect.name == "sqlite"):
                result.added += added
                result.skipped += given - added
            if result.added >= ANALYZE_AFTER:
                _analyze(conn)
        return result

    def _import_batch(self, conn: Connection, batch: _ImportBatch) -> tuple[int, int]:
        """Store a batch; (flows given, flows added)."""
        wanted = batch.wanted
        skipped: set[int] = set()
        if batch.with_images:
            # Write no picture of a flow that will be skipped (the check is repeated under the lock).
            with self._connect() as reader:
                skipped = _existing_ids(reader, wanted)
        staged: list[str] = []
        try:
            if batch.with_images:
                for flow_id, (values, images) in wanted.items():
                    if flow_id in skipped:
                        continue
                    keys = self.images.stage(values["ts"], images)
                    values.update(image_key=keys.image_key, plate_image_key=keys.plate_image_key)
                    staged.extend(keys.present())
                self.images.sync()
            with conn.begin():
                conn.execute(LOCK_FLOW_WRITES)
                # Locked until the commit, so that no camera goes while its flows go in (see bulk_load).
                found = select(cameras.c.id).where(cameras.c.id.in_(batch.cameras)).with_for_update(read=True)
                missing = set(batch.cameras) - set(conn.execute(found).scalars())
                if missing:
                    raise NotFound(f"camera {min(missing)}")
                existing = _existing_ids(conn, wanted)
                if existing or batch.with_images:
                    # The rows made ahead hold flows that exist, or name no pictures. A flow skipped
                    # above stays skipped, though it went meanwhile: its pictures were not written.
                    batch = batch.without(existing | skipped)
                if batch.rows:
                    _skip_given_ids(conn, batch.top)
                    insert_bulk(conn, batch.flows)
                    index_plates(conn, batch.plates)
                    count_added(conn, batch.hours)
        except BaseException:
            self.images.discard(staged)
            raise
        if batch.with_images:
            self.images.discard(key for flow_id in existing for key in _image_keys(wanted[flow_id][0]))
            self.images.publish(key for row in batch.rows for key in _image_keys(row))
        return batch.given, len(batch.rows)

    # -- flows: reading --------------------------------------------------------------------------
    def update_flow_read(
        self, flow_id: int, *, plate: str | None, score: float, lpr_version: str, plate_image: bytes | None
    ) -> Flow:
        """Replace a flow's read; the new plate picture is staged and published like :meth:`add_flow`'s,
        and the old one is deleted once the row no longer names it."""
        old = self.get_flow(flow_id)
        if old is None:
            raise NotFound(f"Object not found: {flow_id}")
        read = NewFlow(
            camera_id=old.camera_id,
            plate=plate,
            score=score,
            timestamp=old.timestamp,
            trigger_mode=old.trigger_mode,
            lpr_version=lpr_version,
        )
        staged = self.images.stage(epoch_seconds(old.timestamp), FlowImages(plate_image=plate_image))
        values = _flow_values(read, staged)
        changes = {
            name: values[name]
            for name in ("plate", "plate_key", "plate_rkey", "score", "lpr_version", "plate_image_key")
        }
        try:
            if staged.present():
                self.images.sync()
            with self._connect(write=True) as conn:
                # The total's row lock first, as every writer of the plate index takes it (grams.py);
                # then the plate as it is now, locked: its grams and pieces are the ones to replace.
                conn.execute(LOCK_FLOW_WRITES)
                current = conn.execute(
                    select(flows.c.ts, flows.c.plate).where(flows.c.id == flow_id).with_for_update()
                ).first()
                updated = current is not None
                if current is not None:
                    conn.execute(update(flows).where(flows.c.id == flow_id).values(**changes))
                    unindex_plates(conn, [(flow_id, current.ts, current.plate)])
                    index_plates(conn, [(flow_id, current.ts, values["plate"])])
            if not updated:
                raise NotFound(f"Object not found: {flow_id}")
        except BaseException:
            self.images.discard(staged.present())
            raise
        self.images.publish(staged.present())
        if old.plate_image_key is not None:
            self.images.remove([old.plate_image_key])
        return msgspec.structs.replace(
            old,
            plate=values["plate"],
            score=values["score"],
            lpr_version=lpr_version,
            plate_image_key=staged.plate_image_key,
        )

    def get_flow(self, flow_id: int) -> Flow | None:
        rows = self._fetch(self._by_id, {"id": flow_id})
        return _flow(rows[0]) if rows else None

    def get_images(self, flow: Flow) -> FlowImages:
        """The flow's pictures, read from their files (``None`` for a missing one, which is logged)."""
        return FlowImages(
            image=self.images.read(flow.image_key), plate_image=self.images.read(flow.plate_image_key)
        )

    def count_flows(self, where: Node) -> int:
        """From counters when ``where`` tests nothing or only the camera; else COUNT over the matches."""
        aliases = self._aliases_for(where)
        counted = self._counted(where, aliases)
        if counted is not None:
            return counted[0]
        short = plate_search.short_value(where)
        if short is not None:
            return self._pieces_holding(short)
        by_plate = plate_search.parse(where)
        statement: Select[Any]
        if by_plate is not None:
            statement = plate_search.count(by_plate)
        else:
            statement = select(func.count()).select_from(flows).where(compile_where(where, aliases))
        with self._connect() as conn:
            rows = self._read(conn, statement)
        return int(rows[0][0])

    def search_flows(self, where: Node, *, offset: int, limit: int) -> list[Flow]:
        """Matching flows, newest first (timestamp, then id, descending), ``limit`` from ``offset``.

        A deep page whose matches the counters know (no filter, or only cameras) starts in the hour
        that the hour counts, read from the nearer end, say holds it: OFFSET costs per row skipped,
        so its page skips no more than that hour's flows (:meth:`_page_by_hours`). A deep page of a
        short ``like`` starts, likewise, in the day that its piece's day counts say holds it
        (:meth:`_page_by_days`).
        """
        if offset < 0 or limit < 0:
            raise ValueError("offset and limit must not be negative")
        deep = offset >= DEEP_OFFSET
        if deep:
            found = self._page_by_hours(where, offset, limit)
            if found is not None:
                return found
        by_plate = plate_search.parse(where)
        if is_match_all(where):  # the API's default listing: its own fast path
            rows: Sequence[Any] = self._fetch(self._pages[deep], {"limit": limit, "offset": offset})
        elif by_plate is not None:  # walked in the plate grams' own order
            with self._connect() as conn:
                rows = self._read(conn, _flows_of(plate_search.page(by_plate, offset=offset, limit=limit)))
        elif (short := plate_search.short_value(where)) is not None and self._dense(short):
            if deep and (found := self._page_by_days(short, offset, limit)) is not None:
                return found
            statement = _page_statement(plate_search.scanning(short), deep=deep, offset=offset, limit=limit)
            with self._connect() as conn:
                rows = self._read(conn, statement)
        else:
            statement = _page_statement(self._where(where), deep=deep, offset=offset, limit=limit)
            with self._connect() as conn:
                rows = self._read(conn, statement)
        return [_flow(row) for row in rows]

    def _page_by_hours(self, where: Node, offset: int, limit: int) -> list[Flow] | None:
        """The page, found through the hour counts; ``None`` when they cannot find it (a filter that
        tests more than cameras, or flows that changed between the reads)."""
        counted = self._counted(where, self._aliases_for(where))
        if counted is None:
            return None
        total, selected = counted
        if offset >= total or limit == 0:
            return []
        newest = 2 * offset < total
        # Row numbers from the end the hours are read from.
        found = self._passing_hour(selected, newest=newest, row=offset if newest else total - 1 - offset)
        start = _start(found, total=total, offset=offset, newest=newest)
        if start is None:
            return None
        hour, skip = start
        values = {"below": (hour + 1) * HOUR, "offset": skip, "limit": limit}
        if selected is None:
            rows: Sequence[Any] = self._fetch(self._hour_page, values)
        else:
            clause = and_(flows.c.camera_id.in_(sorted(selected)), flows.c.ts < values["below"])
            statement = _page_statement(clause, deep=True, offset=skip, limit=limit)
            with self._connect() as conn:
                rows = self._read(conn, statement)
        return [_flow(row) for row in rows]

    def _page_by_days(self, value: str, offset: int, limit: int) -> list[Flow] | None:
        """The page of a ``like`` of one or two characters (folded) that many plates hold, walked
        through the time index from the end of the day that the pieces' day counts, read from the
        nearer end, say holds it: it skips no more than that day's flows. ``None`` when the counts
        cannot find it (flows that changed between the reads)."""
        total = self._pieces_holding(value)
        if offset >= total or limit == 0:
            return []
        newest = 2 * offset < total
        days = self._count_rows(self._piece_days[newest], {"piece": value}, newest=newest)
        found = passing(days, offset if newest else total - 1 - offset)
        start = _start(found, total=total, offset=offset, newest=newest)
        if start is None:
            return None
        day, skip = start
        clause = and_(plate_search.scanning(value), flows.c.ts < (day + 1) * DAY)
        with self._connect() as conn:
            rows = self._read(conn, _page_statement(clause, deep=True, offset=skip, limit=limit))
        return [_flow(row) for row in rows]

    def _pieces_holding(self, value: str) -> int:
        """How many stored plates hold ``value``, of one or two characters (folded)."""
        row = self._fetch(self._piece, {"piece": value})
        return int(row[0][0] or 0) if row else 0

    def _dense(self, value: str) -> bool:
        """Whether so many flows' plates hold ``value`` (one or two characters) that a walk through
        the time index finds a page sooner than the grams' key ranges do (:mod:`.plate_search`)."""
        if len(value) < PIECE_LENGTH:
            return True  # no index to find it by
        return self._pieces_holding(value) >= plate_search.DENSE * self.count_flows(MATCH_ALL)

    def _passing_hour(
        self, selected: frozenset[int] | None, *, newest: bool, row: int
    ) -> tuple[int, int, int] | None:
        """:func:`~.hours.passing` over the hours of all flows (``selected`` ``None``) or of these
        cameras, newest first when ``newest``, else oldest first.

        For one stream of hours (all flows, or one camera) the database sums each chunk of hours and
        sends a single row; only the chunk that holds ``row``, halved down to :data:`_FIRST_HOURS`
        hours, is read row by row: rows cost in the driver (PyMySQL parses one in ~7 us), and the
        middle of a year is 4,400 hours from either end.
        """
        if selected is not None and len(selected) > 1:  # their hours merged, row by row
            streams = [
                self._count_rows(self._camera_hours[newest], {"camera": camera}, newest=newest)
                for camera in sorted(selected)
            ]
            return passing(summed(streams, newest=newest), row)
        if selected is None:
            rows, sums, values = self._hours[newest], self._hour_sums[newest], {}
        else:
            (camera,) = selected
            rows, sums = self._camera_hours[newest], self._camera_hour_sums[newest]
            values = {"camera": camera}

        def summed_hours(edge: int, size: int) -> tuple[int, int, int | None]:
            """How many hours past ``edge`` (at most ``size``), their flows, and the last of them."""
            hours_n, flows_n, last = self._fetch(sums, {**values, "edge": edge, "n": size, "skip": 0})[0]
            return int(hours_n), int(flows_n), None if last is None else int(last)

        edge, size, before = (_FAR if newest else -_FAR), _FIRST_HOURS, 0
        while True:
            hours_n, flows_n, last = summed_hours(edge, size)
            if before + flows_n > row:
                break
            if hours_n < size or last is None:
                return None
            before, edge, size = before + flows_n, last, min(2 * size, _MOST_HOURS)
        while size > _FIRST_HOURS:  # the row is in these hours: in which half?
            half = size // 2
            hours_n, flows_n, last = summed_hours(edge, half)
            if before + flows_n > row:
                size = half
            elif hours_n < half or last is None:
                return None  # flows went meanwhile
            else:
                before, edge, size = before + flows_n, last, size - half
        counts = self._fetch(rows, {**values, "edge": edge, "n": size, "skip": 0})
        found = passing(((int(hour), int(flows_in_hour)) for hour, flows_in_hour in counts), row - before)
        if found is None:
            return None
        hour, inner, flows_in_hour = found
        return hour, before + inner, flows_in_hour

    def _count_rows(
        self, prepared: Prepared, values: Mapping[str, Any], *, newest: bool
    ) -> Iterator[tuple[int, int]]:
        """The rows of a statement of counts per hour or day (:func:`_counts_statement`), in growing
        chunks, each read only when the one before is used up."""
        edge, size = (_FAR if newest else -_FAR), _FIRST_HOURS
        while True:
            rows = self._fetch(prepared, {**values, "edge": edge, "n": size, "skip": 0})
            for hour, flows_in_hour in rows:
                yield int(hour), int(flows_in_hour)
            if len(rows) < size:
                return
            edge, size = rows[-1][0], min(2 * size, _MOST_HOURS)

    def _counted(self, where: Node, aliases: CameraAliases) -> tuple[int, frozenset[int] | None] | None:
        """How many flows match ``where``, and of which cameras (``None``: of all), when the counters
        know it (no filter, or only cameras); ``aliases`` as :meth:`_aliases_for` gives them."""
        if is_match_all(where):
            row = self._fetch(self._counter, {"name": TOTAL_FLOWS})
            return (int(row[0][0]) if row else 0), None
        if not needs_cameras(where):
            return None
        selected = camera_only(where, aliases)
        if selected is None:
            return None
        # Two reads without a transaction: a camera added in between counts as not there yet.
        values = dict(self._fetch(self._counters, {}))
        total = int(sum(values.get(camera_flows_counter(camera), 0) for camera in selected))
        # Every flow's camera exists: all cameras are all flows, whose hours need no summing.
        return total, None if selected == frozenset(aliases) else selected

    def iter_flows(self, where: Node, *, batch_size: int = 1000) -> Iterator[Flow]:
        """Matching flows, oldest first, fetched ``batch_size`` at a time after the last one seen.

        Keyset pagination: each batch is one indexed query that starts after the previous batch's last
        (timestamp, id), and no connection is held between batches.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        clause = self._where(where)
        base = select(*_FLOW_COLUMNS).order_by(*_OLDEST_FIRST).limit(batch_size)
        if clause is not None:
            base = base.where(clause)
        statement = base
        while True:
            with self._connect() as conn:
                rows = self._read(conn, statement)
            yield from map(_flow, rows)
            if len(rows) < batch_size:
                return
            last_ts, last_id = rows[-1][5], rows[-1][0]
            # A range on ts that the (ts, id) index serves, then the tie-break on id.
            statement = base.where(flows.c.ts >= last_ts, or_(flows.c.ts > last_ts, flows.c.id > last_id))

    # -- signing keys ----------------------------------------------------------------------------
    def signing_keys(self) -> list[SigningKey]:
        """All kept keys, newest first."""
        with self._connect() as conn:
            rows = conn.execute(
                select(signing_keys).order_by(signing_keys.c.created_us.desc(), signing_keys.c.id.desc())
            ).all()
        return [
            SigningKey(kid=row.kid, private_pem=row.private_pem, created_at=_from_us(row.created_us))
            for row in rows
        ]

    def add_signing_key(self, key: SigningKey, *, keep: int = 2) -> None:
        """Store ``key`` and delete all but the ``keep`` newest; ``Conflict`` if its ``kid`` exists."""
        if keep < 1:
            raise ValueError("keep at least the new key")
        with self._connect(write=True) as conn:
            try:
                conn.execute(
                    insert(signing_keys).values(
                        kid=key.kid, private_pem=key.private_pem, created_us=_epoch_us(key.created_at)
                    )
                )
            except sa_exc.IntegrityError as exc:
                raise Conflict(f"a signing key {key.kid!r} exists") from exc
            newest = (
                conn.execute(
                    select(signing_keys.c.id)
                    .order_by(signing_keys.c.created_us.desc(), signing_keys.c.id.desc())
                    .limit(keep)
                )
                .scalars()
                .all()
            )
            conn.execute(delete(signing_keys).where(signing_keys.c.id.not_in(newest)))

    # -- retention (see :mod:`.retention`) -------------------------------------------------------
    def delete_flows_before(self, before: datetime, *, limit: int) -> Pruned:
        """Delete up to ``limit`` oldest flows older than ``before``, and their pictures."""
        return self._prune(limit, epoch_seconds(before))

    def delete_oldest_flows(self, *, limit: int) -> Pruned:
        """Delete the ``limit`` oldest flows and their pictures."""
        return self._prune(limit, None)

    def images_bytes(self) -> int:
        """The bytes of the published pictures (day directories that did not change are not re-read)."""
        return self._image_usage.total()

    def _prune(self, limit: int, before: int | None) -> Pruned:
        with self._connect(write=True) as conn:
            deleted, keys = delete_oldest(conn, limit=limit, before=before)
        return Pruned(flows=deleted, image_bytes=remove_pictures(self.images, keys))

    @cached_property
    def _image_usage(self) -> ImageUsage:
        return ImageUsage(self.images.root)
