"""Reading a Snapshot API answer into :class:`~seedata_core.alpr.PlateRead` values.

The answer is ``{"results": [{"plate", "score", "box": {"xmin", "ymin", "xmax", "ymax"},
"candidates": [{"plate", "score"}, ...]}, ...], ...}``; every other field is ignored, so Plate
Recognizer's own answers (``region``, ``vehicle``, ``dscore``, ...) read as well as ours. Each result
is one plate in the picture and its ``candidates`` are other readings of it, sharing its box. The
plates come out as one list, best score first, each text once.
"""

from __future__ import annotations

import math
from typing import Annotated

import msgspec

from seedata_core.alpr import PlateRead
from seedata_core.plates import normalise

Score = Annotated[float, msgspec.Meta(ge=0, le=1)]


class AnswerError(ValueError):
    """The answer is not JSON, or not of the Snapshot API's shape."""


class _Box(msgspec.Struct):
    xmin: float
    ymin: float
    xmax: float
    ymax: float


class _Candidate(msgspec.Struct):
    plate: str
    score: Score


class _Result(msgspec.Struct):
    plate: str
    score: Score
    box: _Box
    candidates: list[_Candidate] = []


class _Answer(msgspec.Struct):
    results: list[_Result]
    # Seedata's own service names the engine that read; Plate Recognizer's does not.
    engine_version: str | None = None


class Answer(msgspec.Struct, frozen=True):
    """The plates read, best first, and the remote engine's version when the service names it."""

    plates: list[PlateRead]
    engine_version: str | None


def _pixels(box: _Box, width: int, height: int) -> tuple[int, int, int, int]:
    corners = (box.xmin, box.ymin, box.xmax, box.ymax)
    if not all(math.isfinite(v) for v in corners):
        raise AnswerError(f"a box has a coordinate that is not a number: {corners}")
    left, top = max(0, math.floor(box.xmin)), max(0, math.floor(box.ymin))
    right, bottom = min(width, math.ceil(box.xmax)), min(height, math.ceil(box.ymax))
    if right <= left or bottom <= top:
        raise AnswerError(f"the box {corners} lies outside the {width}x{height} picture")
    return left, top, right - left, bottom - top


def decode_answer(body: bytes, *, width: int, height: int, country: str | None) -> Answer:
    """The plates in an answer about a ``width`` x ``height`` picture, boxes cut to the picture.

    Plate text is upper-cased with only ``A-Z0-9`` kept; a text left empty is dropped. ``country``
    is what was asked for; it is set on every read. Raises :class:`AnswerError`.
    """
    try:
        answer = msgspec.json.decode(body, type=_Answer)
    except msgspec.ValidationError as exc:
        raise AnswerError(f"JSON of the wrong shape: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise AnswerError(f"something that is not JSON: {exc}") from exc
    best: dict[str, PlateRead] = {}
    for result in answer.results:
        box = _pixels(result.box, width, height)
        readings = [(result.plate, result.score)] + [(c.plate, c.score) for c in result.candidates]
        for text, score in readings:
            plate = normalise(text)
            if plate and (plate not in best or score > best[plate].score):
                best[plate] = PlateRead(plate=plate, score=score, box=box, country=country)
    plates = sorted(best.values(), key=lambda read: -read.score)
    return Answer(plates=plates, engine_version=answer.engine_version or None)
