"""The contract between Seedata and an ALPR engine.

An engine plugin registers an :class:`AlprEngineSpec` (see
:func:`seedata_core.hookspecs.seedata_register_alpr_engines`);
Seedata calls ``spec.create(options)`` once, when the engine is first needed, and then
:meth:`AlprEngine.read` for each picture.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import msgspec

from .frames import Frame


class PlateRead(msgspec.Struct, frozen=True, kw_only=True):
    """One plate an engine read: upper-case ``A-Z0-9`` text, a 0..1 confidence and its box.

    ``box`` is ``(x, y, width, height)`` in pixels of the picture that was read.
    """

    plate: str
    score: float
    box: tuple[int, int, int, int]
    country: str | None = None


@runtime_checkable
class AlprEngine(Protocol):
    """A loaded engine, ready to read.

    ``version`` names the engine and model version; it becomes the flow's ``lpr_version``.
    """

    name: str
    version: str

    def read(self, frame: Frame, *, country: str | None = None) -> list[PlateRead]:
        """Read the plates in ``frame``, best first; an empty list when none was read.

        ``country`` is a format pack code (``br``, ``eu``, ...) that the engine may use to rank and
        correct candidates. Raise :class:`seedata_core.errors.AlprError` when the engine itself failed:
        a picture without a plate is an empty list, not an error. Must be safe to call from several
        threads, or serialise internally.
        """
        ...


class AlprEngineSpec(msgspec.Struct, frozen=True, kw_only=True):
    """How to make an engine: its unique ``name``, its ``version`` and a factory.

    ``create`` receives the engine's options (a mapping from settings) and returns an
    :class:`AlprEngine`. It may be slow (model loading); Seedata calls it once per process.
    """

    name: str
    version: str
    create: Callable[[Mapping[str, Any]], AlprEngine]
    description: str = ""
