"""The engine: find text lines on a scaled-down picture, read plate-shaped ones at full resolution,
rank the readings by the camera's format pack, and look closer only when nothing convincing was read.

Detection dominates the cost and grows with the pixels it sees, so the first pass scales every
picture to about the same number of pixels (``detection_pixels``), whatever its size. Plates that
are small in a wide view can slip under that resolution; when the best candidate scores below
``confident``, a second pass detects at ``second_pass_zoom`` times the first scale and reads the
lines the first pass did not.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from seedata_core.alpr import PlateRead
from seedata_core.errors import AlprError, ConfigError
from seedata_core.frames import Frame
from seedata_core.plates import FormatPack, get_pack

from .detect import Image, TextBox, boxes_from_map, merge_neighbours, probability_map
from .models import Sessions, load_sessions
from .ranking import line_candidates
from .recognise import Alphabet, read_line

NAME = "ppocr"


@dataclass(frozen=True, kw_only=True)
class EngineOptions:
    """The engine's options (keys of the options mapping Seedata passes to ``create``).

    - ``threads``: onnxruntime intra-op threads per model (default: the CPU count, at most 4).
    - ``execution_provider``: onnxruntime provider, e.g. ``CUDAExecutionProvider`` with
      onnxruntime-gpu installed; the CPU provider stays as the fallback.
    - ``detection_pixels``: pixels the detector sees on the first pass.
    - ``second_pass_zoom``: scale of the second pass relative to the first; 0 turns it off.
    - ``confident``: the score at which the first pass's best candidate ends the read.
    - ``max_lines``: text lines read per pass, largest first.
    - ``max_candidates``: plates returned, best first.
    """

    threads: int = max(1, min(4, os.cpu_count() or 1))
    execution_provider: str = "CPUExecutionProvider"
    detection_pixels: int = 640 * 360
    second_pass_zoom: float = 1.5
    confident: float = 0.3
    max_lines: int = 6
    max_candidates: int = 5

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> EngineOptions:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(
                f"unknown {NAME} engine option {unknown[0]!r} (known: {', '.join(sorted(known))})"
            )
        try:
            made = cls(**{k: type(getattr(cls, k))(v) for k, v in options.items()})
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"bad {NAME} engine option: {exc}") from exc
        if (
            made.threads < 1
            or made.detection_pixels < 32 * 32
            or made.max_lines < 1
            or made.max_candidates < 1
        ):
            raise ConfigError(f"{NAME} engine options out of range: {made}")
        if made.second_pass_zoom != 0 and made.second_pass_zoom <= 1:
            raise ConfigError(f"second_pass_zoom must be 0 (off) or above 1, got {made.second_pass_zoom}")
        return made


EDGE_WEIGHT = 0.5


@dataclass(frozen=True)
class _Reading:
    plate: str
    score: float
    box: TextBox


def _plate_shaped(box: TextBox) -> bool:
    # A plate's text line: wider than tall, not a paragraph-long banner, not a few pixels.
    return box.width >= 12 and 1.2 <= box.width / max(1.0, box.height) <= 9


def _at_edge(box: TextBox, width: int, height: int) -> bool:
    # Text touching the frame's edge is a burnt-in overlay (time, camera name) or a cut-off plate.
    x0, y0, x1, y1 = box.bounds()
    margin_x, margin_y = max(2.0, 0.005 * width), max(2.0, 0.005 * height)
    return x0 < margin_x or y0 < margin_y or x1 > width - margin_x or y1 > height - margin_y


class PpocrEngine:
    """Reads plates with the PP-OCRv6 models; safe to call from several threads at once."""

    name = NAME

    def __init__(self, options: EngineOptions, version: str) -> None:
        self.options = options
        self.version = version
        providers = [options.execution_provider]
        if options.execution_provider != "CPUExecutionProvider":
            providers.append("CPUExecutionProvider")
        self._sessions: Sessions = load_sessions(threads=options.threads, providers=providers)
        self._alphabet = Alphabet(self._sessions.alphabet)

    def read(self, frame: Frame, *, country: str | None = None) -> list[PlateRead]:
        """Plates in ``frame``, best first; ``country`` picks the format pack that ranks them."""
        pack = get_pack(country) if country else None
        rgb = np.frombuffer(frame.rgb, np.uint8).reshape(frame.height, frame.width, 3)
        try:
            readings = self._read(rgb, pack)
        except AlprError:
            raise
        except Exception as exc:  # onnxruntime and OpenCV raise their own unrelated types
            raise AlprError(f"{NAME} engine failed: {exc}") from exc
        return [self._plate_read(r, frame, pack) for r in readings[: self.options.max_candidates]]

    def _read(self, rgb: Image, pack: FormatPack | None) -> list[_Reading]:
        height, width = rgb.shape[:2]
        scale = min(2.0, math.sqrt(self.options.detection_pixels / (width * height)))
        found: dict[str, _Reading] = {}
        seen: list[TextBox] = []
        self._pass(rgb, scale, pack, found, seen)
        best = max((r.score for r in found.values()), default=0.0)
        if best < self.options.confident and self.options.second_pass_zoom:
            self._pass(rgb, scale * self.options.second_pass_zoom, pack, found, seen)
        return sorted(found.values(), key=lambda r: (-r.score, r.plate))

    def _pass(
        self,
        rgb: Image,
        scale: float,
        pack: FormatPack | None,
        found: dict[str, _Reading],
        seen: list[TextBox],
    ) -> None:
        prob, sx, sy = probability_map(self._sessions.detector, rgb, scale)
        boxes = boxes_from_map(prob, sx, sy)
        lines = [b for b in boxes + merge_neighbours(boxes) if _plate_shaped(b)]
        lines.sort(key=lambda b: -b.height)
        read = 0
        for box in lines:
            if read == self.options.max_lines:
                break
            if any(box.overlap(other) > 0.6 for other in seen):
                continue
            seen.append(box)
            read += 1
            glyphs = read_line(self._sessions.recogniser, self._alphabet, rgb, box.quad)
            weight = EDGE_WEIGHT if _at_edge(box, rgb.shape[1], rgb.shape[0]) else 1.0
            for plate, raw_score in line_candidates(glyphs, pack).items():
                score = raw_score * weight
                if plate not in found or score > found[plate].score:
                    found[plate] = _Reading(plate=plate, score=score, box=box)

    @staticmethod
    def _plate_read(reading: _Reading, frame: Frame, pack: FormatPack | None) -> PlateRead:
        x0, y0, x1, y1 = reading.box.bounds()
        left, top = max(0, math.floor(x0)), max(0, math.floor(y0))
        right, bottom = min(frame.width, math.ceil(x1)), min(frame.height, math.ceil(y1))
        return PlateRead(
            plate=reading.plate,
            score=round(min(1.0, max(0.0, reading.score)), 4),
            box=(left, top, max(1, right - left), max(1, bottom - top)),
            country=pack.code if pack else None,
        )
