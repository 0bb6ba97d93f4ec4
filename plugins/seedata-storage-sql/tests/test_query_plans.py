"""Every query the storage sends reads through the index meant for it (SQLite's EXPLAIN QUERY PLAN).

The statements are captured as SQLite runs them (with their parameters filled in) while the storage
serves a call, then explained on a connection of their own. A dropped or unusable index turns a
``SEARCH ... USING INDEX`` into a ``SCAN`` or adds a sort, and fails here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from seedata_storage_sql import SqlStorage, plate_search
from seedata_storage_sql.storage import DEEP_OFFSET
from sqlalchemy import event

from seedata_core.filter_ast import MATCH_ALL, And, Cond, Node, Not
from seedata_core.models import FlowImages, NewCamera, NewFlow
from seedata_core.settings import Settings

DATABASES = ("sqlite",)
"""These tests are about SQLite itself."""

FlowMaker = Callable[..., NewFlow]


@pytest.fixture
def filled(storage: SqlStorage, make_flow: FlowMaker) -> SqlStorage:
    cams = [storage.add_camera(NewCamera(alias=f"cam{i}", source="s")).id for i in range(3)]
    storage.import_flows(
        (
            make_flow(
                cams[i % 3],
                i * 7,
                id=i + 1,
                plate=None if i % 10 == 0 else f"{i % 97:03d}abc{i % 13}",
                trigger_mode="manual" if i % 50 == 0 else "auto",
            ),
            FlowImages(),
        )
        for i in range(600)
    )
    return storage


def plans(storage: SqlStorage, settings: Settings, call: Callable[[], Any]) -> list[str]:
    """The query plan of each SELECT that ``call`` runs, its lines joined with `` | ``."""
    statements: list[str] = []

    def trace(dbapi_connection: sqlite3.Connection, *_: Any) -> None:
        dbapi_connection.set_trace_callback(statements.append)

    def untrace(dbapi_connection: sqlite3.Connection, *_: Any) -> None:
        dbapi_connection.set_trace_callback(None)

    event.listen(storage.engine, "checkout", trace)
    event.listen(storage.engine, "checkin", untrace)
    try:
        result = call()
        if isinstance(result, Iterator):
            list(result)
    finally:
        event.remove(storage.engine, "checkout", trace)
        event.remove(storage.engine, "checkin", untrace)
    explainer = sqlite3.connect(settings.data_path / "seedata.db")
    try:
        return [
            " | ".join(row[3] for row in explainer.execute(f"EXPLAIN QUERY PLAN {sql}"))
            for sql in statements
            if sql.lstrip().upper().startswith("SELECT")
        ]
    finally:
        explainer.close()


def only_plan(
    storage: SqlStorage, settings: Settings, call: Callable[[], Any], ignore: str = "cameras"
) -> str:
    """The plan of the one SELECT on flows or counters that ``call`` runs (camera lookups aside)."""
    found = [plan for plan in plans(storage, settings, call) if not plan.startswith(f"SCAN {ignore}")]
    assert len(found) == 1, found
    return found[0]


def test_unfiltered_count_reads_one_counter(filled: SqlStorage, settings: Settings) -> None:
    plan = only_plan(filled, settings, lambda: filled.count_flows(MATCH_ALL))
    assert plan == "SEARCH counters USING INDEX sqlite_autoindex_counters_1 (name=?)"


def test_camera_only_count_reads_counters(filled: SqlStorage, settings: Settings) -> None:
    # The cameras, to decide the condition, and the counters (one row each): no flow is read.
    found = plans(filled, settings, lambda: filled.count_flows(Not(Cond("camera", "=", "cam1"))))
    assert found == ["SCAN cameras USING COVERING INDEX sqlite_autoindex_cameras_1", "SCAN counters"]


def test_default_page_walks_the_time_index_without_sorting(filled: SqlStorage, settings: Settings) -> None:
    plan = only_plan(filled, settings, lambda: filled.search_flows(MATCH_ALL, offset=40, limit=20))
    assert plan.startswith("SCAN flows USING INDEX ix_flows_ts_id")
    assert "TEMP B-TREE" not in plan
    # The alias comes from the cameras' primary key, one look-up per row returned.
    assert "SEARCH cameras USING INTEGER PRIMARY KEY (rowid=?)" in plan


@pytest.mark.parametrize(
    ("where", "hours", "index"),
    [
        (MATCH_ALL, "flow_hours", "ix_flows_ts_id (ts<?)"),
        (Cond("camera", "=", "cam0"), "camera_flow_hours", "ix_flows_camera_id_ts_id (camera_id=? AND ts<?)"),
    ],
)
@pytest.mark.parametrize(
    ("offset", "edge"),
    [(DEEP_OFFSET, "hour<?"), (2 * DEEP_OFFSET - 20, "hour>?")],
    ids=["newer half", "older half"],
)
def test_deep_pages_skip_on_a_covering_index(
    storage: SqlStorage,
    settings: Settings,
    make_flow: FlowMaker,
    where: Node,
    hours: str,
    index: str,
    offset: int,
    edge: str,
) -> None:
    camera = storage.add_camera(NewCamera(alias="cam0", source="s")).id
    storage.add_camera(NewCamera(alias="cam1", source="s"))  # cam0 alone is not all flows
    storage.import_flows((make_flow(camera, i * 5, id=i + 1), FlowImages()) for i in range(3 * DEEP_OFFSET))
    found = plans(storage, settings, lambda: storage.search_flows(where, offset=offset, limit=20))
    # The counters first (which end is nearer), then the hour counts from that end, then the page,
    # from the end of the hour that holds it.
    assert any(plan.startswith("SEARCH counters") or plan == "SCAN counters" for plan in found[:-1])
    key = "camera_id=? AND " if hours == "camera_flow_hours" else ""
    assert f"SEARCH {hours} USING PRIMARY KEY ({key}{edge})" in found[:-1], found
    page = found[-1]
    assert page.startswith(f"MATERIALIZE page | SEARCH flows USING COVERING INDEX {index}"), page
    assert "SEARCH flows USING INTEGER PRIMARY KEY (rowid=?)" in page


def test_get_flow_uses_the_primary_key(filled: SqlStorage, settings: Settings) -> None:
    plan = only_plan(filled, settings, lambda: filled.get_flow(5))
    assert plan.startswith("SEARCH flows USING INTEGER PRIMARY KEY (rowid=?)")


@pytest.mark.parametrize(
    ("node", "index_use"),
    [
        (Cond("camera", "=", "cam1"), "SEARCH flows USING INDEX ix_flows_camera_id_ts_id (camera_id=?)"),
        (
            And((Cond("camera", "=", "cam1"), Cond("timestamp", "<", 1714567200))),
            "SEARCH flows USING INDEX ix_flows_camera_id_ts_id (camera_id=? AND ts<?)",
        ),
        (
            Cond("trigger_mode", "=", "manual"),
            "SEARCH flows USING INDEX ix_flows_trigger_mode_ts_id (trigger_mode=?)",
        ),
        (Cond("timestamp", ">=", 1714567200), "SEARCH flows USING INDEX ix_flows_ts_id (ts>?)"),
    ],
)
def test_filtered_pages_come_in_index_order(
    filled: SqlStorage, settings: Settings, node: Node, index_use: str
) -> None:
    plan = only_plan(filled, settings, lambda: filled.search_flows(node, offset=0, limit=20))
    assert plan.startswith(index_use)
    assert "TEMP B-TREE" not in plan


@pytest.mark.parametrize(
    ("node", "index_use"),
    [
        (Cond("plate", "=", "005abc5"), ["SEARCH flows USING INDEX ix_flows_plate_key (plate_key=?)"]),
        (
            Cond("plate", "similar", "005a8c5"),
            [
                "MULTI-INDEX OR",
                "SEARCH flows USING INDEX ix_flows_plate_key (plate_key=?)",
                "SEARCH flows USING INDEX ix_flows_plate_key (plate_key>? AND plate_key<?)",
                "SEARCH flows USING INDEX ix_flows_plate_rkey (plate_rkey>? AND plate_rkey<?)",
            ],
        ),
        (Cond("id", "in", (3, 9, 27)), ["SEARCH flows USING INTEGER PRIMARY KEY (rowid=?)"]),
        (
            Cond("plate", "like", "5abc1"),
            [
                "SEARCH flows USING INTEGER PRIMARY KEY (rowid=?)",
                "SEARCH g0 USING PRIMARY KEY (gram=?)",
                "SEARCH g1 USING",  # one look-up per candidate, by either index
            ],
        ),
        (
            # Two characters beside a camera: where a trigram starts with them, or where the plate
            # ends with them.
            And((Cond("plate", "like", "bc"), Cond("camera", "=", "cam1"))),
            [
                "SEARCH flows USING INTEGER PRIMARY KEY (rowid=?)",
                "SEARCH plate_grams USING PRIMARY KEY (gram>? AND gram<?)",
                "SEARCH flows USING COVERING INDEX ix_flows_plate_rkey (plate_rkey>? AND plate_rkey<?)",
            ],
        ),
        (
            # The camera's index would yield its flows in order; the plate's few are found first.
            And((Cond("camera", "=", "cam1"), Cond("plate", "like", "abc1"), Cond("timestamp", ">", 0))),
            ["SEARCH flows USING INTEGER PRIMARY KEY (rowid=?)", "SEARCH g0 USING PRIMARY KEY (gram=?)"],
        ),
    ],
)
def test_selective_filters_find_their_few_flows_by_index(
    filled: SqlStorage, settings: Settings, node: Node, index_use: list[str]
) -> None:
    for call in (
        lambda: filled.search_flows(node, offset=0, limit=20),
        lambda: filled.count_flows(node),
    ):
        plan = only_plan(filled, settings, call)
        for step in index_use:
            assert step in plan
        # No pass over the whole table or one of its whole indexes.
        assert "SCAN flows" not in plan


def test_a_rare_pair_is_paged_by_key_ranges_and_counted_by_its_piece(
    filled: SqlStorage, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plate_search, "DENSE", 2.0)  # every pair is rare
    node = Cond("plate", "like", "bc")
    page = plans(filled, settings, lambda: filled.search_flows(node, offset=0, limit=20))
    assert "SEARCH plate_grams USING PRIMARY KEY (gram>? AND gram<?)" in page[-1]
    assert "SCAN flows" not in page[-1]
    count = plans(filled, settings, lambda: filled.count_flows(node))
    assert count == ["SEARCH plate_piece_days USING PRIMARY KEY (piece=?)"]


@pytest.mark.parametrize("value", ["b", "bc"])
def test_a_common_short_value_walks_the_time_index(
    filled: SqlStorage, settings: Settings, value: str
) -> None:
    node = Cond("plate", "like", value)
    page = plans(filled, settings, lambda: filled.search_flows(node, offset=0, limit=20))
    assert page[-1].startswith("SCAN flows USING INDEX ix_flows_ts_id"), page  # newest first, no sort
    assert "TEMP B-TREE" not in page[-1], page
    count = plans(filled, settings, lambda: filled.count_flows(node))
    assert count == ["SEARCH plate_piece_days USING PRIMARY KEY (piece=?)"]


@pytest.mark.parametrize(
    ("node", "first_gram"),
    [
        (Cond("plate", "like", "abc"), "SEARCH g0 USING PRIMARY KEY (gram=?)"),
        (
            And((Cond("plate", "like", "abc"), Cond("timestamp", ">", 0))),
            "SEARCH g0 USING PRIMARY KEY (gram=? AND ts>?)",
        ),
        (Cond("plate", "like", "5abc1"), "SEARCH g0 USING PRIMARY KEY (gram=?)"),
    ],
)
@pytest.mark.parametrize("offset", [0, 300])
def test_plate_searches_walk_the_grams_in_page_order(
    filled: SqlStorage, settings: Settings, node: Node, first_gram: str, offset: int
) -> None:
    (plan,) = plans(filled, settings, lambda: filled.search_flows(node, offset=offset, limit=20))
    # The page's ids come in order from the grams' key: no sort before the page is cut out.
    walk, rest = plan.split(" | SCAN page | ")
    assert walk.startswith(f"MATERIALIZE page | {first_gram}"), plan
    assert "TEMP B-TREE" not in walk, plan
    assert "SCAN" not in walk, plan
    assert "SEARCH flows USING INTEGER PRIMARY KEY" in rest, plan
    other_grams = [step for step in walk.split(" | ") if step.startswith("SEARCH g") and step != first_gram]
    assert all(step.endswith("(gram=? AND ts=? AND flow_id=?)") for step in other_grams), plan
    (count,) = plans(filled, settings, lambda: filled.count_flows(node))
    assert count.startswith(first_gram), count
    assert "SCAN" not in count, count
    if node == Cond("plate", "like", "abc"):
        assert count == first_gram  # three characters are counted on the grams alone


def test_filtered_counts_use_covering_indexes(filled: SqlStorage, settings: Settings) -> None:
    plan = only_plan(filled, settings, lambda: filled.count_flows(Cond("trigger_mode", "=", "manual")))
    assert plan == "SEARCH flows USING COVERING INDEX ix_flows_trigger_mode_ts_id (trigger_mode=?)"
    both = And((Cond("camera", "=", "cam1"), Cond("timestamp", ">=", 1714567200)))
    plan = only_plan(filled, settings, lambda: filled.count_flows(both))
    assert plan == "SEARCH flows USING COVERING INDEX ix_flows_camera_id_ts_id (camera_id=? AND ts>?)"


def test_iteration_continues_by_keyset(filled: SqlStorage, settings: Settings) -> None:
    found = plans(filled, settings, lambda: filled.iter_flows(MATCH_ALL, batch_size=100))
    assert len(found) == 7  # six full batches and the empty one that ends it
    assert found[0].startswith("SCAN flows USING INDEX ix_flows_ts_id")
    for plan in found[1:]:
        assert plan.startswith("SEARCH flows USING INDEX ix_flows_ts_id (ts>?)")
        assert "TEMP B-TREE" not in plan


def test_removing_a_camera_checks_its_flows_by_index(filled: SqlStorage, settings: Settings) -> None:
    camera = filled.get_camera_by_alias("cam2")
    assert camera is not None
    found = plans(filled, settings, lambda: filled.remove_camera(camera.id))
    assert "SEARCH flows USING COVERING INDEX ix_flows_camera_id_ts_id (camera_id=?)" in found


def test_recovery_looks_up_keys_within_their_day(filled: SqlStorage, settings: Settings) -> None:
    day = (filled.search_flows(MATCH_ALL, offset=0, limit=1)[0].timestamp - timedelta(hours=1)).strftime(
        "%Y/%m/%d"
    )
    key = f"{day}/{'a' * 32}.jpg"
    plan = only_plan(filled, settings, lambda: filled._referenced([key]))
    assert plan == "SEARCH flows USING INDEX ix_flows_ts_id (ts>? AND ts<?)"
