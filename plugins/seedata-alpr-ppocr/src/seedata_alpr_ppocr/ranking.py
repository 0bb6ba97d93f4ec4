"""Turning decoded text lines into scored plate candidates, using the camera's format pack.

A line yields its raw text, weighted by how plate-like it looks, and, for each layout of the pack,
the best plate that fits: every position takes the most probable character of the class the layout
demands (so a ``5`` the model half-saw as ``S`` becomes ``S`` where a letter must stand), and up to
two characters may be dropped (the EU band or a coat of arms read as a letter, a sticker read as a
digit), each at a cost that grows with the model's confidence in it. A candidate's score is the
geometric mean of its characters' probabilities times those costs: 0..1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from seedata_core.plates import DIGIT, LETTER, FormatPack

from .recognise import IS_LETTER, PLATE_CHARS, Glyph

MAX_DROPPED = 2
DROP_COST = 0.6
# Raw text competes with layout fits at a discount: more so where the pack knows every layout.
RAW_WEIGHT_STRICT = 0.3
RAW_WEIGHT_LOOSE = 0.5
FLOOR = 1e-4


@dataclass(frozen=True)
class _Options:
    """What one glyph can stand for: its best letter, best digit and itself, each with the log of
    its probability, and the log of the cost of dropping it."""

    letter: tuple[str, float]
    digit: tuple[str, float]
    itself: tuple[str, float]
    drop: float


def _best(glyph: Glyph, mask: npt.NDArray[np.bool_]) -> tuple[str, float]:
    index = int(np.argmax(np.where(mask, glyph.odds, -1.0)))
    return PLATE_CHARS[index], math.log(max(FLOOR, float(glyph.odds[index])))


def _options(glyph: Glyph) -> _Options:
    return _Options(
        letter=_best(glyph, IS_LETTER),
        digit=_best(glyph, ~IS_LETTER),
        itself=(glyph.char, math.log(max(FLOOR, glyph.prob))),
        # A character the model is sure of is costly to drop; a doubtful one (a coat of arms read
        # as a letter) is cheap.
        drop=math.log(max(FLOOR, math.sqrt(max(0.0, 1.0 - glyph.prob)) * DROP_COST)),
    )


def raw_prior(text: str) -> float:
    """How plate-like text is by its make-up alone: 4-8 characters mixing letters and digits."""
    digits = sum(c.isdigit() for c in text)
    letters = len(text) - digits
    if not 4 <= len(text) <= 9:
        return 0.05
    if digits and letters:
        return 0.6 if 5 <= len(text) <= 8 else 0.3
    if letters == 0:
        # Numeric plates exist; long digit runs are dates and phone numbers.
        return 0.35 if len(text) <= 7 else 0.1
    return 0.2


def _geomean(probs: list[float]) -> float:
    return math.exp(sum(math.log(max(FLOOR, p)) for p in probs) / len(probs))


def fit_template(options: list[_Options], template: str) -> tuple[str, float] | None:
    """The best plate for ``template`` from these glyphs, dropping up to ``MAX_DROPPED`` of them.

    Its score is the geometric mean of the chosen characters' probabilities times each drop's cost.
    Dynamic programming over (glyphs used, positions filled), whose difference is the number dropped.
    """
    n, k = len(options), len(template)
    if not k <= n <= k + MAX_DROPPED:
        return None

    def take(option: _Options, cls: str) -> tuple[str, float]:
        return option.letter if cls == LETTER else option.digit if cls == DIGIT else option.itself

    # best[i][j]: (sum of log terms, text) using the first i glyphs for the first j positions.
    neg = -math.inf
    best: list[list[tuple[float, str]]] = [[(neg, "")] * (k + 1) for _ in range(n + 1)]
    best[0][0] = (0.0, "")
    for i in range(1, n + 1):
        option = options[i - 1]
        for j in range(max(0, i - MAX_DROPPED), min(i, k) + 1):
            candidates = []
            if j > 0 and best[i - 1][j - 1][0] > neg:
                char, logp = take(option, template[j - 1])
                score, text = best[i - 1][j - 1]
                candidates.append((score + logp / k, text + char))
            if j < i and best[i - 1][j][0] > neg:
                score, text = best[i - 1][j]
                candidates.append((score + option.drop, text))
            if candidates:
                best[i][j] = max(candidates)
    score, text = best[n][k]
    if score == neg:
        return None
    return text, math.exp(score)


def line_candidates(glyphs: list[Glyph], pack: FormatPack | None) -> dict[str, float]:
    """Plate candidates of one text line with their scores, ``pack`` ``None`` meaning no country."""
    if not glyphs:
        return {}
    raw = "".join(g.char for g in glyphs)
    weight = 1.0 if pack is None else RAW_WEIGHT_STRICT if pack.strict else RAW_WEIGHT_LOOSE
    if pack is not None and not pack.plausible(raw):
        weight *= 0.5
    found = {raw: _geomean([g.prob for g in glyphs]) * raw_prior(raw) * weight}
    if pack is None:
        return found
    options = [_options(g) for g in glyphs]
    for pattern in pack.patterns:
        fitted = fit_template(options, pattern.template)
        if fitted is not None and fitted[1] > found.get(fitted[0], 0.0):
            found[fitted[0]] = fitted[1]
    return found
