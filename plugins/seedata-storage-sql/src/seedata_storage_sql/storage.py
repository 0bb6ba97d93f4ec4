"""The SQL storage: Seedata's :class:`~seedata_core.storage.Storage` on SQLAlchemy Core.

Reads are single Core statements outside any transaction; the hottest (the unfiltered page and count,
one flow by id, the cameras and the counters) are compiled once and run on the driver's cursor (see
:mod:`.prepared`). Every insert adds to the ``counters`` rows in its own transaction, so the unfiltered
count, and any count that tests only the camera, reads counters instead of counting rows. Reads of
flows run under the ``statement_timeout_ms`` deadline; writes wait at most that long for the lock.

On PostgreSQL and MariaDB, writers of flows take the row lock of the total counter first (SQLite's
write lock does the same for every write), so concurrent inserts and imports of any number of
processes are serialised where they meet: counters stay exact, an import's check for existing ids
holds until it commits, and PostgreSQL's id sequence is moved past imported ids before any insert
could draw one of them.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cached_property
from itertools import islice
from operator import itemgetter
from typing import Any, Final

import msgspec
from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Connection,
    CursorResult,
    Engine,
    Row,
    Select,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import Executable

from seedata_core.errors import Conflict, NotFound, StorageUnavailable
from seedata_core.filter_ast import Node, is_match_all
from seedata_core.filters import fold_case
from seedata_core.lookalike import canonical
from seedata_core.models import Camera, Flow, FlowImages, NewCamera, NewFlow, SigningKey, User
from seedata_core.storage import ImportResult, Pruned
from seedata_core.timezones import from_epoch

from .engine import WRITE_OPTION, bulk_load, one_line
from .grams import write_grams
from .images import NO_IMAGES, ImageStore, StagedImages, key_day
from .prepared import Prepared
from .retention import ImageUsage, delete_oldest, remove_pictures
from .schema import (
    TOTAL_FLOWS,
    camera_flows_counter,
    camera_leases,
    cameras,
    counters,
    flows,
    signing_keys,
    users,
)
from .watchdog import Watchdog
from .where import CameraAliases, camera_only, compile_where, needs_cameras

log = logging.getLogger(__name__)

AnyRow = Row[*tuple[Any, ...]]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_DAY: Final = 86_400
CAMERA_FIELDS: Final = frozenset(NewCamera.__struct_fields__)
DEEP_OFFSET: Final = 1000
"""From this offset on, a page finds its ids first (on an index alone where one covers the filter),
and one that the counters can count may be read from the oldest end (see ``search_flows``)."""

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


def _page_statement(
    clause: ColumnElement[bool] | None,
    *,
    oldest: bool,
    deep: bool,
    offset: int | BindParameter[Any],
    limit: int | BindParameter[Any],
) -> Select[Any]:
    """A page of the flows that satisfy ``clause`` (``None``: all), newest or ``oldest`` first.

    A ``deep`` page finds its ids first, on an index alone where one covers the filter (the time
    index for all flows, ``(camera_id, ts, id)`` for cameras): OFFSET then skips index entries, not
    table rows, and only the page's own rows are read from the table.
    """
    order = _OLDEST_FIRST if oldest else _NEWEST_FIRST
    if not deep:
        statement = select(*_FLOW_COLUMNS)
        if clause is not None:
            statement = statement.where(clause)
        return statement.order_by(*order).limit(limit).offset(offset)
    ids = select(flows.c.id)
    if clause is not None:
        ids = ids.where(clause)
    page = ids.order_by(*order).limit(limit).offset(offset).subquery("page")
    return select(*_FLOW_COLUMNS).select_from(page.join(flows, flows.c.id == page.c.id)).order_by(*order)


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


def _insert_flows(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """An executemany INSERT of flow rows, bypassing SQLAlchemy's per-row parameter handling.

    That handling costs more than SQLite's own insert, and the flows columns need no conversion
    (integers, floats, strings, NULL), so the compiled statement gets the driver's parameters directly.
    """
    compiled = insert(flows).compile(dialect=conn.dialect)
    if compiled.positiontup is None:
        params: list[Any] = rows
    else:
        params = list(map(itemgetter(*compiled.positiontup), rows))
    conn.exec_driver_sql(compiled.string, params)


_EXISTING_IDS = select(flows.c.id).where(flows.c.id.in_(bindparam("ids", expanding=True)))
_LOCK_FLOW_WRITES = select(counters.c.value).where(counters.c.name == TOTAL_FLOWS).with_for_update()
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


def _timed_out(reason: object) -> bool:
    """Whether a driver error says that the statement deadline stopped the statement."""
    message = str(reason)
    # SQLite's interrupt (the watchdog); MariaDB's "Query execution was interrupted
    # (max_statement_time exceeded)"; PostgreSQL's "canceling statement due to statement timeout".
    return "interrupted" in message or "statement timeout" in message


def _existing_ids(conn: Connection, ids: Collection[int]) -> set[int]:
    # A bound parameter: ``in_(values)`` would coerce a thousand literals each time it is built.
    return set(conn.execute(_EXISTING_IDS, {"ids": list(ids)}).scalars())


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
        dialect = engine.dialect
        self._counter = Prepared(
            select(counters.c.value).where(counters.c.name == bindparam("name")), dialect
        )
        # The unfiltered pages, by (oldest first, deep): see _page_statement and search_flows.
        self._pages = {
            (oldest, deep): Prepared(
                _page_statement(None, oldest=oldest, deep=deep, offset=_OFFSET, limit=_LIMIT), dialect
            )
            for oldest in (False, True)
            for deep in (False, True)
        }
        self._aliases = Prepared(select(cameras.c.id, cameras.c.alias), dialect)
        self._counters = Prepared(select(counters.c.name, counters.c.value), dialect)
        self._by_id = Prepared(select(*_FLOW_COLUMNS).where(flows.c.id == bindparam("id")), dialect)

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
                cursor = pooled.cursor()
                try:
                    with self._watchdog.deadline(pooled, self._timeout_s):
                        cursor.execute(prepared.sql, prepared.parameters(values))
                        return list(cursor.fetchall())
                finally:
                    cursor.close()
            finally:
                pooled.close()

    def _read(self, conn: Connection, statement: Select[Any]) -> Sequence[AnyRow]:
        with self._watchdog.deadline(conn.connection, self._timeout_s):
            return conn.execute(statement).all()

    def _camera_aliases(self) -> dict[int, str]:
        return dict(self._fetch(self._aliases, {}))

    def _where(self, where: Node) -> ColumnElement[bool] | None:
        """The WHERE clause for ``where`` (``None``: no condition)."""
        if is_match_all(where):
            return None
        aliases: CameraAliases = self._camera_aliases() if needs_cameras(where) else {}
        return compile_where(where, aliases)

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
                        flows.c.ts < start + _DAY,
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
        self, owner: str, camera_ids: Collection[int], *, ttl: float, now: datetime
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
        now_ms = _epoch_us(now) // 1000
        expires_ms = now_ms + round(ttl * 1000)
        with self._connect(write=True) as conn:
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
            with self._connect(write=True) as conn:
                alias = conn.execute(select(cameras.c.alias).where(cameras.c.id == flow.camera_id)).scalar()
                if alias is None:
                    raise NotFound(f"camera {flow.camera_id}")
                # Counted first: the total's row lock then covers the id it draws (module docstring).
                self._count(conn, {flow.camera_id: 1})
                if values["id"] is None:
                    del values["id"]
                else:
                    _skip_given_ids(conn, values["id"])
                try:
                    flow_id = _new_id(conn.execute(insert(flows).values(**values)))
                except sa_exc.IntegrityError as exc:
                    raise Conflict(f"flow {flow.id} exists") from exc
                write_grams(conn, [(flow_id, values["plate"])])
        except BaseException:
            self.images.discard(staged.present())
            raise
        self.images.publish(staged.present())
        return Flow(
            id=flow_id,
            camera_id=flow.camera_id,
            camera=alias,
            plate=values["plate"],
            score=values["score"],
            timestamp=from_epoch(values["ts"]),
            trigger_mode=flow.trigger_mode,
            lpr_version=flow.lpr_version,
            image_key=staged.image_key,
            plate_image_key=staged.plate_image_key,
        )

    def import_flows(
        self, flows: Iterable[tuple[NewFlow, FlowImages]], *, batch_size: int = 1000
    ) -> ImportResult:
        """Store flows that carry their ids, ``batch_size`` per transaction; skip ids that exist.

        ``ValueError`` for a flow without an id; ``NotFound`` when a flow's camera does not exist
        (batches before it stay stored).
        """
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        result = ImportResult()
        iterator = iter(flows)
        # One connection for the whole import, each batch a transaction of its own on it.
        with self._connect() as conn, bulk_load(conn):
            conn.execution_options(**{WRITE_OPTION: True})
            while batch := list(islice(iterator, batch_size)):
                added = self._import_batch(conn, batch)
                result.added += added
                result.skipped += len(batch) - added
        return result

    def _import_batch(self, conn: Connection, batch: list[tuple[NewFlow, FlowImages]]) -> int:
        wanted: dict[int, tuple[dict[str, Any], FlowImages]] = {}
        for flow, images in batch:
            if flow.id is None:
                raise ValueError("imported flows must carry their ids")
            if flow.id not in wanted:  # the first of repeated ids wins
                wanted[flow.id] = (_flow_values(flow), images)
        with_images = any(i.image is not None or i.plate_image is not None for _, i in wanted.values())
        if with_images:
            # Write no picture of a flow that will be skipped (the check is repeated under the lock).
            with self._connect() as reader:
                for flow_id in _existing_ids(reader, wanted):
                    del wanted[flow_id]
        staged: list[str] = []
        try:
            if with_images:
                for values, images in wanted.values():
                    keys = self.images.stage(values["ts"], images)
                    values.update(image_key=keys.image_key, plate_image_key=keys.plate_image_key)
                    staged.extend(keys.present())
                self.images.sync()
            with conn.begin():
                conn.execute(_LOCK_FLOW_WRITES)
                cameras_used = {values["camera_id"] for values, _ in wanted.values()}
                missing = cameras_used - set(conn.execute(select(cameras.c.id)).scalars())
                if missing:
                    raise NotFound(f"camera {min(missing)}")
                existing = _existing_ids(conn, wanted)
                rows = [values for flow_id, (values, _) in wanted.items() if flow_id not in existing]
                if rows:
                    _skip_given_ids(conn, max(row["id"] for row in rows))
                    _insert_flows(conn, rows)
                    write_grams(conn, [(row["id"], row["plate"]) for row in rows])
                    self._count(conn, Counter(row["camera_id"] for row in rows))
        except BaseException:
            self.images.discard(staged)
            raise
        if with_images:
            self.images.discard(key for flow_id in existing for key in _image_keys(wanted[flow_id][0]))
            self.images.publish(key for row in rows for key in _image_keys(row))
        return len(rows)

    @staticmethod
    def _count(conn: Connection, added: Mapping[int, int]) -> None:
        """Add to the flow counters, in the caller's transaction."""
        # The total first and the cameras in order: every writer locks rows in the same order.
        steps = {TOTAL_FLOWS: sum(added.values())}
        steps.update((camera_flows_counter(camera_id), n) for camera_id, n in sorted(added.items()))
        for name, n in steps.items():
            done = conn.execute(
                update(counters).where(counters.c.name == name).values(value=counters.c.value + n)
            )
            if done.rowcount == 0:
                conn.execute(insert(counters).values(name=name, value=n))

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
                updated = conn.execute(update(flows).where(flows.c.id == flow_id).values(**changes)).rowcount
                if updated:
                    write_grams(conn, [(flow_id, values["plate"])], replace=True)
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
        if is_match_all(where):
            total = self._fetch(self._counter, {"name": TOTAL_FLOWS})
            return int(total[0][0]) if total else 0
        aliases: CameraAliases = {}
        if needs_cameras(where):
            aliases = self._camera_aliases()
            selected = camera_only(where, aliases)
            if selected is not None:
                # Two reads without a transaction: a camera added in between counts as not there yet.
                values = dict(self._fetch(self._counters, {}))
                return sum(values.get(camera_flows_counter(camera), 0) for camera in selected)
        clause = compile_where(where, aliases)
        with self._connect() as conn:
            rows = self._read(conn, select(func.count()).select_from(flows).where(clause))
        return int(rows[0][0])

    def search_flows(self, where: Node, *, offset: int, limit: int) -> list[Flow]:
        """Matching flows, newest first (timestamp, then id, descending), ``limit`` from ``offset``.

        A deep page whose matches the counters know (no filter, or only cameras) nearer the oldest
        end than the newest is read from that end, oldest first, and turned around: OFFSET costs
        per row skipped, so no page skips more than half of its matches.
        """
        if offset < 0 or limit < 0:
            raise ValueError("offset and limit must not be negative")
        oldest = False
        if offset >= DEEP_OFFSET:
            total = self._counted(where)
            if total is not None and total - offset - limit < offset:
                oldest = True
                limit = max(min(limit, total - offset), 0)
                offset = max(total - offset - limit, 0)
                if limit == 0:
                    return []
        deep = offset >= DEEP_OFFSET
        if is_match_all(where):  # the API's default listing: its own fast path
            values = {"limit": limit, "offset": offset}
            rows: Sequence[Any] = self._fetch(self._pages[oldest, deep], values)
        else:
            statement = _page_statement(
                self._where(where), oldest=oldest, deep=deep, offset=offset, limit=limit
            )
            with self._connect() as conn:
                rows = self._read(conn, statement)
        found = [_flow(row) for row in rows]
        if oldest:
            found.reverse()
        return found

    def _counted(self, where: Node) -> int | None:
        """How many flows match ``where``, when the counters know it (no filter, or only cameras)."""
        if is_match_all(where):
            total = self._fetch(self._counter, {"name": TOTAL_FLOWS})
            return int(total[0][0]) if total else 0
        if not needs_cameras(where):
            return None
        selected = camera_only(where, self._camera_aliases())
        if selected is None:
            return None
        # Two reads without a transaction: a camera added in between counts as not there yet.
        values = dict(self._fetch(self._counters, {}))
        return int(sum(values.get(camera_flows_counter(camera), 0) for camera in selected))

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
