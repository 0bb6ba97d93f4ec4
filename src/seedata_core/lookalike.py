"""Characters that plate readers confuse, and plate text normalisation.

Both the ``similar`` search operator and the country format packs use these tables, so a search and
a correction agree on what "looks alike" means.
"""

from __future__ import annotations

import re

# letter -> the digit it is mistaken for
LETTER_TO_DIGIT = {"O": "0", "I": "1", "B": "8", "S": "5", "Z": "2", "G": "6"}
DIGIT_TO_LETTER = {digit: letter for letter, digit in LETTER_TO_DIGIT.items()}

_CANONICAL = str.maketrans({**LETTER_TO_DIGIT, **{k.lower(): v for k, v in LETTER_TO_DIGIT.items()}})
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")


def normalise_plate(text: str) -> str:
    """Plate text as the API shows it: lower-case letters and digits, separators dropped."""
    if text.isascii() and text.isalnum():  # the usual plate: nothing to drop (imports read millions)
        return text.lower()
    return _NOT_ALNUM.sub("", text).lower()


def canonical(plate: str) -> str:
    """Plate text with every look-alike letter replaced by its digit, lower case: the ``similar`` key."""
    return normalise_plate(plate).translate(_CANONICAL)


def within_one_edit(a: str, b: str) -> bool:
    """Whether one substitution, insertion or deletion (or none) turns ``a`` into ``b``."""
    if len(a) > len(b):
        a, b = b, a
    if len(b) - len(a) > 1:
        return False
    start = 0
    while start < len(a) and a[start] == b[start]:
        start += 1
    # Past the first difference the rest must agree: shifted by one for an insertion, else aligned.
    if len(a) < len(b):
        return a[start:] == b[start + 1 :]
    return a[start + 1 :] == b[start + 1 :]
