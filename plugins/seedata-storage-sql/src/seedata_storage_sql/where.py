"""Search filters as SQL: a :mod:`seedata_core.filter_ast` tree becomes a WHERE clause that selects
exactly the flows :func:`seedata_core.filters.matches` selects.

- **Two-valued logic.** SQL's ``NULL`` would make ``NOT (plate = 'x')`` skip flows without a plate,
  which ``matches`` counts in. Every plate condition therefore starts with ``plate IS NOT NULL``, so
  it is false, never unknown, and ``NOT`` is plain negation. No other column is nullable.
- **Cameras** are few, so camera conditions are decided in Python, with ``matches`` itself, against
  the cameras table: each becomes ``camera_id IN (...)``. A tree of nothing but camera conditions is
  a set of cameras (:func:`camera_only`), which lets a count add up per-camera counters.
- **Plates** are stored folded to lower case (ASCII) like the values, so ``=`` and ``!=`` compare
  directly; ``like`` is ``LIKE '%value%'`` with ``%``, ``_`` and the escape character escaped.
- **like** with a value of three characters or more first narrows to the flows whose plates hold
  every trigram of the value (``plate_grams``, a join of point look-ups on its primary key), then
  ``LIKE`` decides among those few. (A search by ``like`` alone, or with times, has a faster way of
  its own: :mod:`.plate_search`.) The grams are taken from the value folded to lower case: on
  SQLite, whose ``LIKE`` ignores ASCII case, a capital in the value still finds the folded plates.
  A value of two letters or digits is where a plate has it either at the start of one of its
  trigrams (a range of ``plate_grams``' key) or at its very end (a range of the reversed key
  ``plate_rkey``: the canonical key is made character by character, so a plate that ends with the
  value has a key that ends with the value's). One character matches a good part of all plates, and
  scans.
- **Selective plate conditions** (``=`` and ``similar``) become ``id IN (SELECT id ... )``: few flows
  match, found through an index of their own, and as a subquery they are found first, where the
  planner would otherwise walk the timestamp index to spare itself sorting those few.
- **similar**: the stored ``plate_key`` is ``canonical(plate)``; the value is canonical already. A key
  within one edit of the value is the value itself, the value less one character (both exact keys),
  or the value with one unknown character put in place of, or between, its characters. Each of those
  patterns has a fixed part on both sides of the unknown one; the longer side is an index range,
  on ``plate_key`` for a prefix and on the reversed key ``plate_rkey`` for a suffix, and ``LIKE``
  checks the whole pattern inside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, and_, false, not_, or_, select, true

from seedata_core.filter_ast import And, Cond, Node, Not, Or
from seedata_core.filters import FlowFacts, fold_case, matches
from seedata_core.lookalike import canonical

from .grams import grams
from .schema import GRAM_LENGTH, flows, plate_grams

CameraAliases = Mapping[int, str]
"""Every camera's alias, by camera id."""

LIKE_ESCAPE = "\\"
MAX_GRAMS = 4
"""The most trigrams of a ``like`` value that narrow its candidates: more only add look-ups."""

_SCALAR_COLUMNS = {
    "id": flows.c.id,
    "timestamp": flows.c.ts,
    "score": flows.c.score,
    "trigger_mode": flows.c.trigger_mode,
}


def compile_where(node: Node, cameras: CameraAliases) -> ColumnElement[bool]:
    """The WHERE clause selecting the flows that satisfy ``node``.

    ``cameras`` must hold every camera when ``node`` has camera conditions (:func:`needs_cameras`).
    Raises ``ValueError`` for a condition that :func:`seedata_core.filters.parse_filter` never makes.
    """
    match node:
        case And(items=items):
            if any(_narrows(item) for item in items):
                return and_(true(), *(_beside_plate(item, cameras) for item in items))
            return and_(true(), *(compile_where(item, cameras) for item in items))
        case Or(items=items):
            return or_(false(), *(compile_where(item, cameras) for item in items))
        case Not(item=item):
            return not_(compile_where(item, cameras))
        case Cond(field="camera"):
            ids = _cameras_where(node, cameras)
            return flows.c.camera_id.in_(sorted(ids)) if ids else false()
        case Cond(field="plate", op="like", value=str() as part) if (
            candidates := _holding(part)
        ) is not None:
            return and_(flows.c.plate.is_not(None), flows.c.id.in_(candidates), _plate(node))
        case Cond(field="plate", op="=" | "similar"):
            matching = select(flows.c.id).where(flows.c.plate.is_not(None), _plate(node)).correlate(None)
            return flows.c.id.in_(matching)
        case Cond(field="plate"):
            return and_(flows.c.plate.is_not(None), _plate(node))
        case Cond():
            return scalar_condition(node)


def needs_cameras(node: Node) -> bool:
    """Whether compiling ``node`` needs the cameras (it has a camera condition)."""
    match node:
        case And(items=items) | Or(items=items):
            return any(needs_cameras(item) for item in items)
        case Not(item=item):
            return needs_cameras(item)
        case Cond(field=field):
            return field == "camera"


def camera_only(node: Node, cameras: CameraAliases) -> frozenset[int] | None:
    """The cameras whose flows all satisfy ``node``, or ``None`` if it tests more than the camera."""
    match node:
        case And(items=items):
            selected = frozenset(cameras)
            for item in items:
                part = camera_only(item, cameras)
                if part is None:
                    return None
                selected &= part
            return selected
        case Or(items=items):
            selected = frozenset()
            for item in items:
                part = camera_only(item, cameras)
                if part is None:
                    return None
                selected |= part
            return selected
        case Not(item=item):
            part = camera_only(item, cameras)
            return None if part is None else frozenset(cameras) - part
        case Cond(field="camera"):
            return _cameras_where(node, cameras)
        case Cond():
            return None


def like_escape(text: str) -> str:
    """``text`` as a LIKE pattern that matches it literally (with ``ESCAPE '\\'``)."""
    return (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


def _cameras_where(cond: Cond, cameras: CameraAliases) -> frozenset[int]:
    # The reference semantics, applied to each camera's alias: a camera condition tests nothing else.
    return frozenset(
        camera_id
        for camera_id, alias in cameras.items()
        if matches(cond, FlowFacts(id=0, epoch=0, camera=alias, plate=None, trigger_mode="", score=0.0))
    )


def _plate(cond: Cond) -> ColumnElement[bool]:
    plate = flows.c.plate
    match cond.op, cond.value:
        case "=", str() as value:
            # The canonical key is indexed; the plate itself confirms.
            return and_(flows.c.plate_key == canonical(value), plate == value)
        case "!=", str() as value:
            return plate != value
        case "like", str() as part:
            return plate.like(f"%{like_escape(part)}%", escape=LIKE_ESCAPE)
        case "similar", str() as key:
            return _similar(key)
    raise ValueError(f"unsupported condition {cond!r}")


def _holding(part: str) -> Select[tuple[int]] | None:
    """The ids of the flows whose plates may hold ``part``, found by index (a superset of those that
    do); ``None`` when no index narrows them."""
    if grams(part):
        return _holding_grams(part)
    pair = fold_case(part)
    if len(pair) == GRAM_LENGTH - 1 and pair.isascii() and pair.isalnum():
        return _holding_pair(pair)
    return None


def _holding_pair(pair: str) -> Select[tuple[int]]:
    """The ids of the flows whose plates may hold ``pair``, two ASCII letters or digits."""
    inside = select(plate_grams.c.flow_id).where(_starts_with(plate_grams.c.gram, pair))
    at_end = select(flows.c.id).where(_starts_with(flows.c.plate_rkey, canonical(pair)[::-1]))
    return select(inside.union(at_end).subquery().c[0]).correlate(None)


def _starts_with(column: ColumnElement[str], head: str) -> ColumnElement[bool]:
    """``column`` starts with ``head`` (ASCII), as a range that an index on it serves."""
    # Every string that starts with ``head`` sorts below ``head`` with its last character's successor.
    return and_(column >= head, column < head[:-1] + chr(ord(head[-1]) + 1))


def _holding_grams(part: str) -> Select[tuple[int]]:
    """The ids of the flows whose plates hold every trigram of ``part`` (a superset of its matches)."""
    return holding_grams(part)[0].correlate(None)


def holding_grams(part: str) -> tuple[Select[tuple[int]], FromClause]:
    """The ids of the flows whose plates hold every trigram of ``part`` (at most :data:`MAX_GRAMS`
    of them), and the grams table of the first trigram, whose ``ts`` and ``flow_id`` order them."""
    wanted = _spread(grams(fold_case(part)), MAX_GRAMS)
    tables = [plate_grams.alias(f"g{i}") for i in range(len(wanted))]
    first = tables[0]
    joined: FromClause = first
    for table, gram in zip(tables[1:], wanted[1:], strict=True):
        # The whole key: each further gram of a candidate is a point look-up.
        same_flow = and_(table.c.ts == first.c.ts, table.c.flow_id == first.c.flow_id)
        joined = joined.join(table, and_(table.c.gram == gram, same_flow))
    return select(first.c.flow_id).select_from(joined).where(first.c.gram == wanted[0]), first


def _spread(items: list[str], most: int) -> list[str]:
    """At most ``most`` of ``items``, first and last among them, the rest evenly between."""
    if len(items) <= most:
        return items
    step = (len(items) - 1) / (most - 1)
    return [items[round(i * step)] for i in range(most)]


def _narrows(node: Node) -> bool:
    """Whether ``node`` is a plate condition that finds its few flows through an index of its own."""
    match node:
        case Cond(field="plate", op="=" | "similar"):
            return True
        case Cond(field="plate", op="like", value=str() as part):
            return _holding(part) is not None
    return False


def _beside_plate(node: Node, cameras: CameraAliases) -> ColumnElement[bool]:
    """``node``, ANDed with a plate condition that :func:`_narrows`, as a test on that one's flows.

    SQLite plans without statistics, and prefers the camera or time index, which yields the flows
    in the page's order, to the plate's few candidates: it would then walk all of a camera's flows
    to find a page. ``+ 0`` makes the column an expression that no index serves (on every database:
    the plate's candidates are the better start there too).
    """
    match node:
        case Cond(field="camera"):
            ids = _cameras_where(node, cameras)
            return (flows.c.camera_id + 0).in_(sorted(ids)) if ids else false()
        case Cond(field="timestamp"):
            return scalar_condition(node, flows.c.ts + 0)
    return compile_where(node, cameras)


def scalar_condition(cond: Cond, column: ColumnElement[Any] | None = None) -> ColumnElement[bool]:
    """A condition on ``id``, ``timestamp``, ``score`` or ``trigger_mode``, on its column of ``flows``
    or on ``column`` (one holding the same values)."""
    column = _SCALAR_COLUMNS.get(cond.field) if column is None else column
    if column is None:
        raise ValueError(f"unsupported condition {cond!r}")
    match cond.op, cond.value:
        case "in", tuple() as values:
            return column.in_(values) if values else false()
        case "nin", tuple() as values:
            return column.not_in(values) if values else true()
        case "=", value if not isinstance(value, tuple):
            return column == value
        case "!=", value if not isinstance(value, tuple):
            return column != value
        case op, int() | float() as value if cond.field != "trigger_mode":
            match op:
                case ">":
                    return column > value
                case ">=":
                    return column >= value
                case "<":
                    return column < value
                case "<=":
                    return column <= value
    raise ValueError(f"unsupported condition {cond!r}")


def _similar(key: str) -> ColumnElement[bool]:
    exact = {key} | {key[:i] + key[i + 1 :] for i in range(len(key))}
    # (before, after) around one unknown character.
    substitutions = {(key[:i], key[i + 1 :]) for i in range(len(key))}
    insertions = {(key[:i], key[i:]) for i in range(len(key) + 1)}
    terms: list[ColumnElement[bool]] = [flows.c.plate_key.in_(sorted(exact))]
    for before, after in sorted(substitutions | insertions):
        if len(before) >= len(after):
            terms.append(_one_unknown(flows.c.plate_key, before, after))
        else:
            terms.append(_one_unknown(flows.c.plate_rkey, after[::-1], before[::-1]))
    return or_(*terms)


def _one_unknown(column: ColumnElement[str], head: str, tail: str) -> ColumnElement[bool]:
    """``column`` is ``head``, any one character, then ``tail``: a range on ``head``, then LIKE."""
    pattern = column.like(f"{like_escape(head)}_{like_escape(tail)}", escape=LIKE_ESCAPE)
    if not head or not head.isascii():  # canonical keys are ASCII; anything else only needs to be right
        return pattern
    return and_(_starts_with(column, head), pattern)
