"""Decoding Snapshot answers: whatever a service sends, the result is valid reads or an AnswerError."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from hypothesis import given
from hypothesis import strategies as st
from seedata_alpr_http.snapshot import AnswerError, decode_answer

from seedata_core.alpr import PlateRead
from seedata_server.alpr_service import results_of

WIDTH, HEIGHT = 640, 480


def _result(plate: str, score: float, box: tuple[float, float, float, float], *candidates: Any) -> Any:
    xmin, ymin, xmax, ymax = box
    return {
        "plate": plate,
        "score": score,
        "box": {"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax},
        "candidates": [{"plate": p, "score": s} for p, s in candidates],
    }


def decode(answer: Any, country: str | None = None) -> list[PlateRead]:
    return decode_answer(json.dumps(answer).encode(), width=WIDTH, height=HEIGHT, country=country).plates


def test_results_and_candidates_become_one_list_best_first() -> None:
    answer = {
        "results": [
            _result("abc-1234", 0.6, (10, 10, 110, 40), ("abc-1234", 0.6), ("a8c1234", 0.5)),
            _result("BRA2E19", 0.9, (300, 200, 400, 240), ("bra2e19", 0.9), ("abc1234", 0.8)),
        ]
    }
    assert [(r.plate, r.score, r.box) for r in decode(answer, "br")] == [
        ("BRA2E19", 0.9, (300, 200, 100, 40)),
        ("ABC1234", 0.8, (300, 200, 100, 40)),  # the better reading of a text keeps its box
        ("A8C1234", 0.5, (10, 10, 100, 30)),
    ]
    assert {r.country for r in decode(answer, "br")} == {"br"}


def test_boxes_are_cut_to_the_picture_and_cover_fractional_pixels() -> None:
    (read,) = decode({"results": [_result("x1", 1, (-5, 10.5, 700, 20.2))]})
    assert read.box == (0, 10, WIDTH, 11)


def test_texts_without_letters_or_digits_are_dropped() -> None:
    assert decode({"results": [_result("--", 0.9, (0, 0, 9, 9), ("", 0.5))], "extra": {"a": 1}}) == []


def test_engine_version_is_optional() -> None:
    body = json.dumps({"results": [], "engine_version": "ppocr 1"}).encode()
    assert decode_answer(body, width=1, height=1, country=None).engine_version == "ppocr 1"
    assert decode_answer(b'{"results": []}', width=1, height=1, country=None).engine_version is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
NUMBER = st.integers(-1000, 2000) | st.floats(-1e9, 1e9) | st.sampled_from([1e400, -1e400])
RESULT = st.fixed_dictionaries(
    {
        "plate": st.text(max_size=10),
        "score": st.floats(-0.5, 1.5),
        "box": st.fixed_dictionaries(dict.fromkeys(("xmin", "ymin", "xmax", "ymax"), NUMBER)),
        "candidates": st.lists(
            st.fixed_dictionaries({"plate": st.text(max_size=10), "score": st.floats(0, 1)})
        ),
    }
)


def _decodes_or_refuses(body: bytes) -> None:
    try:
        answer = decode_answer(body, width=WIDTH, height=HEIGHT, country=None)
    except AnswerError:
        return
    scores = [r.score for r in answer.plates]
    assert scores == sorted(scores, reverse=True)
    assert len({r.plate for r in answer.plates}) == len(answer.plates)
    for read in answer.plates:
        x, y, w, h = read.box
        assert read.plate.isascii()
        assert read.plate.isalnum()
        assert read.plate == read.plate.upper()
        assert 0 <= read.score <= 1
        assert 0 <= x < x + w <= WIDTH
        assert 0 <= y < y + h <= HEIGHT


@given(JSON)
def test_any_json_reads_or_is_refused(value: Any) -> None:
    _decodes_or_refuses(json.dumps(value).encode())


@given(st.lists(RESULT, max_size=4))
def test_any_results_read_or_are_refused(results: list[Any]) -> None:
    _decodes_or_refuses(msgspec.json.encode({"results": results}))


@given(st.binary(max_size=64))
def test_any_bytes_read_or_are_refused(body: bytes) -> None:
    _decodes_or_refuses(body)


READ = st.builds(
    PlateRead,
    plate=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=8),
    score=st.floats(0, 1),
    # Few boxes, so that several reads often share one and travel as one result's candidates.
    box=st.sampled_from([(0, 0, 640, 480), (10, 20, 30, 40), (300, 200, 1, 1)]),
    country=st.sampled_from(["br", None]),
)


@given(st.lists(READ, max_size=8, unique_by=lambda r: r.plate))
def test_what_the_service_writes_reads_back_the_same(reads: list[PlateRead]) -> None:
    reads = sorted(reads, key=lambda r: -r.score)
    body = msgspec.json.encode({"results": results_of(reads)})
    decoded = decode_answer(body, width=WIDTH, height=HEIGHT, country="br").plates
    assert [r.score for r in decoded] == [r.score for r in reads]
    assert {(r.plate, r.score, r.box) for r in decoded} == {(r.plate, r.score, r.box) for r in reads}
