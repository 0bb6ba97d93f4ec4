"""The selective searches read through their indexes on PostgreSQL too (EXPLAIN of the real statements).

The statements are captured with their parameters as the storage sends them, then explained on a
connection of their own, with the table analysed so that the planner knows its size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from seedata_storage_sql import SqlStorage
from seedata_storage_sql import storage as storage_module
from sqlalchemy import Connection, event, text

from seedata_core.filter_ast import And, Cond, Node
from seedata_core.models import FlowImages, NewCamera, NewFlow

DATABASES = ("postgresql",)
"""SQLite's plans are tested in test_query_plans; MariaDB's are not tested."""

FlowMaker = Callable[..., NewFlow]
ROWS = 20_000
T0_EPOCH = 1714564800  # conftest's T0


@pytest.fixture
def filled(storage: SqlStorage, make_flow: FlowMaker) -> SqlStorage:
    cams = [storage.add_camera(NewCamera(alias=f"cam{i}", source="s")).id for i in range(20)]
    storage.import_flows(
        (
            make_flow(cams[i % 20], i * 7, id=i + 1, plate=None if i % 10 == 0 else f"{i:05d}{suffix(i)}"),
            FlowImages(),
        )
        for i in range(ROWS)
    )
    with storage.engine.begin() as conn:
        conn.execute(text("ANALYZE flows"))
    return storage


def suffix(i: int) -> str:
    """Most plates end in ``abc``; one in 300 in ``qz``, too few for the planner's statistics to see."""
    return "qz" if i % 300 == 1 else "abc"


def plans(storage: SqlStorage, call: Callable[[], Any]) -> list[str]:
    """The plan of each SELECT on flows that ``call`` sends through SQLAlchemy, one line per node."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Connection, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM flows" in statement:
            sent.append((statement, parameters))

    event.listen(storage.engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(storage.engine, "before_cursor_execute", capture)
    with storage.engine.connect() as conn:
        return [
            "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))
            for statement, parameters in sent
        ]


@pytest.mark.parametrize(
    ("node", "index"),
    [
        (Cond("plate", "=", "00123abc"), "ix_flows_plate_key"),
        (
            # The oldest tenth: walking the time index for one camera's flows would read ten times more.
            And((Cond("camera", "=", "cam1"), Cond("timestamp", "<", T0_EPOCH + 7 * ROWS // 10))),
            "ix_flows_camera_id_ts_id",
        ),
        (Cond("camera", "=", "cam1"), "ix_flows_camera_id_ts_id"),
    ],
)
def test_selective_searches_use_their_index(filled: SqlStorage, node: Node, index: str) -> None:
    for call in (
        lambda: filled.search_flows(node, offset=0, limit=20),
        lambda: filled.count_flows(And((node, Cond("score", ">", 0.5)))),  # not from counters
    ):
        found = plans(filled, call)
        assert len(found) == 1, found
        # "Index Scan [Backward] using IX", "Index Only Scan using IX" or "Bitmap Index Scan on IX".
        assert f" {index} " in found[0], found[0]
        assert "Seq Scan on flows" not in found[0], found[0]


@pytest.mark.parametrize("offset", [0, 40], ids=["page 1", "deep page"])
def test_a_short_value_that_few_plates_hold_walks_the_time_index(
    filled: SqlStorage, offset: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage_module, "DEEP_OFFSET", 20)  # the deep page, at 20k flows
    node = Cond("plate", "like", "qz")  # 1 plate in 300: dense enough to walk to (plate_search.DENSE)
    found = plans(filled, lambda: filled.search_flows(node, offset=offset, limit=20))
    assert len(found) == 1, found
    # With LIKE, the planner took the matches for a few and read a page by a full scan and a sort.
    assert " ix_flows_ts_id " in found[0], found[0]
    assert "Seq Scan on flows" not in found[0], found[0]
