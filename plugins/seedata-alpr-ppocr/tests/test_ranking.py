"""Ranking decoded lines against format packs, on hand-made glyphs."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from seedata_alpr_ppocr.ranking import line_candidates, raw_prior
from seedata_alpr_ppocr.recognise import PLATE_CHARS, Glyph

from seedata_core.plates import PACKS, get_pack


def glyph(char: str, prob: float = 0.99, **others: float) -> Glyph:
    odds = np.full(len(PLATE_CHARS), 1e-4, dtype=np.float32)
    odds[PLATE_CHARS.index(char)] = prob
    for other, p in others.items():
        odds[PLATE_CHARS.index(other.lstrip("_"))] = p
    return Glyph(char=char, prob=prob, odds=odds)


def best(candidates: dict[str, float]) -> str:
    return max(candidates, key=lambda plate: candidates[plate])


def test_a_letter_position_takes_the_best_letter_by_the_models_odds() -> None:
    # Argentina's AB123CD: the second character must be a letter; the model leaned to 8 over B.
    line = [glyph("A"), glyph("8", 0.6, B=0.3), *(glyph(c) for c in "123CD")]
    assert best(line_candidates(line, get_pack("ar"))) == "AB123CD"


def test_a_doubtful_leading_character_is_dropped_to_fit() -> None:
    # The EU band or a coat of arms read as a letter before a Slovak plate.
    line = [glyph("B", 0.27), *(glyph(c) for c in "RK867AD")]
    assert best(line_candidates(line, get_pack("eu"))) == "RK867AD"


def test_dropping_a_confident_character_convinces_nobody() -> None:
    candidates = line_candidates([glyph(c) for c in "ABC12345"], get_pack("br"))
    assert any(len(plate) == 7 for plate in candidates)
    assert max(candidates.values()) < 0.3


def test_without_a_pack_only_the_raw_text_counts() -> None:
    line = [glyph(c) for c in "0SG719"]
    assert list(line_candidates(line, None)) == ["0SG719"]


def test_no_glyphs_no_candidates() -> None:
    assert line_candidates([], get_pack("us")) == {}


def test_raw_prior_prefers_mixed_plate_lengths() -> None:
    assert raw_prior("ABC1234") > raw_prior("1234567") > raw_prior("ARIZONA") > raw_prior("20140502064017")


@given(st.sampled_from(sorted(PACKS)), st.data())
def test_a_clean_reading_of_a_layout_scores_near_one(code: str, data: st.DataObject) -> None:
    pack = get_pack(code)
    template = data.draw(st.sampled_from([p.template for p in pack.patterns]))
    letters, digits = "ABCDEFGHJKLMNPRTUVWXY", "0123456789"
    plate = "".join(
        data.draw(st.sampled_from(letters if c == "L" else digits if c == "D" else letters + digits))
        for c in template
    )
    candidates = line_candidates([glyph(c, 0.999) for c in plate], pack)
    assert best(candidates) == plate
    assert candidates[plate] > 0.99
    assert all(0.0 <= score <= 1.0 for score in candidates.values())
