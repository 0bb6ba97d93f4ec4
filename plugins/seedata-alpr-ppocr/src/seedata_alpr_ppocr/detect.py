"""Finding text lines: the PP-OCR DB detector on a scaled picture, boxes mapped back to full size.

The detector outputs a per-pixel text probability. Text lines are the connected regions above
``threshold``, kept when their mean probability reaches ``box_threshold``, and grown by the DB
"unclip" margin because the model is trained to mark a shrunk core of each line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
Quad = npt.NDArray[np.float32]

STRIDE = 32  # the detector's input sides must be multiples of this


@dataclass(frozen=True)
class TextBox:
    """A text line: its corners ``quad`` (top-left, top-right, bottom-right, bottom-left) in the
    full picture's pixels, and the detector's mean probability inside it."""

    quad: Quad
    score: float

    @property
    def width(self) -> float:
        return float(np.linalg.norm(self.quad[1] - self.quad[0]))

    @property
    def height(self) -> float:
        return float(np.linalg.norm(self.quad[3] - self.quad[0]))

    def bounds(self) -> tuple[float, float, float, float]:
        """Axis-aligned ``(x0, y0, x1, y1)``."""
        x0, y0 = self.quad.min(axis=0)
        x1, y1 = self.quad.max(axis=0)
        return float(x0), float(y0), float(x1), float(y1)

    def overlap(self, other: TextBox) -> float:
        """Intersection over union of the axis-aligned bounds."""
        a, b = self.bounds(), other.bounds()
        w = min(a[2], b[2]) - max(a[0], b[0])
        h = min(a[3], b[3]) - max(a[1], b[1])
        if w <= 0 or h <= 0:
            return 0.0
        inter = w * h
        union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
        return inter / union


def order_corners(points: npt.NDArray[np.float32]) -> Quad:
    """Four points as top-left, top-right, bottom-right, bottom-left, for lines tilted under 45°."""
    by_x = points[np.argsort(points[:, 0], kind="stable")]
    left, right = by_x[:2], by_x[2:]
    tl, bl = left[np.argsort(left[:, 1])]
    tr, br = right[np.argsort(right[:, 1])]
    return np.array([tl, tr, br, bl], dtype=np.float32)


def input_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """The detector's input size for a picture scaled by ``scale``: multiples of 32, at least 32."""
    return (
        max(STRIDE, round(width * scale / STRIDE) * STRIDE),
        max(STRIDE, round(height * scale / STRIDE) * STRIDE),
    )


def probability_map(session: Any, rgb: Image, scale: float) -> tuple[npt.NDArray[np.float32], float, float]:
    """The detector's text probability for ``rgb`` scaled by about ``scale``, and the factors from
    map pixels back to picture pixels."""
    height, width = rgb.shape[:2]
    in_w, in_h = input_size(width, height, scale)
    shrinking = in_w < width
    resized = cv2.resize(rgb, (in_w, in_h), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    # The model was trained on BGR pixels normalised to -1..1.
    blob = (resized[:, :, ::-1].astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[np.newaxis]
    prob = session.run(None, {"x": np.ascontiguousarray(blob)})[0][0, 0]
    return prob.astype(np.float32, copy=False), width / in_w, height / in_h


def boxes_from_map(
    prob: npt.NDArray[np.float32],
    sx: float,
    sy: float,
    *,
    threshold: float = 0.3,
    box_threshold: float = 0.5,
    unclip_ratio: float = 1.6,
    min_side: float = 3.0,
) -> list[TextBox]:
    """Text lines in a probability map, as boxes in picture pixels (``sx``, ``sy`` map to them)."""
    mask = cv2.dilate((prob > threshold).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    boxes: list[TextBox] = []
    for contour in contours:
        (cx, cy), (w, h), angle = cv2.minAreaRect(contour)
        if min(w, h) < min_side:
            continue
        x, y, bw, bh = cv2.boundingRect(contour)
        inside = np.zeros((bh, bw), np.uint8)
        cv2.fillPoly(inside, [contour - np.array([x, y], dtype=contour.dtype)], 1)
        score = float(cv2.mean(prob[y : y + bh, x : x + bw], inside)[0])
        if score < box_threshold:
            continue
        # DB's unclip: grow each side by area * ratio / perimeter.
        margin = w * h * unclip_ratio / (2 * (w + h))
        corners = cv2.boxPoints(((cx, cy), (w + 2 * margin, h + 2 * margin), angle))
        corners = corners * np.array([sx, sy], dtype=np.float32)
        boxes.append(TextBox(quad=order_corners(corners.astype(np.float32)), score=score))
    return boxes


def merge_neighbours(boxes: list[TextBox]) -> list[TextBox]:
    """Unions of two boxes side by side on one line: a plate whose characters the detector split in
    two (a gap, a sticker, a coat of arms between the groups)."""
    merged: list[TextBox] = []
    for a in boxes:
        ax0, ay0, ax1, ay1 = a.bounds()
        for b in boxes:
            bx0, by0, bx1, by1 = b.bounds()
            if b is a or bx0 < ax0:
                continue
            ha, hb = ay1 - ay0, by1 - by0
            shared = min(ay1, by1) - max(ay0, by0)
            if shared < 0.6 * min(ha, hb) or max(ha, hb) > 1.6 * min(ha, hb):
                continue
            gap = bx0 - ax1
            if not -0.3 * max(ha, hb) <= gap <= 1.2 * max(ha, hb):
                continue
            x0, y0, x1, y1 = min(ax0, bx0), min(ay0, by0), max(ax1, bx1), max(ay1, by1)
            quad = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)
            merged.append(TextBox(quad=quad, score=min(a.score, b.score)))
    return merged
