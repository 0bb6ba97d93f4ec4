"""Replacing what was read in a stored flow (``flows reread``): row, counters and picture files."""

from __future__ import annotations

import pytest
from seedata_storage_sql import SqlStorage

from seedata_core.errors import NotFound
from seedata_core.filter_ast import MATCH_ALL, Cond
from seedata_core.lookalike import canonical
from seedata_core.models import FlowImages

from .conftest import FlowMaker


def test_a_read_replaces_plate_score_version_and_crop(
    storage: SqlStorage, camera_id: int, make_flow: FlowMaker
) -> None:
    flow = storage.add_flow(make_flow(camera_id, plate=None, score=0.0), FlowImages(image=b"\xff\xd8whole"))
    updated = storage.update_flow_read(
        flow.id, plate="abc1234", score=0.97, lpr_version="new 2.0", plate_image=b"\xff\xd8crop"
    )
    assert (updated.plate, updated.score, updated.lpr_version) == ("abc1234", 0.97, "new 2.0")
    stored = storage.get_flow(flow.id)
    assert stored == updated
    assert storage.get_images(stored) == FlowImages(image=b"\xff\xd8whole", plate_image=b"\xff\xd8crop")
    # The plate indexes follow: equality and look-alike searches find the new plate.
    assert [f.id for f in storage.search_flows(Cond("plate", "=", "abc1234"), offset=0, limit=5)] == [flow.id]
    assert [
        f.id for f in storage.search_flows(Cond("plate", "similar", canonical("abci234")), offset=0, limit=5)
    ] == [flow.id]
    assert storage.count_flows(MATCH_ALL) == 1

    cleared = storage.update_flow_read(
        flow.id, plate=None, score=0.0, lpr_version="new 2.1", plate_image=None
    )
    assert cleared.plate is None
    assert cleared.plate_image_key is None
    assert storage.get_images(cleared).plate_image is None
    assert storage.search_flows(Cond("plate", "=", "abc1234"), offset=0, limit=5) == []


def test_replaced_crops_are_deleted(storage: SqlStorage, camera_id: int, make_flow: FlowMaker) -> None:
    flow = storage.add_flow(make_flow(camera_id), FlowImages(image=b"\xff\xd8a", plate_image=b"\xff\xd8b"))
    for n in range(3):
        storage.update_flow_read(
            flow.id, plate="xyz987", score=0.9, lpr_version="v", plate_image=b"\xff\xd8%d" % n
        )
    files = [p for p in storage.images.root.rglob("*.jpg") if "staging" not in p.parts]
    assert len(files) == 2


def test_an_absent_flow(storage: SqlStorage) -> None:
    with pytest.raises(NotFound):
        storage.update_flow_read(12345, plate=None, score=0.0, lpr_version="v", plate_image=b"\xff\xd8x")
    assert list(storage.images.root.rglob("*.jpg")) == []


def test_substring_searches_follow_a_new_read(
    storage: SqlStorage, camera_id: int, make_flow: FlowMaker
) -> None:
    flow = storage.add_flow(make_flow(camera_id, plate="xyz987"), FlowImages())
    other = storage.add_flow(make_flow(camera_id, seconds=1, plate="qqq111"), FlowImages())
    old, new = Cond("plate", "like", "z98"), Cond("plate", "like", "c123")
    assert [f.id for f in storage.search_flows(old, offset=0, limit=5)] == [flow.id]
    storage.update_flow_read(flow.id, plate="abc1234", score=0.9, lpr_version="v2", plate_image=None)
    # The plate's trigrams were replaced with the plate: the old substring is gone, the new one found.
    assert storage.search_flows(old, offset=0, limit=5) == []
    assert storage.count_flows(old) == 0
    assert [f.id for f in storage.search_flows(new, offset=0, limit=5)] == [flow.id]
    assert storage.count_flows(new) == 1
    storage.update_flow_read(flow.id, plate=None, score=0.0, lpr_version="v3", plate_image=None)
    assert storage.count_flows(new) == 0
    assert [f.id for f in storage.search_flows(Cond("plate", "like", "q11"), offset=0, limit=5)] == [other.id]
