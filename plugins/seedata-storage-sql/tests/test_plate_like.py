"""``plate like`` of one or two characters (folded, as the filter parser gives them) finds every
plate that holds them: inside a trigram, at a plate's end, as a whole plate, next to look-alikes and
separators, through the time index or a pair's key ranges (see :mod:`.where`, :mod:`.plate_search`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from seedata_storage_sql import SqlStorage, plate_search

from seedata_core.filter_ast import Cond
from seedata_core.filters import FlowFacts, matches
from seedata_core.models import Flow, FlowImages, NewFlow

FlowMaker = Callable[..., NewFlow]
PLATES = [
    "ab",
    "xab",
    "abx",
    "xabx",
    "a",
    "b",
    "ba",
    "xaxb",
    "0b",
    "ob",
    "o0",
    "x-ab",
    "ab-",
    "ábc",
    "AB9",
    None,
]


@pytest.fixture
def stored(storage: SqlStorage, camera_id: int, make_flow: FlowMaker) -> list[Flow]:
    return [
        storage.add_flow(make_flow(camera_id, i, plate=plate), FlowImages()) for i, plate in enumerate(PLATES)
    ]


@pytest.mark.parametrize(
    "value", ["ab", "b9", "ob", "0b", "o0", "xa", "ba", "zz", "-a", "b-", "a", "á", "-", "q"]
)
@pytest.mark.parametrize("dense", [0.0, 2.0], ids=["time-index", "key-ranges"])
def test_short_values_find_every_plate_that_holds_them(
    stored: list[Flow], storage: SqlStorage, value: str, dense: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether the page walks the time index or a pair's key ranges (by the share of plates that
    hold the value, :data:`.plate_search.DENSE`), it is the same; the total is the pieces' count."""
    monkeypatch.setattr(plate_search, "DENSE", dense)
    node = Cond("plate", "like", value)
    newest_first = sorted(stored, key=lambda flow: (flow.timestamp, flow.id), reverse=True)
    wanted = [flow.id for flow in newest_first if matches(node, FlowFacts.of(flow))]
    pages: list[int] = []
    while page := storage.search_flows(node, offset=len(pages), limit=3):
        pages.extend(flow.id for flow in page)
    assert pages == wanted
    assert storage.count_flows(node) == len(wanted)


def test_the_plates_that_hold_a_pair(stored: list[Flow], storage: SqlStorage) -> None:
    found = {flow.plate for flow in storage.search_flows(Cond("plate", "like", "ab"), offset=0, limit=100)}
    assert found == {"ab", "xab", "abx", "xabx", "x-ab", "ab-", "ab9"}
