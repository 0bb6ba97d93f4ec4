"""Searches by ``plate like`` alone, or with times, read from the plate grams in page order
(:mod:`seedata_storage_sql.plate_search`): every page and count is what ``matches`` selects, newest
first, on every database."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from seedata_storage_sql import SqlStorage
from seedata_storage_sql.plate_search import PlateSearch, parse

from seedata_core.filter_ast import And, Cond, Node, Not, Or
from seedata_core.filters import FlowFacts, matches
from seedata_core.models import Flow, FlowImages, NewFlow

FlowMaker = Callable[..., NewFlow]
PLATES = [
    "abc",
    "ABCD",  # stored folded
    "xabcx",
    "abxbcd",  # holds bcd, not abc
    "abcxbcd",  # holds the grams of abcd, not abcd
    "a%c",
    "a_c",
    "axc",
    "a\\c",
    "äbc",
    "Äbc",  # only ASCII is folded
    "ab",
    None,
]
SECONDS = (0, 0, 5, 9, 9, 9, 30)  # repeated seconds: ties go by id


@pytest.fixture
def stored(storage: SqlStorage, camera_id: int, make_flow: FlowMaker) -> list[Flow]:
    return [
        storage.add_flow(
            make_flow(camera_id, SECONDS[(i * 5) % len(SECONDS)] + i // 7, plate=plate), FlowImages()
        )
        for i, plate in enumerate(PLATES * 3)
    ]


def listed(stored: list[Flow], node: Node) -> list[int]:
    newest_first = sorted(stored, key=lambda flow: (flow.timestamp, flow.id), reverse=True)
    return [flow.id for flow in newest_first if matches(node, FlowFacts.of(flow))]


@pytest.mark.parametrize(
    "value", ["abc", "bcd", "abcd", "abcxbcd", "a%c", "a_c", "a\\c", "äbc", "Äbc", "zzz", "cx"]
)
@pytest.mark.parametrize("times", [(), ("<", 9), (">=", 9), ("=", 9), ("!=", 9)])
def test_pages_and_counts_are_what_matches_selects(
    stored: list[Flow], storage: SqlStorage, value: str, times: tuple[object, ...]
) -> None:
    """``value`` as the filter parser gives it (folded)."""
    like = Cond("plate", "like", value)
    node: Node = like
    if times:
        op, seconds = times
        node = And((Cond("timestamp", op, int(stored[0].timestamp.timestamp()) + seconds), like))
    wanted = listed(stored, node)
    pages: list[int] = []
    while page := storage.search_flows(node, offset=len(pages), limit=4):
        pages.extend(flow.id for flow in page)
    assert pages == wanted
    assert storage.count_flows(node) == len(wanted)


def test_a_reread_plate_is_found_by_its_new_grams(stored: list[Flow], storage: SqlStorage) -> None:
    flow = stored[0]
    storage.update_flow_read(flow.id, plate="qqq7", score=0.8, lpr_version="v2", plate_image=None)
    assert [f.id for f in storage.search_flows(Cond("plate", "like", "qq7"), offset=0, limit=5)] == [flow.id]
    assert flow.id not in {
        f.id for f in storage.search_flows(Cond("plate", "like", "abc"), offset=0, limit=50)
    }


LIKE = Cond("plate", "like", "abc")  # as the parser gives it: folded
AFTER = Cond("timestamp", ">", 5)
BEFORE = Cond("timestamp", "<=", 9)


@pytest.mark.parametrize(
    ("node", "search"),
    [
        (LIKE, PlateSearch("abc")),
        (And((AFTER, LIKE, BEFORE)), PlateSearch("abc", (AFTER, BEFORE))),
        (And((LIKE,)), PlateSearch("abc")),
        (Cond("plate", "like", "ab"), None),  # no gram: the pair's own ranges (.where)
        (And((LIKE, Cond("camera", "=", "gate"))), None),
        (And((LIKE, Cond("plate", "like", "bcd"))), None),
        (And((AFTER, BEFORE)), None),
        (Or((LIKE, AFTER)), None),
        (Not(LIKE), None),
        (Cond("plate", "=", "abc"), None),
    ],
)
def test_what_is_searched_by_the_grams(node: Node, search: PlateSearch | None) -> None:
    assert parse(node) == search
