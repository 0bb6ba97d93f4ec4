"""Plate patterns and format packs: which characters a country's plates have at each position.

A pattern is a template of character classes, one per position: ``L`` a letter, ``D`` a digit, ``A``
either. Brazil's Mercosul plates are ``LLLDLDD`` (``ABC1D23``). A :class:`FormatPack` groups the
patterns of one country or region and corrects a reading by swapping look-alike characters (the pairs
of :mod:`seedata_core.lookalike`) only where a pattern demands a letter or a digit: ``A8C1234`` becomes
``ABC1234`` in Brazil, while ``8`` stays ``8`` where either class is allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..lookalike import DIGIT_TO_LETTER, LETTER_TO_DIGIT

LETTER = "L"
DIGIT = "D"
ANY = "A"
_CLASSES = frozenset(LETTER + DIGIT + ANY)
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")


def normalise(text: str) -> str:
    """Plate text as engines return it: upper-case ``A-Z0-9``, separators and other characters dropped."""
    return _NOT_ALNUM.sub("", text.upper())


def fits_class(char: str, cls: str) -> bool:
    """Whether ``char`` (one of ``A-Z0-9``) is allowed where the template has class ``cls``."""
    if cls == LETTER:
        return "A" <= char <= "Z"
    if cls == DIGIT:
        return "0" <= char <= "9"
    return True


@dataclass(frozen=True)
class PlatePattern:
    """One plate layout: ``template`` holds a class per position (``L``, ``D`` or ``A``)."""

    name: str
    template: str

    def __post_init__(self) -> None:
        if not self.template or not set(self.template) <= _CLASSES:
            raise ValueError(
                f"pattern {self.name!r}: template must be made of L, D and A, got {self.template!r}"
            )

    def __len__(self) -> int:
        return len(self.template)

    def matches(self, plate: str) -> bool:
        """Whether normalised ``plate`` fits this layout as it is."""
        return len(plate) == len(self.template) and all(
            fits_class(c, cls) for c, cls in zip(plate, self.template, strict=True)
        )

    def coerce(self, plate: str) -> tuple[str, int] | None:
        """``plate`` with look-alikes swapped where the layout demands it, and how many were swapped.

        ``None`` when the length differs or a character of the wrong class has no look-alike.
        """
        if len(plate) != len(self.template):
            return None
        out: list[str] = []
        swaps = 0
        for char, cls in zip(plate, self.template, strict=True):
            if fits_class(char, cls):
                out.append(char)
                continue
            table = DIGIT_TO_LETTER if cls == LETTER else LETTER_TO_DIGIT
            swapped = table.get(char)
            if swapped is None:
                return None
            out.append(swapped)
            swaps += 1
        return "".join(out), swaps


@dataclass(frozen=True, order=True)
class Reading:
    """One way text fits a pack: the corrected ``plate``, how many look-alikes were swapped, the pattern."""

    swaps: int
    order: int
    plate: str = field(compare=False)
    pattern: PlatePattern = field(compare=False)


@dataclass(frozen=True)
class FormatPack:
    """The plate layouts of one country or region.

    ``strict`` packs list every layout in use (Brazil, Argentina): text that fits none of them is
    hardly a plate. Other packs (EU, US) list common layouts among many, and an engine should still
    accept text of ``min_length`` to ``max_length`` characters that fits none.
    """

    code: str
    name: str
    patterns: tuple[PlatePattern, ...]
    strict: bool
    min_length: int
    max_length: int

    def __post_init__(self) -> None:
        if not self.patterns:
            raise ValueError(f"pack {self.code!r} has no pattern")
        lengths = {len(p) for p in self.patterns}
        if min(lengths) < self.min_length or max(lengths) > self.max_length:
            raise ValueError(f"pack {self.code!r}: a pattern is outside {self.min_length}..{self.max_length}")

    def matches(self, text: str) -> bool:
        """Whether ``text`` (normalised first) fits one of the layouts without correction."""
        plate = normalise(text)
        return any(p.matches(plate) for p in self.patterns)

    def readings(self, text: str) -> list[Reading]:
        """Every layout ``text`` fits after look-alike correction, fewest swaps first, one per plate text."""
        plate = normalise(text)
        seen: dict[str, Reading] = {}
        for order, pattern in enumerate(self.patterns):
            coerced = pattern.coerce(plate)
            if coerced is None:
                continue
            reading = Reading(swaps=coerced[1], order=order, plate=coerced[0], pattern=pattern)
            if coerced[0] not in seen or reading < seen[coerced[0]]:
                seen[coerced[0]] = reading
        return sorted(seen.values())

    def correct(self, text: str) -> str:
        """The reading with the fewest swaps, or the normalised text when no layout fits."""
        readings = self.readings(text)
        return readings[0].plate if readings else normalise(text)

    def plausible(self, text: str) -> bool:
        """Whether ``text`` could be a plate here: it fits a layout, or the pack is not strict and its
        length is within bounds."""
        plate = normalise(text)
        if self.readings(plate):
            return True
        return not self.strict and self.min_length <= len(plate) <= self.max_length
