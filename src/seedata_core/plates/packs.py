"""The format packs Seedata ships, by country code (the per-camera ``country`` setting).

Layouts are of cars' standard plates in use today; personalised and special plates fit none, which is
why only Brazil and Argentina are strict. ``eu`` covers Europe as one region because a camera there
sees cars from many countries: its layouts are the union of the national ones listed below.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from ..errors import ConfigError
from .patterns import FormatPack, PlatePattern


def _patterns(pairs: Iterable[tuple[str, str]]) -> tuple[PlatePattern, ...]:
    """Patterns from ``(name, template)`` pairs; a template listed twice keeps its first name."""
    seen: dict[str, PlatePattern] = {}
    for name, template in pairs:
        seen.setdefault(template, PlatePattern(name=name, template=template))
    return tuple(seen.values())


def _german() -> list[tuple[str, str]]:
    # District (1-3 letters), 1-2 letters, 1-4 digits, at most 8 characters in all.
    return [
        ("de", "L" * letters + "D" * digits)
        for letters in range(2, 6)
        for digits in range(1, 5)
        if letters + digits <= 8
    ]


BRAZIL = FormatPack(
    code="br",
    name="Brazil",
    patterns=_patterns([("old", "LLLDDDD"), ("mercosul", "LLLDLDD")]),
    strict=True,
    min_length=7,
    max_length=7,
)

ARGENTINA = FormatPack(
    code="ar",
    name="Argentina",
    patterns=_patterns(
        [("mercosur", "LLDDDLL"), ("1995", "LLLDDD"), ("moto-mercosur", "LDDDLLL"), ("moto-1995", "DDDLLL")]
    ),
    strict=True,
    min_length=6,
    max_length=7,
)

EUROPE = FormatPack(
    code="eu",
    name="Europe (generic)",
    patterns=_patterns(
        [
            ("fr-it-sk-rs", "LLDDDLL"),
            ("es", "DDDDLLL"),
            ("gb", "LLDDLLL"),
            ("cz", "DLADDDD"),
            ("pl", "LLDDDDD"),
            ("pl", "LLDDDDL"),
            ("pl", "LLDLDDD"),
            ("pl", "LLDLLDD"),
            ("pl-gr", "LLLDDDD"),
            ("pl", "LLLDDDL"),
            ("pl", "LLLDDLL"),
            ("pl", "LLLDLDD"),
            ("pl-hu", "LLLLDDD"),
            ("no-dk", "LLDDDDD"),
            ("hr", "LLDDDL"),
            ("hr-rs-bg-ua", "LLDDDDLL"),
            ("hr", "LLDDDDL"),
            ("bg", "LDDDDLL"),
            ("be", "DLLLDDD"),
            ("pt", "LLDDLL"),
            ("pt", "DDLLDD"),
            ("pt", "DDDDLL"),
            ("ro", "LDDLLL"),
            ("ro", "LDDDLLL"),
            ("ba", "LDDLDDD"),
            ("se-fi-hu-lt", "LLLDDD"),
            ("se", "LLLDDL"),
            ("ee", "DDDLLL"),
            ("nl", "DDLLLD"),
            ("nl", "DLLLDD"),
            ("nl", "LDDDLL"),
            ("nl", "LLLDDL"),
            ("nl", "DLLDDD"),
            ("nl", "DDDLLD"),
            *_german(),
        ]
    ),
    strict=False,
    min_length=3,
    max_length=8,
)

UNITED_STATES = FormatPack(
    code="us",
    name="United States (generic)",
    patterns=_patterns(
        [
            ("3-letters-4-digits", "LLLDDDD"),
            ("california", "DLLLDDD"),
            ("missouri", "LLDLDL"),
            ("3-letters-3-digits", "LLLDDD"),
            ("3-digits-3-letters", "DDDLLL"),
            ("digit-2-letters-3-digits", "DLLDDD"),
            ("letter-2-digits-3-letters", "LDDLLL"),
            ("2-letters-5-digits", "LLDDDDD"),
            ("letter-6-digits", "LDDDDDD"),
            ("numeric", "DDDDDDD"),
        ]
    ),
    strict=False,
    min_length=2,
    max_length=8,
)

PACKS: Mapping[str, FormatPack] = MappingProxyType(
    {pack.code: pack for pack in (BRAZIL, ARGENTINA, EUROPE, UNITED_STATES)}
)


def get_pack(code: str) -> FormatPack:
    """The pack for a country code (any case); :class:`ConfigError` names the known codes otherwise."""
    pack = PACKS.get(code.strip().lower())
    if pack is None:
        raise ConfigError(f"unknown plate country {code!r} (known: {', '.join(sorted(PACKS))})")
    return pack
