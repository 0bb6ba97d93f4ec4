"""Retention on the real default storage: old flows and the budget's excess go, in batches."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from seedata_core.errors import ConfigError
from seedata_core.filter_ast import MATCH_ALL
from seedata_core.models import FlowImages, NewCamera, NewFlow
from seedata_core.retention import Retention, RetentionPolicy, prune
from seedata_core.service import Seedata
from seedata_core.settings import Settings
from seedata_core.storage import Pruned, Storage

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
PICTURE = b"\xff\xd8" + b"x" * 98  # 100 bytes


def add_flows(
    storage: Storage, days_ago: list[float], images: FlowImages | None = None, *, now: datetime = NOW
) -> list[int]:
    camera = storage.get_camera_by_alias("Gate") or storage.add_camera(NewCamera(alias="Gate", source="s"))
    return [
        storage.add_flow(
            NewFlow(
                camera_id=camera.id,
                plate="abc123",
                score=0.9,
                timestamp=now - timedelta(days=days),
                trigger_mode="auto",
                lpr_version="v1",
            ),
            images or FlowImages(),
        ).id
        for days in days_ago
    ]


def remaining(storage: Storage) -> list[int]:
    return [flow.id for flow in storage.iter_flows(MATCH_ALL)]


def test_policy_from_settings(seedata_settings: Settings) -> None:
    assert not RetentionPolicy.from_settings(seedata_settings).active
    settings = msgspec.structs.replace(seedata_settings, retention_days=30, retention_max_gb=0.5)
    assert RetentionPolicy.from_settings(settings) == RetentionPolicy(days=30, max_image_bytes=2**29)
    for field in ("retention_days", "retention_max_gb"):
        with pytest.raises(ConfigError, match=field):
            Settings(**{field: 0})


def test_prune_by_age_deletes_only_older_flows_in_batches(seedata_storage: Storage) -> None:
    ids = add_flows(seedata_storage, [40, 31, 30.5, 29, 1, 0])
    pauses: list[int] = []

    def pause() -> bool:
        pauses.append(1)
        return False

    done = prune(seedata_storage, RetentionPolicy(days=30), now=NOW, batch_size=2, pause=pause)
    assert done == Pruned(flows=3, image_bytes=0)
    assert len(pauses) == 1  # a full batch of 2, a pause, then a short batch of 1
    assert remaining(seedata_storage) == ids[3:]
    assert seedata_storage.count_flows(MATCH_ALL) == 3
    assert prune(seedata_storage, RetentionPolicy(days=30), now=NOW) == Pruned()


def test_prune_by_budget_deletes_just_enough_of_the_oldest(seedata_storage: Storage) -> None:
    ids = add_flows(seedata_storage, [5, 4, 3, 2, 1], FlowImages(image=PICTURE, plate_image=PICTURE))
    assert seedata_storage.images_bytes() == 1000
    done = prune(seedata_storage, RetentionPolicy(max_image_bytes=500), batch_size=1000)
    assert done == Pruned(flows=3, image_bytes=600)  # 3 x 200 bytes: the least that fits 500
    assert remaining(seedata_storage) == ids[3:]
    assert seedata_storage.images_bytes() == 400
    assert prune(seedata_storage, RetentionPolicy(max_image_bytes=500)) == Pruned()


def test_budget_with_flows_without_pictures_stops_when_no_flow_is_left(
    seedata_storage: Storage, seedata_settings: Settings
) -> None:
    add_flows(seedata_storage, [3, 2])
    stray = seedata_settings.data_path / "images" / "2025" / "03" / "01" / "stray.bin"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"x" * 10)
    assert prune(seedata_storage, RetentionPolicy(max_image_bytes=5), batch_size=1) == Pruned(flows=2)
    assert remaining(seedata_storage) == []


def test_the_service_runs_retention_in_the_background(seedata_settings: Settings) -> None:
    with Seedata.open(seedata_settings) as seedata:
        assert seedata.start_retention() is None  # keep forever: no thread
    settings = msgspec.structs.replace(seedata_settings, retention_days=10)
    with Seedata.open(settings) as seedata:
        now = datetime.now(UTC)
        add_flows(seedata.storage, [20, 11], now=now)
        new = add_flows(seedata.storage, [9, 0], now=now)
        retention = seedata.start_retention()
        assert retention is not None
        assert seedata.start_retention() is retention
        deadline = time.monotonic() + 10
        while retention.passes == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert remaining(seedata.storage) == new
    assert seedata.retention is None  # close() stopped it


def test_a_failing_pass_is_logged_and_retried(
    seedata_storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    class Failing:
        calls = 0

        def delete_flows_before(self, before: datetime, *, limit: int) -> Pruned:
            self.calls += 1
            raise RuntimeError("boom")

    failing = Failing()
    retention = Retention(failing, RetentionPolicy(days=1), interval=0.01)  # type: ignore[arg-type]
    retention.start()
    deadline = time.monotonic() + 5
    while failing.calls < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    retention.stop()
    assert failing.calls >= 2
    assert "retention pass failed" in caplog.text
