"""Searches by ``plate like`` alone, or with conditions on the time: pages and counts read from the
plate grams in their key's order.

``plate_grams`` holds each gram's flows keyed by ``(gram, ts, flow_id)``, the listing's order read
backwards (:mod:`.schema`). A search that tests nothing but the plate's substring and the time can
thus be answered from the grams' index:

- **Three characters** (folded) are a gram of their own, and a plate holds them exactly when it has
  that gram. Matches are the gram's entries, within the times: a count is an index range, and a
  page is the page's entries, found by walking that range newest first, then their flows by key.
  No flow is read but the page's.
- **More characters** give several grams. The first one's entries are walked newest first; each is
  probed for the others by the whole key (the flow's timestamp is in it) and its flow, read by key,
  is confirmed by ``LIKE``, as holding every gram does not make a substring. A page stops when it is
  full; a count reads the flows that hold every gram, which for a value of four or more characters
  are few.

A ``like`` alone of **one or two characters** holds no gram. Its total is the sum of the counts
that ``plate_piece_days`` keeps, per day, of the plates that hold it (:func:`short_value`). Its page
walks the time index, newest first, testing each plate (:func:`scanning`): it stops when the page is
full, so it reads about the page's rows divided by the share of plates that match. A deep page
starts at the end of the day that holds it, found by reading the day counts from the nearer end, so
it reads no more than that day's flows besides. A pair rarer than :data:`DENSE` is found by the
grams' key ranges instead (:func:`.where.compile_where`).

Any other search (a camera, a score, ``not`` or ``or`` around the ``like``) goes through
:func:`.where.compile_where`, which finds the same flows by the same grams, by id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    Boolean,
    ColumnElement,
    FromClause,
    Select,
    String,
    Subquery,
    and_,
    func,
    literal,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from seedata_core.filter_ast import And, Cond, Node
from seedata_core.filters import fold_case

from .grams import grams
from .schema import GRAM_LENGTH, PIECE_LENGTH, flows
from .where import LIKE_ESCAPE, holding_grams, like_escape, scalar_condition

DENSE: Final = 1 / 1000
"""The share of all flows from which the page of a short ``like`` walks the time index."""


@dataclass(frozen=True)
class PlateSearch:
    """A search by one ``plate like`` of three characters or more, and conditions on the time."""

    value: str
    """The substring, folded (:func:`seedata_core.filters.fold_case`) as the stored plates are."""
    times: tuple[Cond, ...] = ()


def parse(node: Node) -> PlateSearch | None:
    """``node`` as a :class:`PlateSearch`, or ``None`` when it tests more than the plate's substring
    and the time, or its ``like`` value is too short to have a gram."""
    match node:
        case Cond(field="plate", op="like", value=str() as part) if grams(part):
            return PlateSearch(fold_case(part))
        case And(items=items):
            times = tuple(item for item in items if isinstance(item, Cond) and item.field == "timestamp")
            likes = [parse(item) for item in items if item not in times]
            if len(likes) == 1 and likes[0] is not None and not likes[0].times:
                return PlateSearch(likes[0].value, times)
    return None


def short_value(node: Node) -> str | None:
    """The value, folded, of a search by ``plate like`` alone with one or two characters."""
    match node:
        case Cond(field="plate", op="like", value=str() as part) if 1 <= len(part) <= PIECE_LENGTH:
            return fold_case(part)
        case And(items=(item,)):
            return short_value(item)
    return None


def scanning(value: str) -> ColumnElement[bool]:
    """The plate holds ``value``, tested row by row as the time index is walked (no index narrows it).

    A function, not ``LIKE``: PostgreSQL estimates how many plates a ``LIKE`` matches from its
    histogram's hundred values, which hold no match of a value that 0.2 % of plates hold, and so
    read a deep page of such a value by a full scan and a sort (70 ms at 1M flows) rather than
    the time index (3 ms). A function's matches are guessed at a third of the rows.
    """
    return and_(flows.c.plate.is_not(None), _Holds(flows.c.plate, literal(value, String)))


def _confirmed(value: str) -> ColumnElement[bool]:
    """The plate holds ``value``: ``LIKE``, for candidates the grams found."""
    return flows.c.plate.like(f"%{like_escape(value)}%", escape=LIKE_ESCAPE)


class _Holds(FunctionElement[bool]):
    """``text`` holds ``part``, a plain substring (no pattern): ``instr`` (``strpos`` on PostgreSQL)."""

    type = Boolean()
    inherit_cache = True
    name = "holds"


@compiles(_Holds)
def _holds(element: _Holds, compiler: SQLCompiler, **kw: Any) -> str:
    text, part = element.clauses
    return f"instr({compiler.process(text, **kw)}, {compiler.process(part, **kw)}) > 0"


@compiles(_Holds, "postgresql")
def _holds_postgresql(element: _Holds, compiler: SQLCompiler, **kw: Any) -> str:
    text, part = element.clauses
    return f"strpos({compiler.process(text, **kw)}, {compiler.process(part, **kw)}) > 0"


def page(search: PlateSearch, *, offset: int, limit: int) -> Subquery:
    """The ids (``flow_id``) of a page of the search's flows, newest first."""
    matches, first = _matches(search)
    newest_first = (first.c.ts.desc(), first.c.flow_id.desc())
    return matches.order_by(*newest_first).limit(limit).offset(offset).subquery("page")


def count(search: PlateSearch) -> Select[Any]:
    """How many flows the search finds."""
    return select(func.count()).select_from(_matches(search)[0].subquery())


def _matches(search: PlateSearch) -> tuple[Select[tuple[int]], FromClause]:
    """The ids of the search's flows, and the grams table of their first gram, whose timestamps
    and ids order them."""
    matches, first = holding_grams(search.value)
    matches = matches.where(*(scalar_condition(cond, first.c.ts) for cond in search.times))
    if len(search.value) > GRAM_LENGTH:
        matches = matches.join_from(first, flows, flows.c.id == first.c.flow_id).where(
            _confirmed(search.value)
        )
    return matches, first
