"""Plate text normalisation and the look-alike key, against their definitions."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from seedata_core.lookalike import LETTER_TO_DIGIT, canonical, normalise_plate

ASCII_ALNUM = set(string.ascii_letters + string.digits)
# Plates as readers and imports give them, and any text at all.
TEXTS = st.text(alphabet=string.ascii_letters + string.digits, max_size=12) | st.text(max_size=20)


@given(TEXTS)
def test_normalising_keeps_ascii_letters_and_digits_lower_cased(text: str) -> None:
    assert normalise_plate(text) == "".join(c for c in text if c in ASCII_ALNUM).lower()


@given(TEXTS)
def test_the_key_replaces_each_look_alike_letter_by_its_digit(text: str) -> None:
    digits = {letter.lower(): digit for letter, digit in LETTER_TO_DIGIT.items()}
    assert canonical(text) == "".join(digits.get(c, c) for c in normalise_plate(text))
