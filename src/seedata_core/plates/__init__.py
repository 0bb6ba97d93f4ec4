"""Country format packs: plate layouts per country and look-alike correction.

Pure functions of text, so engines, search and tests agree on what a country's plates look like::

    >>> from seedata_core.plates import get_pack
    >>> get_pack("br").correct("A8C-1234")
    'ABC1234'
    >>> get_pack("br").correct("ABC1D23")
    'ABC1D23'
"""

from .packs import ARGENTINA, BRAZIL, EUROPE, PACKS, UNITED_STATES, get_pack
from .patterns import ANY, DIGIT, LETTER, FormatPack, PlatePattern, Reading, fits_class, normalise

__all__ = [
    "ANY",
    "ARGENTINA",
    "BRAZIL",
    "DIGIT",
    "EUROPE",
    "LETTER",
    "PACKS",
    "UNITED_STATES",
    "FormatPack",
    "PlatePattern",
    "Reading",
    "fits_class",
    "get_pack",
    "normalise",
]
