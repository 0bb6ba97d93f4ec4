"""Deep pages are the same pages however they are read: from the newest end, from the oldest end
(turned around), on the index alone; with no filter, with a camera filter, and with others."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from seedata_storage_sql import SqlStorage
from seedata_storage_sql.storage import DEEP_OFFSET

from seedata_core.filter_ast import MATCH_ALL, Cond, Node
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
