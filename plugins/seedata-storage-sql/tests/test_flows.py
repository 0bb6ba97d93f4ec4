"""Flows: storing, importing, reading, counting, paging, and the counters behind the counts."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from seedata_storage_sql import SqlStorage, open_storage
from seedata_storage_sql import pipeline as pipeline_module
from seedata_storage_sql import storage as storage_module
from seedata_storage_sql.bulk import BulkRows
from seedata_storage_sql.grams import grams, pieces
from seedata_storage_sql.hours import HOUR
from seedata_storage_sql.schema import (
    DAY,
    camera_flow_hours,
    counters,
    flow_hours,
    flows,
    plate_grams,
    plate_piece_days,
)
from seedata_storage_sql.storage import DEEP_OFFSET
from sqlalchemy import Connection, func, select, text

from seedata_core.errors import Conflict, NotFound, StorageUnavailable
from seedata_core.filter_ast import MATCH_ALL, And, Cond, Not, Or
from seedata_core.filters import fold_case
from seedata_core.models import Flow, FlowImages, NewCamera, NewFlow
from seedata_core.settings import Settings

FlowMaker = Callable[..., NewFlow]
T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def assert_counters_match_rows(storage: SqlStorage) -> None:
    """The counters equal what COUNT(*) finds, in total and per camera."""
    with storage.engine.connect() as conn:
        values = dict(conn.execute(select(counters.c.name, counters.c.value)).all())
        total = conn.execute(select(func.count()).select_from(flows)).scalar()
        per_camera = dict(
            conn.execute(select(flows.c.camera_id, func.count()).group_by(flows.c.camera_id)).all()
        )
    assert values.pop("flows") == total
    for camera in storage.list_cameras():
        assert values.pop(f"flows:camera:{camera.id}") == per_camera.get(camera.id, 0)
    assert values == {}


def test_add_flow_and_read_it_back(storage: SqlStorage, camera_id: int, make_flow: FlowMaker) -> None:
    jpeg, crop = b"\xff\xd8frame\xff\xd9", b"\xff\xd8plate\xff\xd9"
    moment = T0 + timedelta(microseconds=600_000)
    flow = storage.add_flow(
        make_flow(camera_id, plate="ABC1234", timestamp=moment), FlowImages(image=jpeg, plate_image=crop)
    )
    assert flow.id == 1
    assert (flow.camera, flow.plate, flow.timestamp) == ("Gate", "abc1234", T0)  # folded, whole seconds
    assert flow.image_key is not None
    assert flow.image_key.startswith("2024/05/01/")
    assert flow.plate_image_key is not None
    assert flow.plate_image_key.endswith(".plate.jpg")
    assert storage.get_flow(flow.id) == flow
    assert storage.get_flow(flow.id + 1) is None
    assert storage.get_images(flow) == FlowImages(image=jpeg, plate_image=crop)
    assert storage.images.root.joinpath(flow.image_key).read_bytes() == jpeg


def test_flow_without_plate_or_images(storage: SqlStorage, camera_id: int, make_flow: FlowMaker) -> None:
    flow = storage.add_flow(make_flow(camera_id, plate=None, score=0.0), FlowImages())
    assert (flow.plate, flow.image_key, flow.plate_image_key) == (None, None, None)
    assert storage.get_images(flow) == FlowImages()
    only_frame = storage.add_flow(make_flow(camera_id), FlowImages(image=b"frame"))
    assert only_frame.plate_image_key is None
    assert storage.get_images(only_frame) == FlowImages(image=b"frame")


def test_add_flow_errors(storage: SqlStorage, camera_id: int, make_flow: FlowMaker) -> None:
    with pytest.raises(NotFound):
        storage.add_flow(make_flow(camera_id + 1), FlowImages(image=b"x"))
    kept = storage.add_flow(make_flow(camera_id, id=42), FlowImages())
    assert kept.id == 42
    with pytest.raises(Conflict):
        storage.add_flow(make_flow(camera_id, id=42), FlowImages(image=b"y"))
    with pytest.raises(ValueError, match="naive"):
        storage.add_flow(make_flow(camera_id, timestamp=datetime(2024, 1, 1)), FlowImages())
    assert storage.count_flows(MATCH_ALL) == 1
    assert list(storage.images.own.iterdir()) == []  # no staged picture is left behind
    assert_counters_match_rows(storage)


def test_missing_image_file_reads_as_none(storage: SqlStorage, camera_id: int, make_flow: FlowMaker) -> None:
    flow = storage.add_flow(make_flow(camera_id), FlowImages(image=b"frame", plate_image=b"crop"))
    assert flow.image_key is not None
    storage.images.root.joinpath(flow.image_key).unlink()
    assert storage.get_images(flow) == FlowImages(image=None, plate_image=b"crop")


def test_search_orders_newest_first_and_pages(
    storage: SqlStorage, camera_id: int, make_flow: FlowMaker
) -> None:
    # Equal timestamps are ordered by id; ids deliberately disagree with time.
    seconds = {10: 5, 11: 5, 12: 1, 13: 9, 14: 5}
    storage.import_flows((make_flow(camera_id, s, id=i), FlowImages()) for i, s in seconds.items())
    assert [f.id for f in storage.search_flows(MATCH_ALL, offset=0, limit=10)] == [13, 14, 11, 10, 12]
    assert [f.id for f in storage.search_flows(MATCH_ALL, offset=1, limit=2)] == [14, 11]
    assert storage.search_flows(MATCH_ALL, offset=5, limit=2) == []
    assert storage.search_flows(MATCH_ALL, offset=0, limit=0) == []
    assert [f.id for f in storage.iter_flows(MATCH_ALL, batch_size=2)] == [12, 10, 11, 14, 13]
    with pytest.raises(ValueError, match="negative"):
        storage.search_flows(MATCH_ALL, offset=-1, limit=2)


def test_filtered_search_count_and_iteration(storage: SqlStorage, make_flow: FlowMaker) -> None:
    gate = storage.add_camera(NewCamera(alias="Gate", source="a")).id
    back = storage.add_camera(NewCamera(alias="Back_Door", source="b")).id
    made = [
        storage.add_flow(make_flow(gate, 1, plate="abc123"), FlowImages()),
        storage.add_flow(make_flow(back, 2, plate="a8c123", trigger_mode="manual"), FlowImages()),
        storage.add_flow(make_flow(back, 3, plate=None, score=0.0), FlowImages()),
        storage.add_flow(make_flow(gate, 4, plate="xyz9"), FlowImages()),
    ]
    ids = [f.id for f in made]
    cases = {
        Cond("camera", "=", "back_door"): [ids[2], ids[1]],
        Cond("camera", "like", "_d"): [ids[2], ids[1]],
        Cond("camera", "like", "%"): [],
        Not(Cond("camera", "=", "gate")): [ids[2], ids[1]],
        Cond("plate", "=", "abc123"): [ids[0]],
        Cond("plate", "!=", "abc123"): [ids[3], ids[1]],
        Not(Cond("plate", "=", "abc123")): [ids[3], ids[2], ids[1]],
        Cond("plate", "similar", "a8c123"): [ids[1], ids[0]],
        Cond("trigger_mode", "=", "manual"): [ids[1]],
        And((Cond("camera", "=", "gate"), Cond("plate", "like", "c1"))): [ids[0]],
        Or((Cond("id", "in", (ids[0],)), Cond("score", "<", 0.5))): [ids[2], ids[0]],
        Cond("timestamp", ">=", int((T0 + timedelta(seconds=3)).timestamp())): [ids[3], ids[2]],
        Or(()): [],
    }
    for node, expected in cases.items():
        assert [f.id for f in storage.search_flows(node, offset=0, limit=10)] == expected, node
        assert storage.count_flows(node) == len(expected), node
        assert [f.id for f in storage.iter_flows(node, batch_size=1)] == expected[::-1], node


def test_unknown_conditions_are_refused(storage: SqlStorage) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        storage.search_flows(Cond("trigger_mode", "like", "a"), offset=0, limit=1)


def test_import_keeps_ids_and_is_idempotent(storage: SqlStorage, make_flow: FlowMaker) -> None:
    gate = storage.add_camera(NewCamera(alias="Gate", source="a")).id
    back = storage.add_camera(NewCamera(alias="Back", source="b")).id
    batch = [
        (make_flow(gate, 1, id=100), FlowImages(image=b"frame100", plate_image=b"crop100")),
        (make_flow(back, 2, id=7, plate=None), FlowImages()),
        (
            make_flow(gate, 3, id=100, plate="other"),
            FlowImages(image=b"repeated"),
        ),  # a repeat within the input
        (make_flow(back, 4, id=55), FlowImages(image=b"frame55")),
    ]
    first = storage.import_flows(batch, batch_size=2)
    assert msgspec.structs.asdict(first) == {"added": 3, "skipped": 1}
    stored = {f.id: f for f in storage.iter_flows(MATCH_ALL)}
    assert sorted(stored) == [7, 55, 100]
    assert stored[100].plate == "abc123"  # the first of a repeated id wins
    assert storage.get_images(stored[100]) == FlowImages(image=b"frame100", plate_image=b"crop100")
    assert storage.get_images(stored[55]) == FlowImages(image=b"frame55")
    again = storage.import_flows(batch)
    assert msgspec.structs.asdict(again) == {"added": 0, "skipped": 4}
    assert {f.id: f for f in storage.iter_flows(MATCH_ALL)} == stored
    assert storage.count_flows(MATCH_ALL) == 3
    assert storage.count_flows(Cond("camera", "=", "back")) == 2
    assert_counters_match_rows(storage)
    # Nothing staged is left, and no picture of a skipped flow was written.
    assert list(storage.images.own.iterdir()) == []
    pictures = [p for p in storage.images.root.rglob("*.jpg") if "staging" not in p.parts]
    assert len(pictures) == 3
    # New flows get ids above the imported ones.
    assert storage.add_flow(make_flow(gate), FlowImages()).id == 101


# Strings that the bulk paths write out themselves: quotes, escapes, COPY's separators and NULL
# marker, a percent sign (PyMySQL formats % when given parameters), characters beyond ASCII.
AWKWARD_TEXT = [
    "",
    "it's",
    'say "hi"',
    "back\\slash",
    "50%",
    "%s",
    "tab\there",
    "line\nfeed",
    "cr\rlf",
    "\\N",
    "NULL",
    "ção ⚡ 車",
    "x\x1ay",
    "a,b);--",
]


def test_imported_text_arrives_exactly(storage: SqlStorage, camera_id: int, make_flow: FlowMaker) -> None:
    # Enough rows for PostgreSQL's COPY (bulk.COPY_FROM), each string as a plate and as a version.
    batch = [
        (
            make_flow(
                camera_id, i, id=i + 1, plate=f"p{text}" if i % 2 else None, lpr_version=text, score=i / 1000
            ),
            FlowImages(),
        )
        for i, text in enumerate(AWKWARD_TEXT * 10)
    ]
    assert storage.import_flows(batch).added == len(batch)
    stored = {f.id: f for f in storage.iter_flows(MATCH_ALL)}
    for flow, _ in batch:
        got = stored[flow.id]
        plate = None if flow.plate is None else fold_case(flow.plate)  # plates are stored folded
        assert (got.plate, got.lpr_version, got.score) == (plate, flow.lpr_version, flow.score), flow.id
    assert storage.count_flows(Cond("plate", "like", "ção")) == 10
    assert_counters_match_rows(storage)


def test_an_import_below_the_stored_ids_adds_them(
    storage: SqlStorage, camera_id: int, make_flow: FlowMaker
) -> None:
    storage.import_flows([(make_flow(camera_id, 0, id=1000), FlowImages())])
    result = storage.import_flows([(make_flow(camera_id, i, id=i), FlowImages()) for i in (1, 500, 999)])
    assert msgspec.structs.asdict(result) == {"added": 3, "skipped": 0}
    result = storage.import_flows([(make_flow(camera_id, i, id=i), FlowImages()) for i in (2, 500, 1001)])
    assert msgspec.structs.asdict(result) == {"added": 2, "skipped": 1}
    assert sorted(f.id for f in storage.iter_flows(MATCH_ALL)) == [1, 2, 500, 999, 1000, 1001]
    assert_counters_match_rows(storage)


def test_an_import_stops_at_its_first_error(
    storage: SqlStorage, camera_id: int, make_flow: FlowMaker
) -> None:
    # The third batch cannot be read while the second, which names no camera, is being written:
    # the second's error is the one raised, and the first batch stays stored.
    def lines() -> Iterable[tuple[NewFlow, FlowImages]]:
        yield (make_flow(camera_id, 1, id=1), FlowImages())
        yield (make_flow(camera_id + 1, 2, id=2), FlowImages())
        raise ValueError("line 3: unreadable")

    with pytest.raises(NotFound):
        storage.import_flows(lines(), batch_size=1)
    assert [f.id for f in storage.iter_flows(MATCH_ALL)] == [1]
    assert_counters_match_rows(storage)


def test_import_errors(storage: SqlStorage, camera_id: int, make_flow: FlowMaker) -> None:
    with pytest.raises(ValueError, match="ids"):
        storage.import_flows([(make_flow(camera_id), FlowImages())])
    with pytest.raises(NotFound):
        storage.import_flows(
            [
                (make_flow(camera_id, id=1), FlowImages(image=b"a")),
                (make_flow(camera_id + 1, id=2), FlowImages(image=b"b")),
            ]
        )
    with pytest.raises(ValueError, match="batch_size"):
        storage.import_flows([], batch_size=0)
    assert storage.count_flows(MATCH_ALL) == 0
    assert list(storage.images.own.iterdir()) == []
    assert_counters_match_rows(storage)


def test_counters_follow_inserts_imports_and_camera_removal(
    storage: SqlStorage, make_flow: FlowMaker
) -> None:
    cams = [storage.add_camera(NewCamera(alias=f"cam{i}", source="s")).id for i in range(3)]
    for i in range(7):
        storage.add_flow(make_flow(cams[i % 2], i), FlowImages())
    storage.import_flows((make_flow(cams[i % 3], i, id=1000 + i), FlowImages()) for i in range(11))
    assert_counters_match_rows(storage)
    assert storage.count_flows(MATCH_ALL) == 18
    assert storage.count_flows(Cond("camera", "=", "cam2")) == 3
    assert storage.count_flows(Or((Cond("camera", "=", "cam0"), Cond("camera", "like", "2")))) == 4 + 4 + 3
    assert storage.count_flows(Not(Cond("camera", "=", "cam0"))) == 18 - 8
    empty = storage.add_camera(NewCamera(alias="unused", source="s")).id
    storage.remove_camera(empty)
    storage.remove_camera(cams[2])
    assert_counters_match_rows(storage)


def test_statement_timeout_stops_a_runaway_read(make_settings: Callable[..., Settings]) -> None:
    opened = open_storage(make_settings(statement_timeout_ms=50))
    # A billion rows to count (MariaDB stops a recursion at 1000 rows, so the CTE stays below that).
    endless = text(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000)"
        " SELECT count(*) FROM n AS a, n AS b, n AS c"
    )
    try:
        started = time.monotonic()
        with pytest.raises(StorageUnavailable, match="statement_timeout_ms"), opened._connect() as conn:
            opened._read(conn, endless)  # type: ignore[arg-type]
        assert time.monotonic() - started < 2
        assert opened.count_flows(Cond("plate", "like", "x")) == 0  # the storage works on
    finally:
        opened.close()


def test_threads_write_and_read_at_once(storage: SqlStorage, make_flow: FlowMaker) -> None:
    cams = [storage.add_camera(NewCamera(alias=f"cam{i}", source="s")).id for i in range(4)]
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(20):
                flow = storage.add_flow(
                    make_flow(cams[worker % 4], i), FlowImages(image=f"{worker}/{i}".encode())
                )
                assert storage.get_images(flow).image == f"{worker}/{i}".encode()
                storage.search_flows(MATCH_ALL, offset=0, limit=20)
                storage.count_flows(Cond("camera", "=", f"cam{worker % 4}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert storage.count_flows(MATCH_ALL) == 160
    assert_counters_match_rows(storage)


def test_deep_pages_match_shallow_ones(storage: SqlStorage, camera_id: int, make_flow: FlowMaker) -> None:
    # Past DEEP_OFFSET the unfiltered page is found another way; both must agree with the full order.
    storage.import_flows(
        (make_flow(camera_id, i // 3, id=5000 - i), FlowImages()) for i in range(DEEP_OFFSET + 60)
    )
    newest_first = [f.id for f in storage.iter_flows(MATCH_ALL)][::-1]
    for offset in (0, DEEP_OFFSET - 7, DEEP_OFFSET, DEEP_OFFSET + 45):
        page = storage.search_flows(MATCH_ALL, offset=offset, limit=20)
        assert [f.id for f in page] == newest_first[offset : offset + 20]
        assert page == [storage.get_flow(f.id) for f in page]


def test_an_import_over_thousands_of_hours_counts_each(
    storage: SqlStorage, camera_id: int, make_flow: FlowMaker
) -> None:
    """Thousands of hour counts changed by one batch, and by one retention batch."""
    flows = [make_flow(camera_id, i * 3600, id=i + 1, plate=f"{i:04d}x") for i in range(2500)]
    assert storage.import_flows((flow, FlowImages()) for flow in flows).added == 2500
    assert_hours_and_grams_match_rows(storage)
    storage.delete_flows_before(flows[1200].timestamp, limit=2000)
    assert storage.count_flows(MATCH_ALL) == 1300
    assert_hours_and_grams_match_rows(storage)


def test_import_batches_end_at_their_picture_budget(
    storage: SqlStorage, camera_id: int, make_flow: FlowMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two 600-byte pictures fill a 1000-byte budget: batches of two, so the flows before the bad
    # camera's batch stay stored although all fit one batch_size.
    monkeypatch.setattr(storage_module, "IMPORT_BATCH_BYTES", 1000)
    flows = [(make_flow(camera_id, i, id=i + 1), FlowImages(image=bytes(600))) for i in range(5)]
    flows.append((make_flow(camera_id + 1, 9, id=99), FlowImages(image=bytes(600))))
    with pytest.raises(NotFound):
        storage.import_flows(flows, batch_size=100)
    assert [flow.id for flow in storage.iter_flows(MATCH_ALL)] == [1, 2, 3, 4]
    assert_counters_match_rows(storage)


def test_a_large_import_refreshes_the_planner_statistics(
    storage: SqlStorage, camera_id: int, make_flow: FlowMaker, monkeypatch: pytest.MonkeyPatch, db: str
) -> None:
    monkeypatch.setattr(storage_module, "ANALYZE_AFTER", 3)
    before = maintenance(storage) if db == "postgresql" else (0, 0)
    storage.import_flows((make_flow(camera_id, i, id=i + 1), FlowImages()) for i in range(2))
    storage.import_flows((make_flow(camera_id, i, id=i + 10), FlowImages()) for i in range(3))
    assert storage.count_flows(MATCH_ALL) == 5
    if db == "postgresql":
        # Only the import that added three flows vacuumed and analysed both tables (autovacuum's
        # runs are counted apart).
        wanted = (before[0] + 2, before[1] + 2)
        deadline = time.monotonic() + 5  # a backend reports its statistics when it goes idle
        while maintenance(storage) != wanted and time.monotonic() < deadline:
            time.sleep(0.05)
        assert maintenance(storage) == wanted
        # The connection went back to the pool with its statement deadline and transactions: every
        # pooled connection, checked out at once, so the import's is among them.
        with ExitStack() as held:
            pooled = [
                held.enter_context(storage.engine.connect()) for _ in range(storage.engine.pool.checkedin())
            ]
            assert pooled
            for conn in pooled:
                assert conn.exec_driver_sql("SHOW statement_timeout").scalar_one() != "0"
                assert conn.get_isolation_level() != "AUTOCOMMIT"
    # Searches still work on the connections the import used.
    assert storage.count_flows(Cond("plate", "like", "abc")) == 5


def maintenance(storage: SqlStorage) -> tuple[int, int]:
    """How many times VACUUM and ANALYZE (not autovacuum's) ran on the flow tables, on PostgreSQL."""
    with storage.engine.connect() as conn:
        vacuums, analyses = conn.execute(
            text(
                "SELECT sum(vacuum_count), sum(analyze_count) FROM pg_stat_user_tables "
                "WHERE relname IN ('flows', 'plate_grams')"
            )
        ).one()
    return int(vacuums), int(analyses)


def assert_hours_and_grams_match_rows(storage: SqlStorage) -> None:
    """The hour counts equal the flows grouped by hour, and the plate grams are the stored plates'."""
    with storage.engine.connect() as conn:
        stored = conn.execute(select(flows.c.id, flows.c.camera_id, flows.c.ts, flows.c.plate)).all()
        hours = dict(conn.execute(select(flow_hours.c.hour, flow_hours.c.flows)).all())
        camera_hours = {(c, h): n for c, h, n in conn.execute(select(camera_flow_hours)).all()}
        stored_grams = set(conn.execute(select(plate_grams.c.flow_id, plate_grams.c.ts, plate_grams.c.gram)))
        stored_pieces = {(p, d): n for p, d, n in conn.execute(select(plate_piece_days)).all()}
    assert hours == dict(Counter(ts // HOUR for _, _, ts, _ in stored))
    assert camera_hours == dict(Counter((camera_id, ts // HOUR) for _, camera_id, ts, _ in stored))
    assert stored_grams == {(i, ts, gram) for i, _, ts, plate in stored if plate for gram in grams(plate)}
    assert stored_pieces == Counter(
        (piece, ts // DAY) for _, _, ts, plate in stored if plate for piece in pieces(plate)
    )


def stored_pictures(storage: SqlStorage) -> set[str]:
    root = storage.images.root
    return {str(path.relative_to(root)) for path in root.glob("[0-9]*/*/*/*.jpg")}


def assert_stored_exactly(storage: SqlStorage, stored: Iterable[Flow]) -> None:
    """Counters, hour counts and grams match the rows; the published pictures are those of the
    ``stored`` flows, and no picture is left in staging."""
    assert_counters_match_rows(storage)
    assert_hours_and_grams_match_rows(storage)
    assert stored_pictures(storage) == {
        key for flow in stored for key in (flow.image_key, flow.plate_image_key) if key
    }
    assert list(storage.images.own.iterdir()) == []


def group_sizes(storage: SqlStorage) -> list[int]:
    """Record how many flows each group transaction of ``add_flow`` writes."""
    sizes: list[int] = []
    write = storage._adding._write

    def recording(group: list[Any]) -> Any:
        sizes.append(len(group))
        return write(group)

    storage._adding._write = recording
    return sizes


def test_a_group_is_written_at_once_or_its_missing_cameras_fail_alone(
    storage: SqlStorage, camera_id: int, make_flow: FlowMaker
) -> None:
    # On PostgreSQL a group of new flows is written without checking its cameras (pipeline.py); a
    # missing one fails that write, and the group is written again the checked way.
    def group(*flows: NewFlow) -> list[Flow | Exception]:
        return storage._add_flows([storage_module._flow_values(flow) for flow in flows])

    first, missing, unread = group(
        make_flow(camera_id, 0, plate="abc123"),
        make_flow(camera_id + 1, 10, plate="xyz987"),
        make_flow(camera_id, 2 * HOUR, plate=None),
    )
    assert isinstance(missing, NotFound)
    assert str(missing) == f"camera {camera_id + 1}"
    stored = [flow for flow in (first, unread) if isinstance(flow, Flow)]
    assert [(flow.camera, flow.plate) for flow in stored] == [("Gate", "abc123"), ("Gate", None)]
    stored += [
        flow
        for flow in group(make_flow(camera_id, 5, plate="abd124"), make_flow(camera_id, 6, plate="bd1"))
        if isinstance(flow, Flow)
    ]
    assert len(stored) == 4
    assert [flow.id for flow in stored] == sorted({flow.id for flow in stored})  # drawn in order
    for flow in stored:
        assert storage.get_flow(flow.id) == flow
    assert_stored_exactly(storage, stored)


def test_a_group_of_awkward_text_is_stored_exactly(
    storage: SqlStorage, camera_id: int, make_flow: FlowMaker
) -> None:
    # A group's statements are written out and sent at once on PostgreSQL and MariaDB (pipeline.py).
    made = [
        make_flow(camera_id, i, plate=f"p{text}" if text else None, lpr_version=text)
        for i, text in enumerate(AWKWARD_TEXT)
    ]
    stored = storage._add_flows([storage_module._flow_values(flow) for flow in made])
    assert all(isinstance(flow, Flow) for flow in stored), stored
    for flow, new in zip(stored, made, strict=True):
        assert isinstance(flow, Flow)
        got = storage.get_flow(flow.id)
        assert got == flow
        plate = None if new.plate is None else fold_case(new.plate)
        assert (got.plate, got.lpr_version) == (plate, new.lpr_version)
    assert storage.count_flows(Cond("plate", "like", "ção")) == 1
    assert_stored_exactly(storage, [flow for flow in stored if isinstance(flow, Flow)])


def test_concurrent_adds_are_written_in_groups_each_with_its_own_result(
    storage: SqlStorage, make_flow: FlowMaker
) -> None:
    cams = [storage.add_camera(NewCamera(alias=f"cam{i}", source="s")).id for i in range(3)]
    taken = storage.add_flow(make_flow(cams[0], id=5000), FlowImages()).id
    sizes = group_sizes(storage)
    threads_n, per_thread = 24, 6
    start = threading.Barrier(threads_n)
    outcomes: dict[tuple[int, int], Any] = {}

    def flow_of(worker: int, i: int) -> tuple[NewFlow, FlowImages]:
        seconds = worker * 1000 + i * 700  # across hours
        pictures = FlowImages(image=f"{worker}/{i}".encode(), plate_image=b"crop") if i % 2 else FlowImages()
        if i == 1 and worker % 4 == 0:  # a camera that does not exist
            return make_flow(999, seconds), pictures
        if i == 3 and worker % 4 == 1:  # an id that is stored already
            return make_flow(cams[0], seconds, id=taken), pictures
        if i == 5:  # ids that two workers give (below the drawn ones): one of each pair is stored
            return make_flow(cams[worker % 3], seconds, id=100 + worker // 2, plate=f"p{worker}x"), pictures
        return make_flow(cams[worker % 3], seconds, plate=f"w{worker}i{i}"), pictures

    def work(worker: int) -> None:
        start.wait()
        for i in range(per_thread):
            try:
                outcomes[worker, i] = storage.add_flow(*flow_of(worker, i))
            except Exception as exc:
                outcomes[worker, i] = exc

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert max(sizes) > 1  # callers did meet in a transaction
    stored: dict[int, Flow] = {}
    for (worker, i), outcome in outcomes.items():
        new, pictures = flow_of(worker, i)
        if new.camera_id == 999:
            assert isinstance(outcome, NotFound)
            assert str(outcome) == "camera 999"
        elif new.id == taken:
            assert isinstance(outcome, Conflict)
            assert str(outcome) == f"flow {taken} exists"
        elif isinstance(outcome, Conflict):  # the pair's other id won
            assert new.id is not None
            assert str(outcome) == f"flow {new.id} exists"
            partner = outcomes[worker ^ 1, i]
            assert isinstance(partner, Flow)
            assert partner.id == new.id
        else:
            assert isinstance(outcome, Flow), outcome
            assert new.id is None or outcome.id == new.id
            assert (outcome.camera_id, outcome.camera, outcome.plate) == (
                new.camera_id,
                f"cam{cams.index(new.camera_id)}",
                new.plate,
            )
            assert outcome.timestamp == new.timestamp
            assert storage.get_flow(outcome.id) == outcome
            assert storage.get_images(outcome) == pictures
            stored[outcome.id] = outcome
    assert len(stored) == threads_n * per_thread - threads_n // 4 * 2 - threads_n // 2
    assert storage.count_flows(MATCH_ALL) == len(stored) + 1
    assert_stored_exactly(storage, stored.values())
    assert storage.add_flow(make_flow(cams[0]), FlowImages()).id > max(stored)  # drawn past every id


def _kill_own_connection(conn: Connection) -> None:
    """Lose this connection as a server that dies or drops it would (SQLite: its disk failing)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")
        if conn.connection.driver_connection.pgconn.pipeline_status:  # type: ignore[union-attr]
            return  # sent in a pipeline: the write fails when it waits for the results
    elif conn.dialect.name in ("mysql", "mariadb"):
        own = conn.exec_driver_sql("SELECT CONNECTION_ID()").scalar_one()
        conn.exec_driver_sql(f"KILL {int(own)}")
    conn.exec_driver_sql("SELECT 1")  # the server has gone by now
    raise sqlite3.OperationalError("disk I/O error")


def after_the_rows_of_a_group(
    storage: SqlStorage, monkeypatch: pytest.MonkeyPatch, after_writing: Callable[[Connection, int], None]
) -> None:
    """Call ``after_writing(conn, flows)`` at the last step of each group's write, once its rows
    are written."""
    if storage.engine.dialect.name == "postgresql":
        real_count_pieces = pipeline_module.count_pieces

        def count_pieces(conn: Connection, plates: Iterable[str | None]) -> None:
            plates = list(plates)
            real_count_pieces(conn, plates)
            after_writing(conn, len(plates))

        monkeypatch.setattr(pipeline_module, "count_pieces", count_pieces)
    elif storage.engine.dialect.name in ("mysql", "mariadb"):
        real_add = pipeline_module._add_drawn_flows_mariadb

        def add_drawn_flows(conn: Connection, rows: list[dict[str, Any]]) -> list[str]:
            aliases = real_add(conn, rows)
            after_writing(conn, len(rows))
            return aliases

        monkeypatch.setattr(pipeline_module, "_add_drawn_flows_mariadb", add_drawn_flows)
    else:
        real_index_plates = storage_module.index_plates

        def index_plates(conn: Connection, rows: list[tuple[int, int, str | None]]) -> None:
            real_index_plates(conn, rows)
            after_writing(conn, len(rows))

        monkeypatch.setattr(storage_module, "index_plates", index_plates)


def test_a_database_failure_fails_the_callers_of_its_group_only(
    storage: SqlStorage, camera_id: int, make_flow: FlowMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    followers = 5
    calls: list[int] = []

    def after_writing(conn: Connection, written: int) -> None:
        calls.append(written)
        if len(calls) == 1:  # the first group waits until the others have all come to join
            deadline = time.monotonic() + 10
            while len(storage._adding._waiting) < followers and time.monotonic() < deadline:
                time.sleep(0.005)
        elif len(calls) == 2:
            _kill_own_connection(conn)

    # The failure comes mid-group.
    after_the_rows_of_a_group(storage, monkeypatch, after_writing)
    outcomes: dict[int, Any] = {}

    def add(n: int) -> None:
        try:
            outcomes[n] = storage.add_flow(make_flow(camera_id, n), FlowImages(image=f"{n}".encode()))
        except Exception as exc:
            outcomes[n] = exc

    first = threading.Thread(target=add, args=(0,))
    first.start()
    deadline = time.monotonic() + 10
    while not calls and time.monotonic() < deadline:
        time.sleep(0.001)
    assert calls, "the first flow's write did not reach the plates"
    others = [threading.Thread(target=add, args=(n,)) for n in range(1, followers + 1)]
    for thread in others:
        thread.start()
    for thread in [first, *others]:
        thread.join()
    monkeypatch.undo()
    assert calls == [1, followers]
    assert isinstance(outcomes[0], Flow)
    for n in range(1, followers + 1):
        assert isinstance(outcomes[n], StorageUnavailable), outcomes[n]
    assert list(storage.iter_flows(MATCH_ALL)) == [outcomes[0]]
    assert_stored_exactly(storage, [outcomes[0]])
    again = storage.add_flow(make_flow(camera_id, 9), FlowImages(image=b"9"))  # the storage works on
    assert storage.get_images(again) == FlowImages(image=b"9")


@pytest.mark.parametrize("written", [True, False])
def test_an_interrupted_add_leaves_its_pictures_to_the_rows(
    settings: Settings,
    storage: SqlStorage,
    camera_id: int,
    make_flow: FlowMaker,
    monkeypatch: pytest.MonkeyPatch,
    written: bool,
) -> None:
    """A Ctrl-C may reach a caller after its group took the row, or before: either way the pictures
    end as the rows say once the store closes."""
    real_submit = storage._adding.submit

    def submit(values: dict[str, Any]) -> Flow:
        if written:
            real_submit(values)
        raise KeyboardInterrupt

    monkeypatch.setattr(storage._adding, "submit", submit)
    with pytest.raises(KeyboardInterrupt):
        storage.add_flow(make_flow(camera_id), FlowImages(image=b"frame", plate_image=b"crop"))
    storage.close()
    reopened = open_storage(settings)
    try:
        flows = reopened.search_flows(MATCH_ALL, offset=0, limit=5)
        assert len(flows) == written
        if written:
            assert reopened.get_images(flows[0]) == FlowImages(image=b"frame", plate_image=b"crop")
        assert stored_pictures(reopened) == {key for f in flows for key in (f.image_key, f.plate_image_key)}
    finally:
        reopened.close()


def test_a_camera_removed_while_its_flows_are_imported_stays(
    storage: SqlStorage, make_flow: FlowMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import holds its cameras (MariaDB's imports skip the foreign key checks): a removal that
    comes meanwhile waits, then finds the flows and only disables the camera, or is refused."""
    camera_id = storage.add_camera(NewCamera(alias="Side", source="s")).id
    inserting, go = threading.Event(), threading.Event()
    real_insert = storage_module.insert_bulk

    def insert_slowly(conn: Connection, rows: BulkRows) -> None:
        inserting.set()
        go.wait(10)
        real_insert(conn, rows)

    monkeypatch.setattr(storage_module, "insert_bulk", insert_slowly)
    importer = threading.Thread(
        target=lambda: storage.import_flows([(make_flow(camera_id, id=7), FlowImages())])
    )
    importer.start()
    assert inserting.wait(10)
    outcome: list[BaseException | None] = []

    def remove() -> None:
        try:
            storage.remove_camera(camera_id)
            outcome.append(None)
        except Exception as exc:
            outcome.append(exc)

    remover = threading.Thread(target=remove)
    remover.start()
    remover.join(0.5)
    assert remover.is_alive()  # waiting for the import
    go.set()
    importer.join(10)
    remover.join(10)
    assert outcome
    camera = storage.get_camera(camera_id)
    assert camera is not None
    assert outcome[0] is not None or not camera.enabled
    flow = storage.get_flow(7)
    assert flow is not None
    assert flow.camera_id == camera_id
