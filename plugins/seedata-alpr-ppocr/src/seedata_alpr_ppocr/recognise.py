"""Reading a text line: the PP-OCR recogniser on a full-resolution crop, decoded for plates.

The recogniser outputs, for each column of the crop, a probability over ~18,700 characters plus the
CTC blank. Greedy CTC decoding gives the characters; every character outside ``A-Z0-9`` (a dash, a
dot, a coat of arms read as a symbol) only separates. For each kept character we also keep the
probabilities of all 36 plate characters, so that a format pack can later choose the best letter
where the model preferred a digit, by the model's own odds rather than a fixed table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from .detect import Image, Quad

PLATE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
IS_LETTER = np.array([c.isalpha() for c in PLATE_CHARS])
HEIGHT = 48  # the recogniser's input height
MAX_WIDTH = 640


@dataclass(frozen=True)
class Glyph:
    """One decoded character, its probability, and the probability of every plate character
    (``PLATE_CHARS`` order) at the columns where it was read."""

    char: str
    prob: float
    odds: npt.NDArray[np.float32]


class Alphabet:
    """Where the plate characters sit in the recogniser's output; lower-case letters count as upper."""

    def __init__(self, characters: tuple[str, ...]) -> None:
        index = {c: i for i, c in enumerate(characters) if i > 0}
        self.characters = characters
        self.upper = np.array([index[c] for c in PLATE_CHARS])
        # Digits have no lower case: pointing them at the blank (index 0) with a zero weight keeps one array.
        self.lower = np.array([index.get(c.lower(), 0) if c.isalpha() else 0 for c in PLATE_CHARS])
        self.is_plate_char = np.zeros(len(characters), dtype=bool)
        self.is_plate_char[self.upper] = True
        self.is_plate_char[self.lower[IS_LETTER]] = True
        self.to_plate = np.full(len(characters), -1)
        self.to_plate[self.upper] = np.arange(len(PLATE_CHARS))
        self.to_plate[self.lower[IS_LETTER]] = np.arange(len(PLATE_CHARS))[IS_LETTER]

    def plate_odds(self, probs: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Per column, the probability of each plate character, upper and lower case added."""
        odds = probs[:, self.upper] + np.where(IS_LETTER, probs[:, self.lower], 0.0)
        return odds.astype(np.float32, copy=False)


def crop_line(rgb: Image, quad: Quad) -> Image:
    """The text line inside ``quad``, straightened, at the picture's full resolution."""
    width = max(8, round(float(np.linalg.norm(quad[1] - quad[0]))))
    height = max(8, round(float(np.linalg.norm(quad[3] - quad[0]))))
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(quad, target)
    line: Image = cv2.warpPerspective(
        rgb, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    ).astype(np.uint8, copy=False)
    return line


def recogniser_input(line: Image) -> npt.NDArray[np.float32]:
    """``line`` scaled to the recogniser's height, BGR, normalised to -1..1, as a 1-picture batch."""
    height, width = line.shape[:2]
    new_width = min(MAX_WIDTH, max(16, math.ceil(HEIGHT * width / height)))
    interpolation = cv2.INTER_AREA if height > HEIGHT else cv2.INTER_LINEAR
    resized = cv2.resize(line, (new_width, HEIGHT), interpolation=interpolation)
    blob = (resized[:, :, ::-1].astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[np.newaxis]
    return np.ascontiguousarray(blob)


def decode(probs: npt.NDArray[np.float32], alphabet: Alphabet) -> list[Glyph]:
    """Greedy CTC decoding of one line's column probabilities into plate characters."""
    best = probs.argmax(axis=1)
    odds = alphabet.plate_odds(probs)
    glyphs: list[Glyph] = []
    current: tuple[int, npt.NDArray[np.float32]] | None = None  # plate char index, running max odds
    previous = 0
    for column, label in enumerate(best):
        if label != previous and current is not None:
            glyphs.append(_glyph(*current))
            current = None
        if label != 0 and alphabet.is_plate_char[label]:
            if current is None:
                current = (int(alphabet.to_plate[label]), odds[column].copy())
            else:
                np.maximum(current[1], odds[column], out=current[1])
        previous = int(label)
    if current is not None:
        glyphs.append(_glyph(*current))
    return glyphs


def _glyph(index: int, odds: npt.NDArray[np.float32]) -> Glyph:
    return Glyph(char=PLATE_CHARS[index], prob=float(odds[index]), odds=odds)


def read_line(session: Any, alphabet: Alphabet, rgb: Image, quad: Quad) -> list[Glyph]:
    """The plate characters in the text line ``quad`` of ``rgb``."""
    probs = session.run(None, {"x": recogniser_input(crop_line(rgb, quad))})[0][0]
    return decode(probs, alphabet)
