"""The search filter parser and its reference semantics (SPEC §1.3)."""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seedata_core.errors import FilterError
from seedata_core.filter_ast import MATCH_ALL, And, Cond, Node, Not, Or
from seedata_core.filters import HAS_PLATE, NO_PLATE, FlowFacts, matches, parse_filter
from seedata_core.models import Flow
from seedata_core.timezones import DisplayZone

SAO_PAULO = DisplayZone("America/Sao_Paulo")
UTC_ZONE = DisplayZone("UTC")
ZONES = {"America/Sao_Paulo": SAO_PAULO, "UTC": UTC_ZONE}
INT64_MAX, INT64_MIN = 2**63 - 1, -(2**63)

# Written out from SPEC §1.3 rather than imported, so the tests check the module's table.
ALLOWED = {
    "id": ["=", "!=", ">", ">=", "<", "<=", "in", "nin"],
    "timestamp": ["=", "!=", ">", ">=", "<", "<="],
    "camera": ["=", "!=", "like"],
    "plate": ["=", "!=", "like", "similar"],
    "trigger_mode": ["="],
    "score": ["=", "!=", ">", ">=", "<", "<="],
}
ALL_OPERATORS = ["=", "!=", ">", ">=", "<", "<=", "in", "nin", "like", "similar"]

INVALID = "The format of Filter is invalid."
BAD_TIMESTAMP = "The format of Timestamp is invalid."
BAD_ID = "Id must be an integer."


def bad_condition(field: str) -> str:
    return f'Condition for "{field}" should be either a value or valid operator specification.'


def unsupported(field: str, op: str) -> str:
    return f'"{field}" does not support operator "{op}".'


_FIELDS_RE = "|".join(ALLOWED)
_OPS_RE = "|".join(re.escape(op) for op in ALL_OPERATORS)
DOCUMENTED = [
    re.compile(r'Unknown filter attribute ".*"', re.DOTALL),
    re.compile(re.escape(INVALID)),
    re.compile(re.escape(BAD_TIMESTAMP)),
    re.compile(re.escape(BAD_ID)),
    re.compile(r'Operator "(in|nin)" requires multiple operands\.'),
    re.compile(r'Operator "(in|nin)" accepts at most 1000 operands\.'),
    re.compile(rf'"({_FIELDS_RE})" does not support operator "({_OPS_RE})"\.'),
    re.compile(rf'Condition for "({_FIELDS_RE})" should be either a value or valid operator specification\.'),
]


def is_documented(message: str) -> bool:
    return any(pattern.fullmatch(message) for pattern in DOCUMENTED)


def sp_epoch(text: str) -> int:
    """Epoch of a São Paulo wall-clock time (UTC-3 all year since 2019)."""
    return int(datetime.fromisoformat(text + "-03:00").timestamp())


def c(field: Any, op: Any, value: Any) -> Cond:
    return Cond(field, op, value)


def case_id(value: object) -> str:
    return json.dumps(value, default=repr, ensure_ascii=False)[:50]


def _nest(depth: int, inner: dict[str, Any]) -> dict[str, Any]:
    for _ in range(depth):
        inner = {"not": inner}
    return inner


def _not_n(depth: int, inner: Node) -> Node:
    for _ in range(depth):
        inner = Not(inner)
    return inner


# -- parsing: tables ------------------------------------------------------------------------------

PARSED: list[tuple[object, Node]] = [
    # match all
    (None, MATCH_ALL),
    ("", MATCH_ALL),
    ({}, MATCH_ALL),
    ([], MATCH_ALL),  # what PHP's json_encode makes of an empty filter array
    # the seed's documented examples
    (
        {"timestamp": {">=": "2024-11-18 00:00:00"}, "camera": {"like": "camera_1"}},
        And((c("timestamp", ">=", sp_epoch("2024-11-18T00:00:00")), c("camera", "like", "camera_1"))),
    ),
    (
        {"plate": {"like": "aaa"}, "camera": {"like": "camera_1"}},
        And((c("plate", "like", "aaa"), c("camera", "like", "camera_1"))),
    ),
    ({"trigger_mode": "manual"}, c("trigger_mode", "=", "manual")),
    ({"id": {"in": [1, 2]}}, c("id", "in", (1, 2))),
    # id: every operator, numeric strings, clamping
    ({"id": 7}, c("id", "=", 7)),
    ({"id": {"=": 7}}, c("id", "=", 7)),
    ({"id": {"!=": "7"}}, c("id", "!=", 7)),
    ({"id": {">": "+7"}}, c("id", ">", 7)),
    ({"id": {">=": "-0007"}}, c("id", ">=", -7)),
    ({"id": {"<": 0}}, c("id", "<", 0)),
    ({"id": {"<=": "00"}}, c("id", "<=", 0)),
    ({"id": {"in": [3, "1", 3, "+1"]}}, c("id", "in", (3, 1))),
    ({"id": {"nin": [5]}}, c("id", "nin", (5,))),
    ({"id": {"in": []}}, Or(())),
    ({"id": {"nin": []}}, MATCH_ALL),
    ({"id": {"in": list(range(1000))}}, c("id", "in", tuple(range(1000)))),
    ({"id": 2**64}, c("id", "=", INT64_MAX)),
    ({"id": -(2**64)}, c("id", "=", INT64_MIN)),
    ({"id": str(2**63)}, c("id", "=", INT64_MAX)),
    ({"id": "9223372036854775806"}, c("id", "=", 2**63 - 2)),
    ({"id": "-" + "9" * 5000}, c("id", "=", INT64_MIN)),
    ({"id": "+" + "0" * 5000 + "12"}, c("id", "=", 12)),
    ({"id": {"in": ["9" * 5000, 1]}}, c("id", "in", (INT64_MAX, 1))),
    ({"id": {">": 2, "<": 9}}, And((c("id", ">", 2), c("id", "<", 9)))),
    # timestamp: every operator, both shapes, in the display zone
    ({"timestamp": "2024-11-18 12:34:56"}, c("timestamp", "=", sp_epoch("2024-11-18T12:34:56"))),
    ({"timestamp": {"=": "2024-11-18"}}, c("timestamp", "=", sp_epoch("2024-11-18T00:00:00"))),
    ({"timestamp": {"!=": "2024-11-18"}}, c("timestamp", "!=", sp_epoch("2024-11-18T00:00:00"))),
    ({"timestamp": {">": "2024-02-29 23:59:59"}}, c("timestamp", ">", sp_epoch("2024-02-29T23:59:59"))),
    ({"timestamp": {">=": "2000-01-01"}}, c("timestamp", ">=", sp_epoch("2000-01-01T00:00:00") - 3600)),
    ({"timestamp": {"<": "1970-01-01"}}, c("timestamp", "<", 3 * 3600)),
    ({"timestamp": {"<=": "2024-11-18 00:00:00"}}, c("timestamp", "<=", sp_epoch("2024-11-18T00:00:00"))),
    # camera: case-folded values, like keeps % and _ as they are
    ({"camera": "Camera_1"}, c("camera", "=", "camera_1")),
    ({"camera": {"!=": "GATE"}}, c("camera", "!=", "gate")),
    ({"camera": {"like": "A%_b"}}, c("camera", "like", "a%_b")),
    ({"camera": {"like": "ÉCOLE"}}, c("camera", "like", "École")),
    # plate: case-folded (not normalised), similar in canonical form, null tests
    ({"plate": "DVI3A22"}, c("plate", "=", "dvi3a22")),
    ({"plate": {"=": "DVI-3A22"}}, c("plate", "=", "dvi-3a22")),
    ({"plate": {"!=": "abc"}}, c("plate", "!=", "abc")),
    ({"plate": {"like": "AaA"}}, c("plate", "like", "aaa")),
    ({"plate": {"similar": "BOS-1Z9G"}}, c("plate", "similar", "8051296")),
    ({"plate": ""}, c("plate", "=", "")),
    ({"plate": None}, NO_PLATE),
    ({"plate": {"=": None}}, Not(c("plate", "like", ""))),
    ({"plate": {"!=": None}}, HAS_PLATE),
    # trigger_mode: exact
    ({"trigger_mode": {"=": "Auto"}}, c("trigger_mode", "=", "Auto")),
    # score: every operator, always a float
    ({"score": 0.5}, c("score", "=", 0.5)),
    ({"score": {"=": 1}}, c("score", "=", 1.0)),
    ({"score": {"!=": 0}}, c("score", "!=", 0.0)),
    ({"score": {">": 0.9}}, c("score", ">", 0.9)),
    ({"score": {">=": 0.25}}, c("score", ">=", 0.25)),
    ({"score": {"<": -1}}, c("score", "<", -1.0)),
    ({"score": {"<=": 10**400}}, c("score", "<=", 1.7976931348623157e308)),
    ({"score": {">": -math.inf}}, c("score", ">", -1.7976931348623157e308)),
    # groups
    ({"and": [{"id": 1}]}, c("id", "=", 1)),
    ({"or": [{"id": 1}, {"id": 2}]}, Or((c("id", "=", 1), c("id", "=", 2)))),
    ({"not": {"id": 1}}, Not(c("id", "=", 1))),
    ({"not": {}}, Not(MATCH_ALL)),
    ({"and": [{}, {}]}, MATCH_ALL),
    (
        {"id": 1, "and": [{"id": 2}, {"camera": "x", "plate": "y"}]},
        And((c("id", "=", 1), c("id", "=", 2), c("camera", "=", "x"), c("plate", "=", "y"))),
    ),
    (
        {"or": [{"id": 1}, {"or": [{"id": 2}, {"id": {"in": []}}]}]},
        Or((c("id", "=", 1), c("id", "=", 2))),
    ),
    (
        {"or": [{"id": 1, "score": 1}, {"not": {"plate": None}}]},
        Or((And((c("id", "=", 1), c("score", "=", 1.0))), Not(NO_PLATE))),
    ),
    ({"not": {"not": {"id": 1}}}, Not(Not(c("id", "=", 1)))),
    # limits: ten nested groups, 100 conditions
    (_nest(10, {"id": 1}), _not_n(10, c("id", "=", 1))),
    ({"or": [{"id": i} for i in range(50)]}, Or(tuple(c("id", "=", i) for i in range(50)))),
]


@pytest.mark.parametrize(("raw", "expected"), PARSED, ids=case_id)
def test_parses(raw: object, expected: Node) -> None:
    assert parse_filter(raw, SAO_PAULO) == expected


def test_timestamps_are_read_in_the_display_zone() -> None:
    assert parse_filter({"timestamp": "2024-11-18 00:00:00"}, UTC_ZONE) == c("timestamp", "=", 1731888000)
    assert parse_filter({"timestamp": "2024-11-18"}, SAO_PAULO) == c("timestamp", "=", 1731888000 + 3 * 3600)


@pytest.mark.parametrize("zone_name", ["UTC", "America/Sao_Paulo", "Asia/Tokyo", None])
@pytest.mark.parametrize("text", ["0001-01-01", "0001-01-01 00:00:00", "9999-12-31 23:59:59", "9999-12-31"])
def test_extreme_years_never_crash(zone_name: str | None, text: str) -> None:
    node = parse_filter({"timestamp": {">": text}}, DisplayZone(zone_name))
    assert isinstance(node, Cond)
    assert isinstance(node.value, int)
    utc_reading = int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())
    assert abs(node.value - utc_reading) <= 86400


ERRORS: list[tuple[object, str]] = [
    # top level
    ([{"id": 1}], INVALID),
    (1, INVALID),
    (0, INVALID),
    (True, INVALID),
    ("id=1", INVALID),
    # attributes
    ({"foo": 1}, 'Unknown filter attribute "foo"'),
    ({"ID": 1}, 'Unknown filter attribute "ID"'),
    ({"": 1}, 'Unknown filter attribute ""'),
    ({"lpr_version": "1.8.0"}, 'Unknown filter attribute "lpr_version"'),
    ({"and": [{"plate": "x", "bar": 1}]}, 'Unknown filter attribute "bar"'),
    # groups
    ({"and": []}, INVALID),
    ({"or": []}, INVALID),
    ({"and": {"id": 1}}, INVALID),
    ({"or": "x"}, INVALID),
    ({"and": [{"id": 1}, 2]}, INVALID),
    ({"or": [None]}, INVALID),
    ({"and": [""]}, INVALID),
    ({"not": [{"id": 1}]}, INVALID),
    ({"not": None}, INVALID),
    ({"not": "x"}, INVALID),
    (_nest(11, {"id": 1}), INVALID),
    (_nest(11, {}), INVALID),
    ({"and": [_nest(10, {})]}, INVALID),
    ({"or": [{"id": i} for i in range(51)]}, INVALID),
    ({"id": {"in": list(range(1000))}, "and": [{"id": 1}] * 50}, INVALID),
    # condition shapes, for every field
    *[({field: {}}, bad_condition(field)) for field in ALLOWED],
    *[({field: [1]}, bad_condition(field)) for field in ALLOWED],
    *[({field: []}, bad_condition(field)) for field in ALLOWED],
    *[({field: {"eq": 1}}, bad_condition(field)) for field in ALLOWED],
    *[({field: {"and": [{"id": 1}]}}, bad_condition(field)) for field in ALLOWED],
    ({"id": {"=": 1, "foo": 2}}, bad_condition("id")),
    # operators not allowed for a field, every one
    *[
        ({field: {op: "x"}}, unsupported(field, op))
        for field, allowed in ALLOWED.items()
        for op in ALL_OPERATORS
        if op not in allowed
    ],
    ({"id": {">": 1, "like": "1"}}, unsupported("id", "like")),
    # in / nin
    ({"id": {"in": 1}}, 'Operator "in" requires multiple operands.'),
    ({"id": {"in": "1,2"}}, 'Operator "in" requires multiple operands.'),
    ({"id": {"nin": {"0": 1}}}, 'Operator "nin" requires multiple operands.'),
    ({"id": {"nin": None}}, 'Operator "nin" requires multiple operands.'),
    ({"id": {"in": list(range(1001))}}, 'Operator "in" accepts at most 1000 operands.'),
    ({"id": {"nin": ["x"] * 1001}}, 'Operator "nin" accepts at most 1000 operands.'),
    # ids
    ({"id": True}, BAD_ID),
    ({"id": 2.0}, BAD_ID),
    ({"id": 2.5}, BAD_ID),
    ({"id": None}, BAD_ID),
    ({"id": "abc"}, BAD_ID),
    ({"id": ""}, BAD_ID),
    ({"id": "-"}, BAD_ID),
    ({"id": "1.0"}, BAD_ID),
    ({"id": " 1"}, BAD_ID),
    ({"id": "1\n"}, BAD_ID),
    ({"id": "1_000"}, BAD_ID),
    ({"id": "--1"}, BAD_ID),
    ({"id": "١٢"}, BAD_ID),
    ({"id": "²"}, BAD_ID),
    ({"id": {"=": [1]}}, BAD_ID),
    ({"id": {"<": {"=": 1}}}, BAD_ID),
    ({"id": {"in": [1, "x"]}}, BAD_ID),
    ({"id": {"nin": [[1]]}}, BAD_ID),
    # timestamps
    ({"timestamp": "2024-02-30"}, BAD_TIMESTAMP),
    ({"timestamp": "2023-02-29 00:00:00"}, BAD_TIMESTAMP),
    ({"timestamp": "2024-13-01"}, BAD_TIMESTAMP),
    ({"timestamp": "2024-01-01 24:00:00"}, BAD_TIMESTAMP),
    ({"timestamp": "2024-01-01 00:60:00"}, BAD_TIMESTAMP),
    ({"timestamp": "2024-01-01 00:00:60"}, BAD_TIMESTAMP),
    ({"timestamp": "0000-01-01"}, BAD_TIMESTAMP),
    ({"timestamp": "2024-1-05"}, BAD_TIMESTAMP),
    ({"timestamp": "2024-01-05 1:02:03"}, BAD_TIMESTAMP),
    ({"timestamp": "2024-01-05T01:02:03"}, BAD_TIMESTAMP),
    ({"timestamp": "2024-01-05 01:02:03Z"}, BAD_TIMESTAMP),
    ({"timestamp": "2024-01-05 01:02"}, BAD_TIMESTAMP),
    ({"timestamp": " 2024-01-05"}, BAD_TIMESTAMP),
    ({"timestamp": "2024/01/05"}, BAD_TIMESTAMP),
    ({"timestamp": "２０２４-01-05"}, BAD_TIMESTAMP),
    ({"timestamp": ""}, BAD_TIMESTAMP),
    ({"timestamp": 1731888000}, BAD_TIMESTAMP),
    ({"timestamp": None}, BAD_TIMESTAMP),
    ({"timestamp": {">": ["2024-01-05"]}}, BAD_TIMESTAMP),
    # strings
    ({"camera": 1}, INVALID),
    ({"camera": None}, INVALID),
    ({"camera": {"like": True}}, INVALID),
    ({"plate": 1234}, INVALID),
    ({"plate": {"like": None}}, INVALID),
    ({"plate": {"similar": None}}, INVALID),
    ({"plate": {"similar": ["abc"]}}, INVALID),
    ({"trigger_mode": None}, INVALID),
    ({"trigger_mode": 1}, INVALID),
    # scores
    ({"score": "0.5"}, INVALID),
    ({"score": True}, INVALID),
    ({"score": None}, INVALID),
    ({"score": math.nan}, INVALID),
    ({"score": {">": [0.5]}}, INVALID),
    # the first problem in key order wins
    ({"foo": 1, "id": "x"}, 'Unknown filter attribute "foo"'),
    ({"id": "x", "foo": 1}, BAD_ID),
    ({"id": {"like": 1, "eq": 1}}, unsupported("id", "like")),
    ({"id": {"eq": 1, "like": 1}}, bad_condition("id")),
    ({"id": {"in": ["x"] * 1001}}, 'Operator "in" accepts at most 1000 operands.'),
    ({"and": [{"camera": 1}, {"id": "x"}]}, INVALID),
    ({"or": [{"id": "x"}, {"camera": 1}]}, BAD_ID),
]


@pytest.mark.parametrize(("raw", "message"), ERRORS, ids=case_id)
def test_rejects(raw: object, message: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter(raw, SAO_PAULO)
    assert caught.value.message == message
    assert is_documented(message)
    assert [(e.field, e.message) for e in caught.value.errors] == [("filter", message)]


def test_every_documented_message_is_exercised() -> None:
    seen = {message for _, message in ERRORS}
    for pattern in DOCUMENTED:
        assert any(pattern.fullmatch(message) for message in seen), pattern.pattern


# -- matches: examples ----------------------------------------------------------------------------


def facts(**changes: Any) -> FlowFacts:
    base: dict[str, Any] = {
        "id": 5,
        "epoch": sp_epoch("2024-11-18T10:00:00"),
        "camera": "Camera_1",
        "plate": "dvi3a22",
        "trigger_mode": "manual",
        "score": 0.9,
    }
    return FlowFacts(**(base | changes))


MATCHES: list[tuple[object, FlowFacts, bool]] = [
    ({}, facts(), True),
    ({"id": {"in": []}}, facts(), False),
    ({"id": {"nin": []}}, facts(), True),
    ({"id": {"in": [4, 5]}}, facts(), True),
    ({"id": {"nin": [4, 5]}}, facts(), False),
    ({"id": {">": 4, "<=": 5}}, facts(), True),
    ({"id": {">": "5"}}, facts(), False),
    ({"id": {"<": "9" * 30}}, facts(id=2**63 - 2), True),
    ({"timestamp": "2024-11-18 10:00:00"}, facts(), True),
    ({"timestamp": {">=": "2024-11-18", "<": "2024-11-19"}}, facts(), True),
    ({"timestamp": {">": "2024-11-18 10:00:00"}}, facts(), False),
    ({"camera": "CAMERA_1"}, facts(), True),
    ({"camera": {"like": "ERA_"}}, facts(), True),
    ({"camera": {"like": "ERA%"}}, facts(), False),
    ({"camera": {"like": "%"}}, facts(camera="100%"), True),
    ({"camera": {"like": "a_1"}}, facts(camera="camera1"), False),
    ({"camera": {"!=": "camera_1"}}, facts(), False),
    # case folding is ASCII only, as SQLite's LOWER
    ({"camera": "école"}, facts(camera="École"), False),
    ({"camera": "École"}, facts(camera="École"), True),
    ({"plate": "DVI3A22"}, facts(), True),
    ({"plate": "dvi-3a22"}, facts(), False),
    ({"plate": {"like": "3A"}}, facts(), True),
    ({"plate": {"!=": "abc"}}, facts(), True),
    ({"plate": {"!=": "abc"}}, facts(plate=None), False),
    ({"plate": {"like": ""}}, facts(plate=None), False),
    ({"not": {"plate": "abc"}}, facts(plate=None), True),
    ({"not": {"plate": {"!=": "abc"}}}, facts(plate=None), True),
    ({"plate": None}, facts(plate=None), True),
    ({"plate": None}, facts(), False),
    ({"plate": {"!=": None}}, facts(), True),
    ({"plate": {"!=": None}}, facts(plate=None), False),
    ({"plate": ""}, facts(plate=None), False),
    ({"plate": {"similar": "DVI-3A22"}}, facts(), True),
    ({"plate": {"similar": "DV13A22"}}, facts(), True),  # I read as 1
    ({"plate": {"similar": "DV13AZZ"}}, facts(), True),  # Z read as 2
    ({"plate": {"similar": "DVX3A22"}}, facts(), True),  # one substitution
    ({"plate": {"similar": "DVI3A2"}}, facts(), True),  # one deletion
    ({"plate": {"similar": "DVI3A222"}}, facts(), True),  # one insertion
    ({"plate": {"similar": "XDVI3A22"}}, facts(), True),
    ({"plate": {"similar": "DXX3A22"}}, facts(), False),
    ({"plate": {"similar": "DVXY3A22"}}, facts(), False),  # a substitution and an insertion
    ({"plate": {"similar": "VI3A2"}}, facts(), False),
    ({"plate": {"similar": "IV3A22"}}, facts(), False),  # a transposition is two edits
    ({"plate": {"similar": ""}}, facts(plate="a"), True),
    ({"plate": {"similar": "x"}}, facts(plate=None), False),
    ({"not": {"plate": {"similar": "x"}}}, facts(plate=None), True),
    ({"trigger_mode": "manual"}, facts(), True),
    ({"trigger_mode": "Manual"}, facts(), False),
    ({"score": {">=": 0.9}}, facts(), True),
    ({"score": {"<": 1}}, facts(), True),
    ({"score": {"<=": math.inf}}, facts(score=1.0), True),
    ({"score": 0}, facts(score=0.0, plate=None), True),
    ({"or": [{"id": 1}, {"camera": "camera_1"}]}, facts(), True),
    ({"and": [{"id": 1}, {"camera": "camera_1"}]}, facts(), False),
    ({"not": {}}, facts(), False),
]


@pytest.mark.parametrize(("raw", "flow", "expected"), MATCHES, ids=case_id)
def test_matches(raw: object, flow: FlowFacts, expected: bool) -> None:
    assert matches(parse_filter(raw, SAO_PAULO), flow) is expected


def test_flow_facts_of_a_stored_flow() -> None:
    flow = Flow(
        id=3,
        camera_id=1,
        camera="Gate",
        plate=None,
        score=0.0,
        timestamp=datetime(2024, 11, 18, 3, tzinfo=UTC),
        trigger_mode="auto",
        lpr_version="1.8.0",
    )
    assert FlowFacts.of(flow) == FlowFacts(
        id=3, epoch=1731898800, camera="Gate", plate=None, trigger_mode="auto", score=0.0
    )
    assert matches(parse_filter({"timestamp": "2024-11-18"}, SAO_PAULO), FlowFacts.of(flow))


@pytest.mark.parametrize(
    "cond",
    [c("id", "in", 5), c("id", "like", 5), c("camera", ">", "a"), c("plate", "similar", 1), c("id", "~", 1)],
)
def test_malformed_conditions_are_refused(cond: Cond) -> None:
    with pytest.raises(ValueError, match="malformed condition"):
        matches(cond, facts())


# -- properties -----------------------------------------------------------------------------------
#
# Values come from small pools shared by filters and flows, so that conditions hold about as often as not.

LOCAL_TIMES = ["2024-03-01 00:00:00", "2024-03-01 12:30:00", "2024-03-02 00:00:00", "2024-03-02 08:15:09"]
CAMERAS = ["camera_1", "Camera_1", "CAM%2", "gate_a", "Gate"]
PLATE_CHARS = "abdo0i1b8s5z2g6"
SCORES = [0.0, 0.25, 0.5, 0.952351, 1.0]

small_ids = st.integers(-1, 7)
any_ids = st.one_of(small_ids, small_ids, st.integers(), st.integers(-(10**40), 10**40))
id_values = st.one_of(
    any_ids,
    any_ids.map(str),
    small_ids.map(lambda n: f"+{n}" if n >= 0 else f"-000{-n}"),
    st.sampled_from(["9" * 5000, "-" + "9" * 5000]),
)
timestamp_values = st.sampled_from(LOCAL_TIMES).flatmap(
    lambda text: st.sampled_from([text, text[:10]]) if text.endswith("00:00:00") else st.just(text)
)
text_values = st.one_of(
    st.sampled_from(CAMERAS),
    st.text(alphabet="acemrgtAC_%12 ", max_size=4),
)
plate_texts = st.text(alphabet=PLATE_CHARS + "ABDOISZG-. ", max_size=6)
score_values = st.one_of(
    st.sampled_from(SCORES),
    st.sampled_from([0, 1, -5, 10**400, -(10**400), math.inf, -math.inf, 1e308]),
    st.floats(allow_nan=False),
)
trigger_values = st.sampled_from(["manual", "auto", "Manual", ""])


def operand(field: str, op: str) -> st.SearchStrategy[Any]:
    if op in ("in", "nin"):
        return st.lists(id_values, max_size=4)
    if field == "plate" and op in ("=", "!="):
        return st.one_of(st.none(), plate_texts)
    values: dict[str, st.SearchStrategy[Any]] = {
        "id": id_values,
        "timestamp": timestamp_values,
        "camera": text_values,
        "plate": plate_texts,
        "trigger_mode": trigger_values,
        "score": score_values,
    }
    return values[field]


def condition(field: str, max_operators: int) -> st.SearchStrategy[Any]:
    operator_maps = st.lists(st.sampled_from(ALLOWED[field]), min_size=1, max_size=max_operators, unique=True)
    return st.one_of(
        operand(field, "="),
        operator_maps.flatmap(
            lambda ops: st.tuples(*(operand(field, op) for op in ops)).map(
                lambda values: dict(zip(ops, values, strict=True))
            )
        ),
    )


def filter_objects(depth: int, width: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    """Well-formed filter objects with groups nested at most ``depth`` deep (at most 84 conditions)."""
    keys = [*ALLOWED, "and", "or", "not"] if depth > 0 else list(ALLOWED)

    def member(key: str) -> st.SearchStrategy[Any]:
        if key in ("and", "or"):
            return st.lists(filter_objects(depth - 1, width), min_size=1, max_size=width)
        if key == "not":
            return filter_objects(depth - 1, width)
        return condition(key, max_operators=2)

    return st.lists(st.sampled_from(keys), max_size=width, unique=True).flatmap(
        lambda chosen: st.tuples(*(member(key) for key in chosen)).map(
            lambda values: dict(zip(chosen, values, strict=True))
        )
    )


well_formed = st.one_of(st.sampled_from([None, "", []]), filter_objects(depth=2))
zone_names = st.sampled_from(list(ZONES))


@st.composite
def flows(draw: st.DrawFn, zone_name: str) -> dict[str, Any]:
    local = datetime.fromisoformat(draw(st.sampled_from(LOCAL_TIMES)))
    epoch = int(local.replace(tzinfo=ZoneInfo(zone_name)).timestamp()) + draw(st.sampled_from([0, 0, -1, 1]))
    return {
        "id": draw(st.integers(1, 6)),
        "timestamp": epoch,
        "camera": draw(st.sampled_from(CAMERAS)),
        "plate": draw(st.one_of(st.none(), st.text(alphabet=PLATE_CHARS, max_size=5))),
        "trigger_mode": draw(st.sampled_from(["manual", "auto"])),
        "score": draw(st.sampled_from(SCORES)),
    }


def to_facts(flow: dict[str, Any]) -> FlowFacts:
    return FlowFacts(
        id=flow["id"],
        epoch=flow["timestamp"],
        camera=flow["camera"],
        plate=flow["plate"],
        trigger_mode=flow["trigger_mode"],
        score=flow["score"],
    )


# The oracle reads the raw JSON the way SPEC §1.3 describes it, with none of the module's code.

COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
LOOKALIKE = str.maketrans("oibszg", "018526")


def oracle(raw: Any, flow: dict[str, Any], zone_name: str) -> bool:
    if raw is None or raw in ("", []):
        return True
    return all(oracle_member(key, value, flow, zone_name) for key, value in raw.items())


def oracle_member(key: str, value: Any, flow: dict[str, Any], zone_name: str) -> bool:
    if key == "and":
        return all(oracle(item, flow, zone_name) for item in value)
    if key == "or":
        return any(oracle(item, flow, zone_name) for item in value)
    if key == "not":
        return not oracle(value, flow, zone_name)
    operators = value if isinstance(value, dict) else {"=": value}
    return all(oracle_test(key, op, arg, flow, zone_name) for op, arg in operators.items())


def ascii_lower(text: str) -> str:
    return "".join(ch.lower() if "A" <= ch <= "Z" else ch for ch in text)


def look_alike_key(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum()).translate(LOOKALIKE)


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def oracle_int(value: int | str) -> int:
    """An id operand as a number; digit strings longer than any id stand for a huge value of their sign."""
    if isinstance(value, str) and len(value.lstrip("+-")) > 100:
        return -(10**100) if value.startswith("-") else 10**100
    return int(value)


def oracle_test(field: str, op: str, arg: Any, flow: dict[str, Any], zone_name: str) -> bool:
    actual = flow[field]
    if field == "plate":
        if arg is None:
            return (actual is None) == (op == "=")
        if actual is None:
            return False
    if field == "id":
        arg = [oracle_int(item) for item in arg] if op in ("in", "nin") else oracle_int(arg)
    elif field == "timestamp":
        layout = "%Y-%m-%d" if len(arg) == 10 else "%Y-%m-%d %H:%M:%S"
        arg = int(datetime.strptime(arg, layout).replace(tzinfo=ZoneInfo(zone_name)).timestamp())
    elif field in ("camera", "plate"):
        actual, arg = ascii_lower(actual), ascii_lower(arg)
    if op == "in":
        return actual in arg
    if op == "nin":
        return actual not in arg
    if op == "like":
        return arg in actual
    if op == "similar":
        return edit_distance(look_alike_key(actual), look_alike_key(arg)) <= 1
    return COMPARE[op](actual, arg)


@given(raw=well_formed, zone_name=zone_names)
def test_every_well_formed_filter_parses(raw: Any, zone_name: str) -> None:
    node = parse_filter(raw, ZONES[zone_name])
    assert isinstance(node, Cond | And | Or | Not)


def simplified(node: Node) -> bool:
    """No one-item group, no And directly in an And, no Or directly in an Or."""
    if isinstance(node, Not):
        return simplified(node.item)
    if isinstance(node, And | Or):
        return (
            len(node.items) != 1
            and not any(type(item) is type(node) for item in node.items)
            and all(simplified(item) for item in node.items)
        )
    return True


@given(raw=well_formed)
def test_parsed_form_is_simplified(raw: Any) -> None:
    assert simplified(parse_filter(raw, SAO_PAULO))


@given(zone_name=zone_names, data=st.data())
def test_matches_agrees_with_the_oracle(zone_name: str, data: st.DataObject) -> None:
    raw = data.draw(well_formed, label="filter")
    node = parse_filter(raw, ZONES[zone_name])
    for flow in data.draw(st.lists(flows(zone_name), min_size=1, max_size=10), label="flows"):
        assert matches(node, to_facts(flow)) == oracle(raw, flow, zone_name), flow


@given(plate=st.text(alphabet="abo0", max_size=6), value=st.text(alphabet="abo0AB-", max_size=6))
def test_similar_is_one_edit_of_the_look_alike_forms(plate: str, value: str) -> None:
    expected = edit_distance(look_alike_key(plate), look_alike_key(value)) <= 1
    assert matches(parse_filter({"plate": {"similar": value}}, UTC_ZONE), facts(plate=plate)) is expected


@given(zone_name=zone_names, data=st.data())
def test_de_morgan(zone_name: str, data: st.DataObject) -> None:
    zone = ZONES[zone_name]
    a = data.draw(filter_objects(depth=1), label="a")
    b = data.draw(filter_objects(depth=1), label="b")
    pairs = [
        ({"not": {"and": [a, b]}}, {"or": [{"not": a}, {"not": b}]}),
        ({"not": {"or": [a, b]}}, {"and": [{"not": a}, {"not": b}]}),
        ({"not": {"not": a}}, a),
        ({"and": [a, b]}, {"not": {"or": [{"not": a}, {"not": b}]}}),
    ]
    if not a.keys() & b.keys():
        pairs.append(({**a, **b}, {"and": [a, b]}))
    parsed = [(parse_filter(left, zone), parse_filter(right, zone)) for left, right in pairs]
    x, y = parse_filter(a, zone), parse_filter(b, zone)
    for flow in data.draw(st.lists(flows(zone_name), min_size=1, max_size=10), label="flows"):
        fact = to_facts(flow)
        for left, right in parsed:
            assert matches(left, fact) == matches(right, fact)
        assert matches(Not(And((x, y))), fact) == matches(Or((Not(x), Not(y))), fact)
        assert matches(Not(Or((x, y))), fact) == (not matches(x, fact) and not matches(y, fact))


# Malformed filters: a well-formed object with exactly one defect somewhere, so the message is known.

unknown_keys = st.text(max_size=8).filter(lambda key: key not in {*ALLOWED, "and", "or", "not"})
not_integer_strings = st.text(max_size=6).filter(lambda text: re.fullmatch(r"[+-]?[0-9]+", text) is None)
bad_timestamp_strings = st.one_of(
    st.text(alphabet="0123456789-: T", max_size=20),
    st.sampled_from(["2024-02-30", "2024-04-31 00:00:00", "2024-00-10", "2024-01-01 23:59:61"]),
).filter(lambda text: not _is_timestamp(text))


def _is_timestamp(text: str) -> bool:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?", text):
        return False
    try:
        datetime.strptime(text, "%Y-%m-%d %H:%M:%S" if len(text) == 19 else "%Y-%m-%d")
    except ValueError:
        return False
    return True


# A valid operand per field, so a defect placed next to it is the only problem.
GOOD_VALUE = {
    "id": 1,
    "timestamp": "2024-01-01",
    "camera": "c",
    "plate": "p",
    "trigger_mode": "auto",
    "score": 0.5,
}


@st.composite
def defects(draw: st.DrawFn) -> tuple[str, Any, str]:
    """One bad member of a filter object: (key, value, expected message)."""
    field = draw(st.sampled_from(list(ALLOWED)))
    known_ops = st.sampled_from(ALL_OPERATORS)
    choices: list[st.SearchStrategy[tuple[str, Any, str]]] = [
        unknown_keys.map(lambda key: (key, 1, f'Unknown filter attribute "{key}"')),
        st.sampled_from([("and", []), ("or", []), ("and", {}), ("or", [1]), ("not", []), ("not", None)]).map(
            lambda pair: (*pair, INVALID)
        ),
        st.sampled_from([{}, [], [1], {"eq": 1}, {"=": GOOD_VALUE[field], "?": 2}]).map(
            lambda value: (field, value, bad_condition(field))
        ),
        known_ops.filter(lambda op: op not in ALLOWED[field]).map(
            lambda op: (field, {op: 1}, unsupported(field, op))
        ),
        st.sampled_from(["in", "nin"]).flatmap(
            lambda op: st.sampled_from([1, "1", None, {"a": 1}]).map(
                lambda value: ("id", {op: value}, f'Operator "{op}" requires multiple operands.')
            )
        ),
        st.sampled_from(["in", "nin"]).map(
            lambda op: ("id", {op: [1] * 1001}, f'Operator "{op}" accepts at most 1000 operands.')
        ),
        st.one_of(st.booleans(), st.floats(), st.none(), not_integer_strings).map(
            lambda value: ("id", value, BAD_ID)
        ),
        st.one_of(bad_timestamp_strings, st.integers(), st.none()).map(
            lambda value: ("timestamp", value, BAD_TIMESTAMP)
        ),
        st.sampled_from(
            [
                ("camera", 1),
                ("camera", None),
                ("plate", 1),
                ("plate", {"like": None}),
                ("trigger_mode", None),
                ("score", "1"),
                ("score", True),
                ("score", None),
            ]
        ).map(lambda pair: (*pair, INVALID)),
    ]
    return draw(st.one_of(choices))


def _insert(target: dict[str, Any], key: str, value: Any, position: int) -> dict[str, Any]:
    items = [(k, v) for k, v in target.items() if k != key]
    items.insert(min(position, len(items)), (key, value))
    return dict(items)


@st.composite
def malformed(draw: st.DrawFn) -> tuple[Any, str]:
    key, value, message = draw(defects())
    base = draw(filter_objects(depth=1))
    broken = _insert(base, key, value, draw(st.integers(0, 3)))
    wrap = draw(st.sampled_from(["none", "and", "or", "not"]))
    if wrap == "not":
        return {"not": broken}, message
    if wrap in ("and", "or"):
        sibling = draw(filter_objects(depth=1))
        return _insert(
            sibling, wrap, [draw(filter_objects(depth=0)), broken], draw(st.integers(0, 3))
        ), message
    return broken, message


@given(case=malformed(), zone_name=zone_names)
def test_every_malformed_filter_is_refused_with_its_message(case: tuple[Any, str], zone_name: str) -> None:
    raw, message = case
    with pytest.raises(FilterError) as caught:
        parse_filter(raw, ZONES[zone_name])
    assert caught.value.message == message


@given(
    raw=st.one_of(
        st.lists(st.integers(), min_size=1), st.integers(), st.floats(), st.booleans(), st.text(min_size=1)
    )
)
def test_a_filter_that_is_not_an_object_is_refused(raw: Any) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter(raw, SAO_PAULO)
    assert caught.value.message == INVALID


json_keys = st.one_of(
    st.sampled_from([*ALLOWED, "and", "or", "not", *ALL_OPERATORS, "eq"]), st.text(max_size=3)
)
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=5),
        st.sampled_from(["2024-03-01", "2024-03-01 12:30:00", "12", "abc"]),
    ),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(json_keys, children, max_size=4),
    max_leaves=30,
)


@given(raw=json_values)
def test_any_json_parses_or_fails_with_a_documented_message(raw: Any) -> None:
    outcome: Node | str
    try:
        outcome = parse_filter(raw, SAO_PAULO)
    except FilterError as error:
        outcome = error.message
    if isinstance(outcome, str):
        assert is_documented(outcome), outcome
    else:
        assert isinstance(outcome, Cond | And | Or | Not)
