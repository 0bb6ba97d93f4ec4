"""Deep pages are the same pages however they are read: through the hour counts, read from either end,
on the index alone; with no filter, with camera filters, and with others; and the hour counts stay
exact through imports, inserts, retention and the removal of a camera."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from seedata_storage_sql import SqlStorage
from seedata_storage_sql import storage as storage_module
from seedata_storage_sql.schema import camera_flow_hours, flow_hours, flows
from seedata_storage_sql.storage import DEEP_OFFSET
from sqlalchemy import select

from seedata_core.filter_ast import MATCH_ALL, Cond, Node, Not, Or
from seedata_core.models import FlowImages, NewCamera, NewFlow

FlowMaker = Callable[..., NewFlow]
TOTAL = 2 * DEEP_OFFSET + 500


@pytest.fixture
def filled(storage: SqlStorage, make_flow: FlowMaker) -> SqlStorage:
    cams = [storage.add_camera(NewCamera(alias=f"cam{i}", source="s")).id for i in range(2)]
    storage.import_flows(
        # Several flows share each second, and ids do not follow time: the order's tie-break shows.
        (make_flow(cams[i % 2], (i * 7919) % 900, id=i + 1, plate=f"p{i % 37:02d}x"), FlowImages())
        for i in range(TOTAL)
    )
    return storage


@pytest.mark.parametrize(
    "where",
    [MATCH_ALL, Cond("camera", "=", "cam1"), Cond("plate", "like", "p0")],
    ids=["all", "camera", "like"],
)
def test_every_page_is_its_slice_of_the_whole_listing(filled: SqlStorage, where: Node) -> None:
    newest_first = list(filled.iter_flows(where))[::-1]
    count = len(newest_first)
    assert filled.count_flows(where) == count
    offsets = [0, DEEP_OFFSET - 1, DEEP_OFFSET, count // 2 - 10, count // 2, count - DEEP_OFFSET - 20]
    offsets += [count - DEEP_OFFSET, count - 25, count - 20, count - 3, count, count + 5]
    for offset in sorted({offset for offset in offsets if offset >= 0}):
        for limit in (0, 1, 20):
            expected = newest_first[offset : offset + limit]
            assert filled.search_flows(where, offset=offset, limit=limit) == expected, (offset, limit)


# -- the hour counts ---------------------------------------------------------------------------------
HOUR = 3600
T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)
"""``make_flow``'s time 0 (conftest), on an hour."""
EPOCH_T0 = int(T0.timestamp())
CAMERA_FILTERS: list[tuple[Node, list[str]]] = [
    (MATCH_ALL, ["h0", "h1", "h2", "h3"]),
    (Cond("camera", "=", "h0"), ["h0"]),
    (Cond("camera", "=", "h1"), ["h1"]),
    (Or((Cond("camera", "=", "h0"), Cond("camera", "=", "h2"))), ["h0", "h2"]),
    (Not(Cond("camera", "=", "h0")), ["h1", "h2", "h3"]),
    (Not(Cond("camera", "=", "h3")), ["h0", "h1", "h2"]),  # every flow, by the cameras' hours
]


def hour_spots(rng: random.Random) -> list[tuple[int, int]]:
    """(camera index, seconds after T0) of flows that try the hour counts' edges."""
    spots: list[tuple[int, int]] = []
    # Many flows in one hour, three a second.
    spots += [(0, 2 * HOUR + i // 3) for i in range(1500)]
    # Either side of hour boundaries, several on the same second.
    spots += [(k % 3, k * HOUR + delta) for k in range(4, 12) for delta in (-1, 0, 1) for _ in range(3)]
    # Hours with few flows, and hours with none between them.
    spots += [(rng.choice((0, 0, 1, 2)), 30 * HOUR + rng.randrange(60 * HOUR)) for _ in range(2000)]
    # Before 1970: negative epoch seconds, on and around hour boundaries.
    spots += [(i % 2, -EPOCH_T0 + delta) for i in range(3) for delta in (-HOUR - 1, -HOUR, -HOUR + 1, -1)]
    return spots


def stored_hours(storage: SqlStorage) -> tuple[dict[int, int], dict[tuple[int, int], int]]:
    """The hour counts as stored, and as the flows' own timestamps say (floored in Python)."""
    with storage.engine.connect() as conn:
        stored = conn.execute(select(flows.c.camera_id, flows.c.ts)).all()
        hours = dict(conn.execute(select(flow_hours.c.hour, flow_hours.c.flows)).all())
        camera_hours = {(c, h): n for c, h, n in conn.execute(select(camera_flow_hours)).all()}
    assert hours == dict(Counter(ts // HOUR for _, ts in stored))
    assert camera_hours == dict(Counter((camera_id, ts // HOUR) for camera_id, ts in stored))
    return hours, camera_hours


def assert_pages_are_plain_offset_pages(storage: SqlStorage, ids: dict[str, int]) -> None:
    """Every deep page of every camera filter is the page a plain OFFSET reads, through the hours."""
    stored_hours(storage)
    for where, aliases in CAMERA_FILTERS:
        reference = select(flows.c.id).order_by(flows.c.ts.desc(), flows.c.id.desc())
        reference = reference.where(flows.c.camera_id.in_([ids[alias] for alias in aliases]))
        count = storage.count_flows(where)
        offsets = [(offset, 23) for offset in range(DEEP_OFFSET, count, 23)]
        offsets += [(count // 2 + d, 5) for d in (-3, -1, 0, 1)] + [
            (count - 1, 20),
            (count, 20),
            (count + 4, 1),
        ]
        with storage.engine.connect() as conn:
            for offset, limit in offsets:
                if offset < DEEP_OFFSET:
                    continue
                expected = conn.execute(reference.limit(limit).offset(offset)).scalars().all()
                page = storage.search_flows(where, offset=offset, limit=limit)
                assert [flow.id for flow in page] == expected, (where, offset, limit)
                # The hours found it: the page is not the fallback's.
                assert storage._page_by_hours(where, offset, limit) == page, (where, offset, limit)


@pytest.fixture
def hourly(storage: SqlStorage, make_flow: FlowMaker) -> tuple[SqlStorage, dict[str, int]]:
    ids = {
        alias: storage.add_camera(NewCamera(alias=alias, source="s")).id for alias in ("h0", "h1", "h2", "h3")
    }
    cams = [ids["h0"], ids["h1"], ids["h2"]]
    rng = random.Random(7)
    spots = hour_spots(rng)
    flow_ids = rng.sample(range(1, 10 * len(spots)), len(spots))  # not in time order
    storage.import_flows(
        (make_flow(cams[camera], seconds, id=flow_id), FlowImages())
        for (camera, seconds), flow_id in zip(spots, flow_ids, strict=True)
    )
    return storage, ids


@pytest.mark.parametrize("chunks", [None, (3, 13)], ids=["chunks as set", "small chunks"])
def test_deep_pages_through_the_hours_are_plain_offset_pages(
    hourly: tuple[SqlStorage, dict[str, int]],
    make_flow: FlowMaker,
    chunks: tuple[int, int] | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    storage, ids = hourly
    if chunks is not None:  # many chunks, halved down to odd sizes, before the page's hour is found
        monkeypatch.setattr(storage_module, "_FIRST_HOURS", chunks[0])
        monkeypatch.setattr(storage_module, "_MOST_HOURS", chunks[1])
    assert_pages_are_plain_offset_pages(storage, ids)
    # Retention: the oldest (before 1970, then into the crowded hour), and before a cut in a busy hour.
    assert storage.delete_oldest_flows(limit=5).flows == 5
    assert storage.delete_oldest_flows(limit=300).flows == 300
    assert storage.delete_flows_before(T0 + timedelta(seconds=2 * HOUR + 200), limit=10_000).flows > 0
    assert_pages_are_plain_offset_pages(storage, ids)
    # Imports into hours that have flows, hours that had none and hours emptied by retention; some
    # ids exist already (skipped).
    rng = random.Random(11)
    more = [(rng.choice(list(ids.values())), rng.randrange(-3 * HOUR, 100 * HOUR)) for _ in range(700)]
    result = storage.import_flows(
        (make_flow(camera, seconds, id=100_000 + i), FlowImages()) for i, (camera, seconds) in enumerate(more)
    )
    assert result.added == len(more)
    again = storage.import_flows([(make_flow(ids["h0"], 5, id=100_000), FlowImages())])
    assert (again.added, again.skipped) == (0, 1)
    storage.add_flow(make_flow(ids["h3"], 2 * HOUR + 10), FlowImages())
    assert_pages_are_plain_offset_pages(storage, ids)


def test_removing_a_camera_without_flows_leaves_no_hours(
    hourly: tuple[SqlStorage, dict[str, int]], make_flow: FlowMaker
) -> None:
    storage, ids = hourly
    flow = storage.add_flow(make_flow(ids["h3"], 5), FlowImages())
    while storage.count_flows(Cond("camera", "=", "h3")):
        storage.delete_oldest_flows(limit=2000)
    assert storage.get_flow(flow.id) is None
    storage.remove_camera(ids["h3"])
    assert storage.get_camera(ids["h3"]) is None
    _, camera_hours = stored_hours(storage)
    assert camera_hours  # the other cameras' flows, whose hours stay
    assert all(camera_id != ids["h3"] for camera_id, _ in camera_hours)


# -- the pieces' day counts --------------------------------------------------------------------------
DAY = 24 * HOUR
MIDNIGHT = -12 * HOUR
"""Seconds from ``make_flow``'s time 0 (noon) to the midnight before it: a day's start."""
SHORT_PLATES = ("ab1", "xab", "b2a", "ab2", "cb")
"""Each holds ``b``; four ``a``, three ``ab``, two ``b2``."""


@pytest.fixture
def daily(storage: SqlStorage, make_flow: FlowMaker) -> SqlStorage:
    camera = storage.add_camera(NewCamera(alias="d0", source="s")).id
    rng = random.Random(5)
    spots = [MIDNIGHT + 2 * DAY + i // 3 for i in range(1200)]  # a busy day, three flows a second
    # Either side of midnights, several on the same second.
    spots += [MIDNIGHT + k * DAY + delta for k in range(3, 9) for delta in (-1, 0, 1) for _ in range(3)]
    spots += [MIDNIGHT + 10 * DAY + rng.randrange(40 * DAY) for _ in range(1500)]  # some days empty
    spots += [-EPOCH_T0 + delta for delta in (-DAY - 1, -DAY, -DAY + 1, -1)]  # before 1970
    flow_ids = rng.sample(range(1, 10 * len(spots)), len(spots))  # not in time order
    storage.import_flows(
        (make_flow(camera, seconds, id=flow_id, plate=rng.choice(SHORT_PLATES)), FlowImages())
        for seconds, flow_id in zip(spots, flow_ids, strict=True)
    )
    return storage


@pytest.mark.parametrize("value", ["b", "A", "ab", "B2"])
def test_deep_pages_of_a_short_like_through_the_days_are_plain_offset_pages(
    daily: SqlStorage, value: str
) -> None:
    where = Cond("plate", "like", value)
    reference = select(flows.c.id).where(flows.c.plate.like(f"%{value.lower()}%"))
    reference = reference.order_by(flows.c.ts.desc(), flows.c.id.desc())
    count = daily.count_flows(where)
    with daily.engine.connect() as conn:
        assert count == len(conn.execute(reference).all()) > DEEP_OFFSET
        offsets = [(offset, 37) for offset in range(DEEP_OFFSET, count, 37)]
        offsets += [(count // 2 + d, 5) for d in (-1, 0, 1)] + [(count - 1, 20), (count, 20), (count + 4, 1)]
        for offset, limit in offsets:
            expected = conn.execute(reference.limit(limit).offset(offset)).scalars().all()
            page = daily.search_flows(where, offset=offset, limit=limit)
            assert [flow.id for flow in page] == expected, (offset, limit)
            # The days found it: the page is not the fallback's.
            assert daily._page_by_days(value.lower(), offset, limit) == page, (offset, limit)
