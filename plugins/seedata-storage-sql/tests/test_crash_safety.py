"""Crash safety of flow pictures: no flow without its pictures, no picture that nothing cleans up.

A real crash is a forked process that dies with ``os._exit`` at one step of a write, leaving its
files, locks and uncommitted transaction exactly as a crash would; the test then opens the data
directory again, as the restarted server would, and inspects what recovery made of it.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from seedata_storage_sql import SqlStorage, open_storage
from seedata_storage_sql import images as images_module
from seedata_storage_sql import storage as storage_module
from seedata_storage_sql.images import ImageStore

from seedata_core.filter_ast import MATCH_ALL
from seedata_core.models import FlowImages, NewCamera, NewFlow
from seedata_core.settings import Settings

DATABASES = ("sqlite",)
"""These tests are about SQLite itself."""

FlowMaker = Callable[..., NewFlow]
CRASHED = 71
FRAME, CROP = b"\xff\xd8frame", b"\xff\xd8crop"


def _die(*_args: Any, **_kwargs: Any) -> None:
    os._exit(CRASHED)


def _die_after(function: Callable[..., Any]) -> Callable[..., Any]:
    def dying(*args: Any, **kwargs: Any) -> None:
        function(*args, **kwargs)
        os._exit(CRASHED)

    return dying


def crash(settings: Settings, prepare: Callable[[], None], write: Callable[[SqlStorage], object]) -> None:
    """In a forked process: open the storage, ``prepare`` a fatal step, ``write``, and die at that step."""

    def child() -> None:
        storage = open_storage(settings)
        prepare()
        write(storage)
        os._exit(0)  # the write finished: the step never came

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(timeout=30)
    assert process.exitcode == CRASHED


def picture_files(data_dir: Path) -> dict[str, bytes]:
    """Every picture under ``images/`` outside staging, by key."""
    root = data_dir / "images"
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in root.rglob("*.jpg")
        if "staging" not in path.relative_to(root).parts
    }


def staging_entries(data_dir: Path) -> list[str]:
    return sorted(path.name for path in (data_dir / "images" / "staging").iterdir())


@contextmanager
def opened(settings: Settings) -> Iterator[SqlStorage]:
    storage = open_storage(settings)
    try:
        yield storage
    finally:
        storage.close()


@pytest.fixture
def gate(settings: Settings) -> int:
    with opened(settings) as storage:
        return storage.add_camera(NewCamera(alias="Gate", source="a")).id


def test_crash_after_staging_before_commit(
    settings: Settings, data_dir: Path, gate: int, make_flow: FlowMaker
) -> None:
    crash(
        settings,
        lambda: setattr(ImageStore, "sync", _die_after(ImageStore.sync)),
        lambda s: s.add_flow(make_flow(gate), FlowImages(image=FRAME, plate_image=CROP)),
    )
    staged = list((data_dir / "images" / "staging").rglob("*.jpg"))
    assert len(staged) == 2  # the crash left two durable staged pictures and a lock
    with opened(settings) as storage:
        assert storage.count_flows(MATCH_ALL) == 0
        assert list(storage.iter_flows(MATCH_ALL)) == []
        assert picture_files(data_dir) == {}
        # Only this storage's own lock and directory are left, besides the shared lock.
        assert staging_entries(data_dir) == sorted(
            [".lock", storage.images.instance, f"{storage.images.instance}.lock"]
        )


def test_crash_inside_the_transaction(
    settings: Settings, data_dir: Path, gate: int, make_flow: FlowMaker
) -> None:
    crash(
        settings,
        lambda: setattr(storage_module, "count_added", _die),
        lambda s: s.add_flow(make_flow(gate), FlowImages(image=FRAME, plate_image=CROP)),
    )
    with opened(settings) as storage:
        assert storage.count_flows(MATCH_ALL) == 0
        assert storage.get_flow(1) is None
        assert picture_files(data_dir) == {}
        assert list((data_dir / "images" / "staging").rglob("*.jpg")) == []


def test_crash_after_commit_before_publishing(
    settings: Settings, data_dir: Path, gate: int, make_flow: FlowMaker
) -> None:
    crash(
        settings,
        lambda: setattr(ImageStore, "publish", _die),
        lambda s: s.add_flow(make_flow(gate), FlowImages(image=FRAME, plate_image=CROP)),
    )
    with opened(settings) as storage:
        flow = storage.get_flow(1)
        assert flow is not None
        assert storage.count_flows(MATCH_ALL) == 1
        assert storage.get_images(flow) == FlowImages(image=FRAME, plate_image=CROP)
        assert picture_files(data_dir) == {flow.image_key: FRAME, flow.plate_image_key: CROP}
        assert list((data_dir / "images" / "staging").rglob("*.jpg")) == []


def test_crash_half_way_through_publishing(
    settings: Settings, data_dir: Path, gate: int, make_flow: FlowMaker
) -> None:
    def die_on_second_rename() -> None:
        renames: list[object] = []
        real_replace = os.replace

        def replace(source: Any, target: Any) -> None:
            renames.append(source)
            if len(renames) == 2:
                os._exit(CRASHED)
            real_replace(source, target)

        images_module.os.replace = replace  # type: ignore[assignment]

    crash(
        settings,
        die_on_second_rename,
        lambda s: s.add_flow(make_flow(gate), FlowImages(image=FRAME, plate_image=CROP)),
    )
    assert len(picture_files(data_dir)) == 1
    with opened(settings) as storage:
        flow = storage.get_flow(1)
        assert flow is not None
        assert picture_files(data_dir) == {flow.image_key: FRAME, flow.plate_image_key: CROP}


def test_import_crash_after_commit_before_publishing(
    settings: Settings, data_dir: Path, gate: int, make_flow: FlowMaker
) -> None:
    batch = [(make_flow(gate, i, id=10 + i), FlowImages(image=FRAME + bytes([i]))) for i in range(3)]
    crash(settings, lambda: setattr(ImageStore, "publish", _die), lambda s: s.import_flows(batch))
    with opened(settings) as storage:
        stored = list(storage.iter_flows(MATCH_ALL))
        assert [f.id for f in stored] == [10, 11, 12]
        assert [storage.get_images(f).image for f in stored] == [FRAME + bytes([i]) for i in range(3)]
        assert len(picture_files(data_dir)) == 3


def test_import_crash_before_commit(
    settings: Settings, data_dir: Path, gate: int, make_flow: FlowMaker
) -> None:
    batch = [(make_flow(gate, i, id=10 + i), FlowImages(image=FRAME)) for i in range(3)]
    crash(
        settings,
        lambda: setattr(ImageStore, "sync", _die_after(ImageStore.sync)),
        lambda s: s.import_flows(batch),
    )
    with opened(settings) as storage:
        assert storage.count_flows(MATCH_ALL) == 0
        assert picture_files(data_dir) == {}
        assert list((data_dir / "images" / "staging").rglob("*.jpg")) == []
        # The import can simply be run again.
        assert storage.import_flows(batch).added == 3


def test_a_failed_transaction_discards_its_staged_pictures(
    storage: SqlStorage, data_dir: Path, camera_id: int, make_flow: FlowMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(storage_module, "count_added", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        storage.add_flow(make_flow(camera_id), FlowImages(image=FRAME))
    with pytest.raises(RuntimeError, match="disk full"):
        storage.import_flows([(make_flow(camera_id, id=5), FlowImages(image=FRAME))])
    monkeypatch.undo()
    assert storage.count_flows(MATCH_ALL) == 0
    assert list(storage.images.own.iterdir()) == []
    assert picture_files(data_dir) == {}


def test_a_failed_publish_is_read_from_staging_and_settled_later(
    settings: Settings, data_dir: Path, camera_id: int, make_flow: FlowMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = open_storage(settings)
    try:

        def refuse(*_args: object) -> None:
            raise PermissionError("read-only file system")

        monkeypatch.setattr(images_module.os, "replace", refuse)
        flow = writer.add_flow(make_flow(camera_id), FlowImages(image=FRAME, plate_image=CROP))
        monkeypatch.undo()
        assert writer.get_flow(flow.id) == flow  # committed, so it is a stored flow
        assert picture_files(data_dir) == {}
        assert writer.get_images(flow) == FlowImages(image=FRAME, plate_image=CROP)
        with opened(settings) as reader:  # another process reads it from the writer's staging
            assert reader.get_images(flow) == FlowImages(image=FRAME, plate_image=CROP)
    finally:
        writer.close()  # settles its own staged pictures
    assert picture_files(data_dir) == {flow.image_key: FRAME, flow.plate_image_key: CROP}


def test_opening_leaves_a_live_storage_s_staged_pictures_alone(settings: Settings, data_dir: Path) -> None:
    with opened(settings) as writer:
        keys = writer.images.stage(1_700_000_000, FlowImages(image=FRAME))  # mid-write, not committed
        writer.images.sync()
        with opened(settings):
            pass
        assert writer.images.read(keys.image_key) == FRAME
        writer.images.discard(keys.present())


def test_leftover_lock_without_directory_is_cleaned(settings: Settings, data_dir: Path) -> None:
    orphan = data_dir / "images" / "staging" / f"{'0' * 32}.lock"
    orphan.touch()
    with opened(settings) as storage:
        assert not orphan.exists()
        assert storage.ping()
