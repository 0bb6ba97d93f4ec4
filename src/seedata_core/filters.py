"""Flow search filters: the ``filter`` of POST /flows/search, parsed into :mod:`~seedata_core.filter_ast`.

Grammar of the decoded JSON (SPEC §1.3; ``and``/``or``/``not``, ``similar`` and ``score`` are beyond the
seed)::

    filter    := null | "" | [] | object               null, "", [] and {} match every flow
    object    := { member, ... }                       every member must hold
    member    := FIELD: condition
               | "and": [object, object, ...]          non-empty; every object must hold
               | "or":  [object, object, ...]          non-empty; at least one object must hold
               | "not": object                         the object must not hold
    condition := value                                 the same as {"=": value}
               | { OPERATOR: operand, ... }            non-empty; every operator must hold
    operand   := value | [value, ...]                  an array for "in" and "nin" only

    FIELD         OPERATORS                  VALUE
    id            = != > >= < <= in nin      integer, or string of ASCII digits with an optional sign
    timestamp     = != > >= < <=             "YYYY-MM-DD HH:MM:SS" or "YYYY-MM-DD" in the display zone
    camera        = != like                  string
    plate         = != like similar          string; null with = or != tests whether a plate was read
    trigger_mode  =                          string
    score         = != > >= < <=             number

Members and operators are read in the order the client sent them and the first problem found is the
error reported, so a filter always gets the same message. Groups nest at most :data:`MAX_DEPTH` deep and a
filter holds at most :data:`MAX_CONDITIONS` conditions (each operator of a field counts one, and so does
each object inside a group), which bounds the SQL a storage builds from it.

The parsed form is simplified without changing its meaning: an object of one condition is that
condition, an ``and`` inside an object joins the object's own :class:`And`, one-item groups are their
item, an empty ``in`` is ``Or(())`` (nothing) and an empty ``nin`` is :data:`MATCH_ALL`.

Semantics (:func:`matches` is the reference; every storage's SQL must select exactly the same flows):

- Two-valued logic: every :class:`Cond` is true or false for every flow, and :class:`Not` is plain
  negation. A flow without a plate fails *every* ``plate`` condition (``=``, ``!=``, ``like``,
  ``similar``), so ``!=`` does not match it but ``Not(Cond("plate", "=", "x"))`` does. In SQL, a plate
  condition under a ``NOT`` needs ``plate IS NOT NULL AND ...``.
- ``id``, ``timestamp`` (UTC epoch seconds) and ``score``: numeric comparison; ``in``/``nin``: membership.
- ``camera`` and ``plate``: the flow's text is folded to lower case in ASCII only (``A``-``Z``; other
  characters are compared as they are, as SQLite's ``LOWER`` does) and compared with the value, which
  the parser folded the same way. ``like`` holds when the value is a substring of the folded text;
  ``%`` and ``_`` are plain characters, so SQL must escape them (or use ``instr``).
- ``similar`` holds when ``canonical(plate)`` (:func:`seedata_core.lookalike.canonical`) is at most one
  substitution, insertion or deletion away from the value, which the parser already made canonical.
- ``trigger_mode``: exact, case-sensitive equality.
- "No plate read" is :data:`NO_PLATE`, ``Not(HAS_PLATE)``, where :data:`HAS_PLATE` is
  ``Cond("plate", "like", "")``: every plate contains the empty string, and a missing plate fails.
"""

from __future__ import annotations

import math
import operator
import string
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

import msgspec

from .errors import FilterError
from .filter_ast import MATCH_ALL, And, Cond, Field, Node, Not, Operator, Or
from .lookalike import canonical, within_one_edit
from .models import Flow
from .timezones import DisplayZone

__all__ = [
    "HAS_PLATE",
    "MAX_CONDITIONS",
    "MAX_DEPTH",
    "MAX_IN_ITEMS",
    "NO_PLATE",
    "OPERATORS",
    "FlowFacts",
    "fold_case",
    "matches",
    "parse_filter",
]

MAX_IN_ITEMS: Final = 1000
MAX_DEPTH: Final = 10
MAX_CONDITIONS: Final = 100

_COMPARISONS: tuple[Operator, ...] = ("=", "!=", ">", ">=", "<", "<=")
OPERATORS: Final[dict[Field, tuple[Operator, ...]]] = {
    "id": (*_COMPARISONS, "in", "nin"),
    "timestamp": _COMPARISONS,
    "camera": ("=", "!=", "like"),
    "plate": ("=", "!=", "like", "similar"),
    "trigger_mode": ("=",),
    "score": _COMPARISONS,
}
"""The operators each field accepts."""

HAS_PLATE: Final[Node] = Cond("plate", "like", "")
NO_PLATE: Final[Node] = Not(HAS_PLATE)

INVALID: Final = "The format of Filter is invalid."
INVALID_TIMESTAMP: Final = "The format of Timestamp is invalid."
INVALID_ID: Final = "Id must be an integer."

_FIELD_NAMES: dict[object, Field] = {name: name for name in OPERATORS}
_OPERATOR_NAMES: dict[object, Operator] = {op: op for ops in OPERATORS.values() for op in ops}
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_SECOND = timedelta(seconds=1)
# (shape, strptime format): "d" stands for an ASCII digit; the shape check keeps strptime from accepting
# one-digit months, spaces and the like.
_TIMESTAMP_FORMATS = (("dddd-dd-dd dd:dd:dd", "%Y-%m-%d %H:%M:%S"), ("dddd-dd-dd", "%Y-%m-%d"))
_ORDERINGS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def fold_case(text: str) -> str:
    """``text`` with ASCII capitals lower-cased, the case folding of camera and plate comparisons."""
    return text.translate(_ASCII_LOWER)


def parse_filter(raw: object, zone: DisplayZone) -> Node:
    """The parsed form of ``raw``, the decoded JSON of the ``filter`` key (``None`` when it is missing).

    Timestamps are read in ``zone``. Raises :class:`~seedata_core.errors.FilterError` with one of SPEC
    §1.3's messages when ``raw`` breaks the grammar in this module's docstring.
    """
    # PHP encodes an empty filter array as [], so clients of the original send it for "no filter".
    if raw is None or raw in ("", []):
        return MATCH_ALL
    return _Parser(zone).filter_object(raw, depth=0)


class _Parser:
    """One filter's parse: the zone its timestamps are read in and how many conditions it has used."""

    def __init__(self, zone: DisplayZone) -> None:
        self.zone = zone
        self.conditions = 0

    def count_condition(self) -> None:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise FilterError(INVALID)

    def filter_object(self, raw: object, depth: int) -> Node:
        if not isinstance(raw, dict):
            raise FilterError(INVALID)
        return _all([self.member(key, value, depth) for key, value in raw.items()])

    def member(self, key: object, value: object, depth: int) -> Node:
        if key in ("and", "or"):
            if not isinstance(value, list) or not value:
                raise FilterError(INVALID)
            items = [self.nested(item, depth) for item in value]
            return _all(items) if key == "and" else _any(items)
        if key == "not":
            return Not(self.nested(value, depth))
        field = _FIELD_NAMES.get(key)
        if field is None:
            raise FilterError(f'Unknown filter attribute "{key}"')
        return self.condition(field, value)

    def nested(self, raw: object, depth: int) -> Node:
        """An object inside a group of the object at ``depth``."""
        if depth == MAX_DEPTH:
            raise FilterError(INVALID)
        self.count_condition()
        return self.filter_object(raw, depth + 1)

    def condition(self, field: Field, raw: object) -> Node:
        if isinstance(raw, list):
            raise FilterError(_bad_condition(field))
        if not isinstance(raw, dict):
            return self.operation(field, "=", raw)
        if not raw:
            raise FilterError(_bad_condition(field))
        return _all([self.operator(field, key, operand) for key, operand in raw.items()])

    def operator(self, field: Field, key: object, operand: object) -> Node:
        op = _OPERATOR_NAMES.get(key)
        if op is None:
            raise FilterError(_bad_condition(field))
        if op not in OPERATORS[field]:
            raise FilterError(f'"{field}" does not support operator "{op}".')
        return self.operation(field, op, operand)

    def operation(self, field: Field, op: Operator, operand: object) -> Node:
        """``field op operand`` where ``op`` is one of the field's operators."""
        self.count_condition()
        if op in ("in", "nin"):
            # Only ids take these operators.
            if not isinstance(operand, list):
                raise FilterError(f'Operator "{op}" requires multiple operands.')
            if len(operand) > MAX_IN_ITEMS:
                raise FilterError(f'Operator "{op}" accepts at most {MAX_IN_ITEMS} operands.')
            ids = tuple(dict.fromkeys(_integer(item) for item in operand))
            if not ids:
                return Or(()) if op == "in" else MATCH_ALL
            return Cond(field, op, ids)
        if field == "id":
            return Cond(field, op, _integer(operand))
        if field == "timestamp":
            return Cond(field, op, self.epoch(operand))
        if field == "score":
            return Cond(field, op, _number(operand))
        if field == "plate" and operand is None and op in ("=", "!="):
            return NO_PLATE if op == "=" else HAS_PLATE
        if not isinstance(operand, str):
            raise FilterError(INVALID)
        if field == "trigger_mode":
            return Cond(field, op, operand)
        if op == "similar":
            return Cond(field, op, canonical(operand))
        return Cond(field, op, fold_case(operand))

    def epoch(self, raw: object) -> int:
        """UTC epoch seconds of a display-zone timestamp string."""
        for shape, layout in _TIMESTAMP_FORMATS:
            if isinstance(raw, str) and _has_shape(raw, shape):
                try:
                    local = datetime.strptime(raw, layout)
                except ValueError:  # 2024-02-30, 25:00:00 and the like
                    break
                try:
                    return (self.zone.to_utc(local) - _EPOCH_UTC) // _SECOND
                except (ValueError, OverflowError, OSError):
                    # Only the first and last days of years 1 and 9999 overflow. Read them as UTC: the
                    # offset moves them by hours, and no flow is stored within centuries of them.
                    return (local - _EPOCH_NAIVE) // _SECOND
        raise FilterError(INVALID_TIMESTAMP)


def _bad_condition(field: Field) -> str:
    return f'Condition for "{field}" should be either a value or valid operator specification.'


def _has_shape(text: str, shape: str) -> bool:
    return len(text) == len(shape) and all(
        char in "0123456789" if mark == "d" else char == mark for char, mark in zip(text, shape, strict=True)
    )


def _integer(raw: object) -> int:
    """An id, clamped to the signed 64-bit range; stored ids never reach its ends, so meaning is kept."""
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise FilterError(INVALID_ID)
    if isinstance(raw, str):
        digits = raw[1:] if raw[:1] in ("+", "-") else raw
        if not (digits.isascii() and digits.isdigit()):
            raise FilterError(INVALID_ID)
        # int() refuses strings of thousands of digits; anything past 19 digits is out of range anyway.
        significant = digits.lstrip("0") or "0"
        if len(significant) > 19:
            return _INT64_MIN if raw[0] == "-" else _INT64_MAX
        raw = -int(significant) if raw[0] == "-" else int(significant)
    return min(max(raw, _INT64_MIN), _INT64_MAX)


def _number(raw: object) -> float:
    """A score operand, clamped to the finite floats: every stored score (0 to 1) compares the same."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise FilterError(INVALID)
    try:
        number = float(raw)
    except OverflowError:  # an integer past the float range
        number = math.inf if raw > 0 else -math.inf
    if math.isnan(number):
        raise FilterError(INVALID)
    return min(max(number, -sys.float_info.max), sys.float_info.max)


def _all(nodes: list[Node]) -> Node:
    items = tuple(item for node in nodes for item in (node.items if isinstance(node, And) else (node,)))
    return items[0] if len(items) == 1 else And(items)


def _any(nodes: list[Node]) -> Node:
    items = tuple(item for node in nodes for item in (node.items if isinstance(node, Or) else (node,)))
    return items[0] if len(items) == 1 else Or(items)


class FlowFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What a filter tests of a flow: ``epoch`` is UTC seconds; ``plate`` is ``None`` when none was read."""

    id: int
    epoch: int
    camera: str
    plate: str | None
    trigger_mode: str
    score: float

    @classmethod
    def of(cls, flow: Flow) -> FlowFacts:
        """The facts of a stored flow."""
        return cls(
            id=flow.id,
            epoch=(flow.timestamp - _EPOCH_UTC) // _SECOND,
            camera=flow.camera,
            plate=flow.plate,
            trigger_mode=flow.trigger_mode,
            score=flow.score,
        )


def matches(node: Node, flow: FlowFacts) -> bool:
    """Whether ``flow`` satisfies ``node``: the reference semantics (module docstring) storages follow."""
    match node:
        case And(items=items):
            return all(matches(item, flow) for item in items)
        case Or(items=items):
            return any(matches(item, flow) for item in items)
        case Not(item=item):
            return not matches(item, flow)
        case Cond():
            return _holds(node, flow)


def _holds(cond: Cond, flow: FlowFacts) -> bool:
    if cond.field == "plate" and flow.plate is None:
        return False
    left = _fact(flow, cond.field)
    match cond.op, cond.value:
        case "in", tuple() as values:
            return left in values
        case "nin", tuple() as values:
            return left not in values
        case "like", str() as part if isinstance(left, str):
            return part in left
        case "similar", str() as key if isinstance(left, str):
            return within_one_edit(canonical(left), key)
        case "=", value:
            return left == value
        case "!=", value:
            return left != value
        case op, int() | float() as value if op in _ORDERINGS and not isinstance(left, str):
            return _ORDERINGS[op](left, value)
    raise ValueError(f"malformed condition {cond!r}")


def _fact(flow: FlowFacts, field: Field) -> int | float | str:
    """What ``field`` tests of a flow with a plate, case-folded where comparisons ignore case."""
    match field:
        case "id":
            return flow.id
        case "timestamp":
            return flow.epoch
        case "camera":
            return fold_case(flow.camera)
        case "plate":
            return fold_case(flow.plate or "")
        case "trigger_mode":
            return flow.trigger_mode
        case "score":
            return flow.score
