"""Retention deletes: the oldest flows go in batches with their pictures, counters stay exact."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from seedata_storage_sql import SqlStorage, open_storage
from seedata_storage_sql.schema import TOTAL_FLOWS, camera_flows_counter, counters, flows
from sqlalchemy import func, select

from seedata_core.filter_ast import MATCH_ALL
from seedata_core.models import FlowImages, NewCamera, NewFlow
from seedata_core.settings import Settings
from seedata_core.storage import Pruned

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)  # make_flow's origin
FlowMaker = Callable[..., NewFlow]
SettingsMaker = Callable[..., Settings]
JPEG = b"\xff\xd8" + b"x" * 98  # 100 bytes
PLATE_JPEG = b"\xff\xd8" + b"p" * 48  # 50 bytes


def assert_counters_exact(storage: SqlStorage) -> None:
    """Every flow counter equals COUNT(*) over the rows it counts."""
    with storage.engine.connect() as conn:
        stored = dict(conn.execute(select(counters.c.name, counters.c.value)).all())
        total = conn.execute(select(func.count()).select_from(flows)).scalar_one()
        per_camera = dict(
            conn.execute(select(flows.c.camera_id, func.count()).group_by(flows.c.camera_id)).all()
        )
    assert stored[TOTAL_FLOWS] == total
    for camera in storage.list_cameras():
        assert stored[camera_flows_counter(camera.id)] == per_camera.get(camera.id, 0), camera.alias
    assert storage.count_flows(MATCH_ALL) == total


def picture_files(storage: SqlStorage) -> set[str]:
    root = storage.images.root
    return {str(path.relative_to(root)) for path in root.glob("[0-9]*/*/*/*.jpg")}


def test_deletes_the_flows_before_the_cut_in_batches(storage: SqlStorage, make_flow: FlowMaker) -> None:
    gate = storage.add_camera(NewCamera(alias="Gate", source="rtsp://gate")).id
    yard = storage.add_camera(NewCamera(alias="Yard", source="rtsp://yard")).id
    added = [
        storage.add_flow(
            make_flow(gate if i % 3 else yard, seconds=i * 3600),
            FlowImages(image=JPEG, plate_image=PLATE_JPEG if i % 2 else None),
        )
        for i in range(60)
    ]
    cut = added[45].timestamp  # flows 0..44 are before it
    doomed = {flow.id for flow in added[:45]}

    first = storage.delete_flows_before(cut, limit=20)
    assert first.flows == 20
    remaining = {flow.id for flow in storage.iter_flows(MATCH_ALL)}
    # Oldest first: exactly the 20 oldest went.
    assert remaining == {flow.id for flow in added[20:]}
    assert_counters_exact(storage)

    results = [first]
    while (pruned := storage.delete_flows_before(cut, limit=20)).flows:
        results.append(pruned)
    assert [r.flows for r in results] == [20, 20, 5]
    assert {flow.id for flow in storage.iter_flows(MATCH_ALL)} == {flow.id for flow in added} - doomed
    assert_counters_exact(storage)

    # Pictures: the deleted flows' files are gone, the kept ones' are there, the bytes add up.
    kept_keys = {k for f in added[45:] for k in (f.image_key, f.plate_image_key) if k is not None}
    assert picture_files(storage) == kept_keys
    gone = added[:45]
    assert sum(r.image_bytes for r in results) == sum(100 + (50 if f.plate_image_key else 0) for f in gone)
    assert storage.get_images(added[50]).image == JPEG


def test_delete_oldest_flows_respects_the_limit(
    storage: SqlStorage, camera_id: int, make_flow: FlowMaker
) -> None:
    # Equal timestamps are ordered by id, as the listing orders them.
    ids = [storage.add_flow(make_flow(camera_id, seconds=i // 2), FlowImages()).id for i in range(10)]
    assert storage.delete_oldest_flows(limit=3) == Pruned(flows=3, image_bytes=0)
    assert [f.id for f in storage.iter_flows(MATCH_ALL)] == ids[3:]
    assert storage.delete_oldest_flows(limit=100).flows == 7
    assert storage.delete_oldest_flows(limit=100) == Pruned()
    assert_counters_exact(storage)


def test_nothing_before_the_cut_deletes_nothing(
    storage: SqlStorage, camera_id: int, make_flow: FlowMaker
) -> None:
    storage.add_flow(make_flow(camera_id, seconds=10), FlowImages())
    assert storage.delete_flows_before(T0, limit=10) == Pruned()
    assert storage.count_flows(MATCH_ALL) == 1


def test_images_bytes_follows_writes_and_deletes(
    storage: SqlStorage, camera_id: int, make_flow: FlowMaker
) -> None:
    assert storage.images_bytes() == 0
    for day in range(3):
        storage.add_flow(
            make_flow(camera_id, seconds=day * 86_400), FlowImages(image=JPEG, plate_image=PLATE_JPEG)
        )
    assert storage.images_bytes() == 450
    # A new file in a day already summed is seen (the day directory's time changed).
    storage.add_flow(make_flow(camera_id, seconds=2 * 86_400 + 1), FlowImages(image=JPEG))
    assert storage.images_bytes() == 550
    assert storage.delete_oldest_flows(limit=1) == Pruned(flows=1, image_bytes=150)
    assert storage.images_bytes() == 400


def test_concurrent_pruners_and_writers_keep_counters_exact(
    storage: SqlStorage, make_settings: SettingsMaker, make_flow: FlowMaker
) -> None:
    cameras = [storage.add_camera(NewCamera(alias=f"cam{i}", source=f"rtsp://{i}")).id for i in range(3)]
    for i in range(300):
        storage.add_flow(make_flow(cameras[i % 3], seconds=i), FlowImages())
    cut = T0 + timedelta(hours=1)  # after every flow above
    other = open_storage(make_settings())
    deleted: list[int] = []
    errors: list[BaseException] = []

    def prune(pruner: SqlStorage) -> None:
        try:
            while (pruned := pruner.delete_flows_before(cut, limit=7)).flows:
                deleted.append(pruned.flows)
        except BaseException as exc:
            errors.append(exc)

    def write(writer: SqlStorage) -> None:
        try:
            for i in range(40):  # newer than the cut: never deleted
                writer.add_flow(make_flow(cameras[i % 3], seconds=7200 + i), FlowImages())
        except BaseException as exc:
            errors.append(exc)

    try:
        threads = [
            threading.Thread(target=prune, args=(storage,)),
            threading.Thread(target=prune, args=(other,)),
            threading.Thread(target=prune, args=(other,)),
            threading.Thread(target=write, args=(storage,)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        other.close()
    assert errors == []
    assert sum(deleted) == 300  # each flow deleted, and counted, exactly once
    assert storage.count_flows(MATCH_ALL) == 40
    assert_counters_exact(storage)


def test_other_files_are_left_alone_and_counted(
    storage: SqlStorage, camera_id: int, make_flow: FlowMaker
) -> None:
    stray = storage.images.root / "2024" / "05" / "01" / "notes.txt"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"operator's file")
    storage.add_flow(make_flow(camera_id), FlowImages(image=JPEG))
    assert storage.delete_oldest_flows(limit=5) == Pruned(flows=1, image_bytes=100)
    assert stray.read_bytes() == b"operator's file"
    assert storage.images_bytes() == len(b"operator's file")
