"""Plate patterns and format packs: properties over generated plates, and tables of real layouts."""

from __future__ import annotations

import doctest
import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import seedata_core.plates
from seedata_core.errors import ConfigError
from seedata_core.lookalike import DIGIT_TO_LETTER, LETTER_TO_DIGIT
from seedata_core.plates import PACKS, FormatPack, PlatePattern, fits_class, get_pack, normalise

LOOKALIKES = {**LETTER_TO_DIGIT, **DIGIT_TO_LETTER}
ALNUM = string.ascii_uppercase + string.digits

packs = st.sampled_from(sorted(PACKS.values(), key=lambda p: p.code))
alnum_text = st.text(alphabet=ALNUM, max_size=10)


def char_for(cls: str) -> st.SearchStrategy[str]:
    if cls == "L":
        return st.sampled_from(string.ascii_uppercase)
    if cls == "D":
        return st.sampled_from(string.digits)
    return st.sampled_from(ALNUM)


@st.composite
def plates_of(draw: st.DrawFn, pack: FormatPack | None = None) -> tuple[FormatPack, PlatePattern, str]:
    """A pack, one of its patterns and a plate that fits that pattern."""
    chosen = pack if pack is not None else draw(packs)
    pattern = draw(st.sampled_from(chosen.patterns))
    plate = "".join(draw(char_for(cls)) for cls in pattern.template)
    return chosen, pattern, plate


def test_module_examples_hold() -> None:
    assert doctest.testmod(seedata_core.plates).failed == 0


@pytest.mark.parametrize(
    ("code", "text", "expected"),
    [
        ("br", "ABC-1234", "ABC1234"),
        ("br", "abc1d23", "ABC1D23"),
        ("br", "A8C1234", "ABC1234"),
        ("br", "0GB1Z34", "OGB1Z34"),
        ("br", "NZJ65BI", "NZJ6581"),
        ("br", "F8Z958I", "FBZ9581"),
        ("br", "ABC1D2B", "ABC1D28"),
        ("ar", "AB 123 CD", "AB123CD"),
        ("ar", "A8I23CD", "AB123CD"),
        ("ar", "ABC 123", "ABC123"),
        ("eu", "RK 896-A0", "RK896AO"),
        ("eu", "1234 B5C", "1234BSC"),
        ("eu", "AB I2 CDE", "AB12CDE"),
        ("us", "5LTA6OO", "5LTA600"),
    ],
)
def test_correct_table(code: str, text: str, expected: str) -> None:
    assert get_pack(code).correct(text) == expected


@pytest.mark.parametrize(
    ("code", "text"),
    [("br", "ABCD123"), ("br", "AB1234"), ("ar", "ABCDEFG"), ("br", "")],
)
def test_strict_packs_reject_what_fits_no_layout(code: str, text: str) -> None:
    pack = get_pack(code)
    assert pack.readings(text) == []
    assert not pack.plausible(text)
    assert pack.correct(text) == normalise(text)


def test_loose_packs_accept_other_text_of_plate_length() -> None:
    assert get_pack("us").plausible("NEILDMND")
    assert get_pack("eu").plausible("GWAGEN")
    assert not get_pack("us").plausible("TAXATIONWITHOUTREPRESENTATION")


def test_mercosul_and_old_brazilian_layouts_both_read() -> None:
    pack = get_pack("br")
    assert pack.matches("PXP-8172")
    assert pack.matches("RIO2A18")
    # One letter at the Mercosul position reads two ways; the exact one wins.
    assert [r.plate for r in pack.readings("ABC1B23")] == ["ABC1B23", "ABC1823"]


def test_unknown_country_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown plate country 'xx' \(known: ar, br, eu, us\)"):
        get_pack("xx")
    assert get_pack(" BR ") is PACKS["br"]


def test_a_template_must_be_made_of_classes() -> None:
    with pytest.raises(ValueError, match="L, D and A"):
        PlatePattern(name="bad", template="LLX")
    with pytest.raises(ValueError, match="no pattern"):
        FormatPack(code="x", name="x", patterns=(), strict=True, min_length=1, max_length=2)


@given(st.text(max_size=30))
def test_normalise_keeps_only_upper_alnum(text: str) -> None:
    out = normalise(text)
    assert set(out) <= set(ALNUM)
    assert normalise(out) == out
    assert out == "".join(c for c in text.upper() if c in ALNUM)


@given(plates_of())
def test_a_fitting_plate_is_left_alone(case: tuple[FormatPack, PlatePattern, str]) -> None:
    pack, pattern, plate = case
    assert pattern.matches(plate)
    assert pack.matches(plate)
    assert pack.correct(plate) == plate
    assert pack.readings(plate)[0].swaps == 0


@given(plates_of(), st.data())
def test_lookalike_damage_is_undone_where_the_layout_decides(
    case: tuple[FormatPack, PlatePattern, str], data: st.DataObject
) -> None:
    pack, pattern, plate = case
    damageable = [
        i
        for i, (c, cls) in enumerate(zip(plate, pattern.template, strict=True))
        if cls != "A" and c in LOOKALIKES
    ]
    assume(damageable)
    positions = data.draw(st.sets(st.sampled_from(damageable), min_size=1))
    damaged = "".join(LOOKALIKES[c] if i in positions else c for i, c in enumerate(plate))
    readings = pack.readings(damaged)
    assert plate in [r.plate for r in readings]
    original = next(r for r in readings if r.plate == plate)
    assert original.swaps <= len(positions)


@given(packs, alnum_text)
def test_readings_fit_their_pattern_and_only_swap_lookalikes(pack: FormatPack, text: str) -> None:
    for reading in pack.readings(text):
        assert reading.pattern.matches(reading.plate)
        changed = [(a, b) for a, b in zip(text, reading.plate, strict=True) if a != b]
        assert len(changed) == reading.swaps
        assert all(LOOKALIKES[a] == b for a, b in changed)
        # Correcting again changes nothing: the reading is a fixed point.
        assert pack.correct(reading.plate) in {r.plate for r in pack.readings(reading.plate)}
        assert reading.pattern.coerce(reading.plate) == (reading.plate, 0)


@given(packs, alnum_text)
def test_readings_are_sorted_and_distinct(pack: FormatPack, text: str) -> None:
    readings = pack.readings(text)
    assert readings == sorted(readings)
    assert len({r.plate for r in readings}) == len(readings)


@given(st.sampled_from(ALNUM), st.sampled_from("LDA"))
def test_fits_class_agrees_with_str_methods(char: str, cls: str) -> None:
    expected = {"L": char.isalpha(), "D": char.isdigit(), "A": True}[cls]
    assert fits_class(char, cls) is expected


@pytest.mark.parametrize("pack", sorted(PACKS.values(), key=lambda p: p.code), ids=lambda p: p.code)
def test_every_pack_is_consistent(pack: FormatPack) -> None:
    templates = [p.template for p in pack.patterns]
    assert len(templates) == len(set(templates))
    assert all(pack.min_length <= len(t) <= pack.max_length for t in templates)
