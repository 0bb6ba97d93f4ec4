"""A stateful property test of the flow storage against a model kept in Python.

Random sequences of inserts (``add_flow``), imports with given ids (some taken, so skipped) and
retention deletes (before a cut, or the oldest), with checks after every step: the counters (total
and per camera) equal COUNT(*) and the model; the hour counts (all flows' and each camera's) equal
the flows grouped by hour; the pages of the listing, put together, are the model newest first with
no gap and no duplicate, and so is a page found through the hour counts; the picture files are
exactly those of the stored flows.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from seedata_storage_sql import SqlStorage, open_storage
from seedata_storage_sql.grams import grams, pieces
from seedata_storage_sql.schema import (
    DAY,
    TOTAL_FLOWS,
    camera_flow_hours,
    camera_flows_counter,
    counters,
    flow_hours,
    flows,
    plate_grams,
    plate_piece_days,
)
from sqlalchemy import func, select

from seedata_core.filter_ast import MATCH_ALL, Cond
from seedata_core.models import FlowImages, NewCamera, NewFlow
from seedata_core.settings import Settings

T0 = datetime(2024, 5, 1, tzinfo=UTC)
ALIASES = ("north", "south", "east")
CAMERAS = st.integers(1, len(ALIASES))  # the ids of ALIASES, made in this order on an empty database
HOUR = 3600


def _seconds(step: int) -> int:
    """A time after T0 (an hour) on either side of hour boundaries, one second before T0 among them."""
    return step * (HOUR // 2 - 1) - 1


SECONDS = st.integers(0, 12).map(_seconds)  # few distinct times: ties are ordered by id
PLATES = st.one_of(st.none(), st.sampled_from(("abc123", "xyz9", "b")))
JPEG = b"\xff\xd8jpeg"


class Stored:
    """What the model knows of a flow."""

    def __init__(self, camera_id: int, seconds: int, keys: list[str]) -> None:
        self.camera_id = camera_id
        self.seconds = seconds
        self.keys = keys


class StorageMachine(RuleBasedStateMachine):
    def __init__(self, template: Path, url: str | None, emptier: Callable[..., None]) -> None:
        super().__init__()
        if url is not None:
            emptier(url)
        self.scratch = tempfile.TemporaryDirectory()
        data = Path(self.scratch.name) / "data"
        shutil.copytree(template, data)
        self.storage: SqlStorage = open_storage(Settings(data_dir=str(data), database_url=url))
        self.model: dict[int, Stored] = {}
        for alias in ALIASES:
            self.storage.add_camera(NewCamera(alias=alias, source="s"))

    def teardown(self) -> None:
        self.storage.close()
        self.scratch.cleanup()

    def _new_flow(
        self, camera_id: int, seconds: int, plate: str | None, flow_id: int | None = None
    ) -> NewFlow:
        return NewFlow(
            id=flow_id,
            camera_id=camera_id,
            plate=plate,
            score=0.0 if plate is None else 0.9,
            timestamp=T0 + timedelta(seconds=seconds),
            trigger_mode="auto",
            lpr_version="v1",
        )

    def _oldest(self, limit: int, before: int | None) -> list[int]:
        order = sorted(self.model, key=lambda flow_id: (self.model[flow_id].seconds, flow_id))
        return [i for i in order if before is None or self.model[i].seconds < before][:limit]

    @rule(camera_id=CAMERAS, seconds=SECONDS, plate=PLATES, with_image=st.booleans())
    def add_flow(self, camera_id: int, seconds: int, plate: str | None, with_image: bool) -> None:
        images = FlowImages(image=JPEG, plate_image=JPEG if plate else None) if with_image else FlowImages()
        flow = self.storage.add_flow(self._new_flow(camera_id, seconds, plate), images)
        assert flow.id not in self.model
        keys = [key for key in (flow.image_key, flow.plate_image_key) if key is not None]
        self.model[flow.id] = Stored(camera_id, seconds, keys)

    @rule(
        batch=st.lists(st.tuples(st.integers(1, 40), CAMERAS, SECONDS, PLATES), min_size=1, max_size=6),
        batch_size=st.integers(1, 4),
    )
    def import_flows(self, batch: list[tuple[int, int, int, str | None]], batch_size: int) -> None:
        result = self.storage.import_flows(
            (
                (self._new_flow(camera_id, seconds, plate, flow_id), FlowImages())
                for flow_id, camera_id, seconds, plate in batch
            ),
            batch_size=batch_size,
        )
        added = 0
        for flow_id, camera_id, seconds, _ in batch:
            if flow_id not in self.model:
                self.model[flow_id] = Stored(camera_id, seconds, [])
                added += 1
        assert (result.added, result.skipped) == (added, len(batch) - added)

    @rule(pick=st.integers(0, 1000), plate=PLATES, with_crop=st.booleans())
    def reread(self, pick: int, plate: str | None, with_crop: bool) -> None:
        """A stored flow read again (``seedata flows reread``): new plate and crop, same picture."""
        if not self.model:
            return
        flow_id = sorted(self.model)[pick % len(self.model)]
        crop = JPEG if with_crop and plate else None
        flow = self.storage.update_flow_read(
            flow_id, plate=plate, score=0.0 if plate is None else 0.8, lpr_version="v2", plate_image=crop
        )
        kept = [key for key in self.model[flow_id].keys if not key.endswith(".plate.jpg")]
        self.model[flow_id].keys = kept + ([flow.plate_image_key] if flow.plate_image_key else [])

    @rule(cut=st.integers(0, 14).map(_seconds), limit=st.integers(1, 8))
    def delete_flows_before(self, cut: int, limit: int) -> None:
        expected = self._oldest(limit, cut)
        pruned = self.storage.delete_flows_before(T0 + timedelta(seconds=cut), limit=limit)
        assert pruned.flows == len(expected)
        freed = sum(len(JPEG) for flow_id in expected for _ in self.model[flow_id].keys)
        assert pruned.image_bytes == freed
        for flow_id in expected:
            del self.model[flow_id]

    @rule(limit=st.integers(1, 5))
    def delete_oldest_flows(self, limit: int) -> None:
        expected = self._oldest(limit, None)
        assert self.storage.delete_oldest_flows(limit=limit).flows == len(expected)
        for flow_id in expected:
            del self.model[flow_id]

    @rule(per_page=st.integers(3, 7))
    def pages_put_together_are_the_model(self, per_page: int) -> None:
        listed: list[int] = []
        while page := self.storage.search_flows(MATCH_ALL, offset=len(listed), limit=per_page):
            assert len(page) <= per_page
            listed.extend(flow.id for flow in page)
        newest_first = sorted(self.model, key=lambda i: (self.model[i].seconds, i), reverse=True)
        assert listed == newest_first

    @rule(offset=st.integers(0, 40), limit=st.integers(1, 7), alias=st.sampled_from((None, *ALIASES)))
    def page_found_through_the_hours_is_the_model(self, offset: int, limit: int, alias: str | None) -> None:
        where = MATCH_ALL if alias is None else Cond("camera", "=", alias)
        kept = [i for i in self.model if alias is None or ALIASES[self.model[i].camera_id - 1] == alias]
        newest_first = sorted(kept, key=lambda i: (self.model[i].seconds, i), reverse=True)
        # Any offset, not only the deep ones that search_flows sends there.
        page = self.storage._page_by_hours(where, offset, limit)
        assert page is not None
        assert [flow.id for flow in page] == newest_first[offset : offset + limit]

    @invariant()
    def hour_counts_equal_flows_by_hour(self) -> None:
        with self.storage.engine.connect() as conn:
            stored = conn.execute(select(flows.c.camera_id, flows.c.ts)).all()
            hours = dict(conn.execute(select(flow_hours.c.hour, flow_hours.c.flows)).all())
            camera_hours = {(c, h): n for c, h, n in conn.execute(select(camera_flow_hours)).all()}
        t0 = int(T0.timestamp())
        modelled = Counter((flow.camera_id, (t0 + flow.seconds) // HOUR) for flow in self.model.values())
        assert camera_hours == dict(Counter((camera_id, ts // HOUR) for camera_id, ts in stored)) == modelled
        assert hours == dict(Counter(ts // HOUR for _, ts in stored))

    @invariant()
    def grams_and_pieces_are_those_of_stored_plates(self) -> None:
        with self.storage.engine.connect() as conn:
            plates = conn.execute(select(flows.c.id, flows.c.ts, flows.c.plate)).all()
            stored = set(conn.execute(select(plate_grams.c.gram, plate_grams.c.ts, plate_grams.c.flow_id)))
            counted = {(p, d): n for p, d, n in conn.execute(select(plate_piece_days)).all()}
        assert stored == {
            (gram, ts, flow_id) for flow_id, ts, plate in plates if plate for gram in grams(plate)
        }
        assert counted == Counter(
            (piece, ts // DAY) for _, ts, plate in plates if plate for piece in pieces(plate)
        )

    @invariant()
    def counters_equal_count(self) -> None:
        with self.storage.engine.connect() as conn:
            stored = dict(conn.execute(select(counters.c.name, counters.c.value)).all())
            total = conn.execute(select(func.count()).select_from(flows)).scalar_one()
            per_camera = dict(
                conn.execute(select(flows.c.camera_id, func.count()).group_by(flows.c.camera_id)).all()
            )
        assert stored[TOTAL_FLOWS] == total == len(self.model) == self.storage.count_flows(MATCH_ALL)
        for camera_id, alias in enumerate(ALIASES, start=1):
            expected = sum(1 for flow in self.model.values() if flow.camera_id == camera_id)
            assert stored[camera_flows_counter(camera_id)] == per_camera.get(camera_id, 0) == expected
            assert self.storage.count_flows(Cond("camera", "=", alias)) == expected

    @invariant()
    def pictures_are_those_of_stored_flows(self) -> None:
        root = self.storage.images.root
        files = {str(path.relative_to(root)) for path in root.glob("[0-9]*/*/*/*.jpg")}
        assert files == {key for flow in self.model.values() for key in flow.keys}


@pytest.fixture(scope="module")
def template(
    db: str, tmp_path_factory: pytest.TempPathFactory, server_databases: Any
) -> tuple[Path, str | None]:
    """A migrated data directory, and a database unless SQLite's file is in it."""
    data = tmp_path_factory.mktemp("stateful") / "data"
    url = None if db == "sqlite" else server_databases.create(db)
    open_storage(Settings(data_dir=str(data), database_url=url)).close()
    return data, url


def test_storage_matches_its_model(
    template: tuple[Path, str | None], empty_database: Callable[..., None]
) -> None:
    template_dir, url = template
    run_state_machine_as_test(
        lambda: StorageMachine(template_dir, url, empty_database),
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
