"""A Seedata ALPR engine plugin in one module: the ``example`` engine.

It reads plates only inside a region of interest (ROI) of the picture, one lane or the gate, by
handing that part of the picture to another installed engine and moving the boxes it finds back
into the whole picture's coordinates. Options (the ``alpr_options`` table, or ``--option``)::

    roi = "x,y,width,height"   # required, in pixels of the camera's picture
    engine = "ppocr"           # the engine that reads the cropped picture (default ppocr)
    # every other option goes to that engine, e.g. threads = 2
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from seedata_core import hookimpl
from seedata_core.alpr import AlprEngine, AlprEngineSpec, PlateRead
from seedata_core.errors import AlprError, ConfigError
from seedata_core.frames import Frame
from seedata_core.imaging import ImageError, clamp_box, crop
from seedata_core.plugins import Plugins, make_plugin_manager

NAME = "example"
VERSION = "example 1.0"


class RoiEngine:
    """Reads inside ``roi`` with ``inner``; as thread-safe as ``inner`` is."""

    name = NAME

    def __init__(self, inner: AlprEngine, roi: tuple[int, int, int, int]) -> None:
        self.inner = inner
        self.roi = roi
        # Becomes each flow's lpr_version: say which model really read the plate.
        self.version = f"{VERSION} over {inner.version}"

    def read(self, frame: Frame, *, country: str | None = None) -> list[PlateRead]:
        try:
            x, y, width, height = clamp_box(frame, self.roi)
        except ImageError as exc:
            # A camera whose resolution changed under its ROI: the engine cannot do its job.
            raise AlprError(f"{NAME} engine: {exc}") from exc
        reads = self.inner.read(crop(frame, (x, y, width, height)), country=country)
        return [
            msgspec.structs.replace(read, box=(read.box[0] + x, read.box[1] + y, read.box[2], read.box[3]))
            for read in reads
        ]


def _roi(value: Any) -> tuple[int, int, int, int]:
    parts = value.split(",") if isinstance(value, str) else value
    try:
        x, y, width, height = (int(p) for p in parts)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"the {NAME} engine's roi must be x,y,width,height, got {value!r}") from exc
    if min(x, y) < 0 or min(width, height) < 1:
        raise ConfigError(f"the {NAME} engine's roi must lie in the picture, got {value!r}")
    return x, y, width, height


def create(options: Mapping[str, Any]) -> AlprEngine:
    """Check the options, then make the inner engine: Seedata calls this once, when it needs us."""
    rest = dict(options)
    if "roi" not in rest:
        raise ConfigError(f"the {NAME} engine needs a roi option: x,y,width,height")
    roi = _roi(rest.pop("roi"))
    inner_name = str(rest.pop("engine", "ppocr"))
    if inner_name == NAME:
        raise ConfigError(f"the {NAME} engine cannot read through itself")
    inner = Plugins(make_plugin_manager()).alpr_engine(inner_name).create(rest)
    return RoiEngine(inner, roi)


@hookimpl
def seedata_register_alpr_engines(register: Callable[[AlprEngineSpec], None]) -> None:
    # Registering must be cheap: nothing is loaded until Seedata calls create().
    register(
        AlprEngineSpec(
            name=NAME,
            version=VERSION,
            create=create,
            description="Reads inside a region of interest with another engine (documentation example).",
        )
    )
