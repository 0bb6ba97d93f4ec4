"""``plate like`` of two characters (folded, as the filter parser gives them) finds, by index, every
plate that holds them: inside a trigram, at a plate's end, as a whole plate, next to look-alikes and
separators (see :mod:`.where`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from seedata_storage_sql import SqlStorage

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


@pytest.mark.parametrize("value", ["ab", "b9", "ob", "0b", "o0", "xa", "ba", "zz", "-a", "b-"])
def test_two_characters_find_every_plate_that_holds_them(
    stored: list[Flow], storage: SqlStorage, value: str
) -> None:
    node = Cond("plate", "like", value)
    wanted = {flow.id for flow in stored if matches(node, FlowFacts.of(flow))}
    assert {flow.id for flow in storage.search_flows(node, offset=0, limit=100)} == wanted
    assert storage.count_flows(node) == len(wanted)


def test_the_plates_that_hold_a_pair(stored: list[Flow], storage: SqlStorage) -> None:
    found = {flow.plate for flow in storage.search_flows(Cond("plate", "like", "ab"), offset=0, limit=100)}
    assert found == {"ab", "xab", "abx", "xabx", "x-ab", "ab-", "ab9"}
