"""Turning a picture and what the engine read in it into a stored flow.

The manual trigger, auto mode and ``seedata flows reread`` all end here, so a flow's plate text, score,
pictures and ``lpr_version`` are made one way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from .alpr import AlprEngine, AlprEngineSpec, PlateRead
from .errors import AlprError
from .frames import Frame
from .imaging import ImageError, encode_jpeg
from .lookalike import normalise_plate
from .models import Camera, Flow, FlowImages, NewFlow, TriggerMode
from .storage import Storage


class ReadStats(msgspec.Struct, kw_only=True):
    """What a reader did since it was made: reads, those with a plate, engine failures, engine seconds."""

    reads: int = 0
    plates: int = 0
    failures: int = 0
    seconds: float = 0.0


class PlateReader:
    """The configured engine, created on first use (loading a model is slow) and shared by all cameras.

    :meth:`read` turns every failure, including one to create the engine, into an ``AlprError``, so
    a broken engine plugin costs a flow its plate, never a camera worker or a request its answer.
    Reads scored below ``min_score`` count as no read: they are what an engine makes of half a plate
    at the edge of the picture, or of text that is not a plate.
    """

    def __init__(
        self, spec: AlprEngineSpec, options: Mapping[str, Any] | None = None, *, min_score: float = 0.0
    ) -> None:
        self.spec = spec
        self.options = dict(options or {})
        self.min_score = min_score
        self._engine: AlprEngine | None = None
        self._lock = threading.Lock()
        self._stats = ReadStats()
        self._stats_lock = threading.Lock()

    @property
    def stats(self) -> ReadStats:
        """A copy of the counts so far."""
        with self._stats_lock:
            return msgspec.structs.replace(self._stats)

    @property
    def version(self) -> str:
        """What flows record as ``lpr_version``: the created engine's version, else the spec's."""
        return self._engine.version if self._engine is not None else self.spec.version

    def engine(self) -> AlprEngine:
        """The engine, created now if it was not yet; ``AlprError`` when creating it fails."""
        with self._lock:
            if self._engine is None:
                try:
                    self._engine = self.spec.create(self.options)
                except Exception as exc:
                    raise AlprError(f"cannot create ALPR engine {self.spec.name!r}: {exc}") from exc
            return self._engine

    def read(self, frame: Frame, *, country: str | None = None) -> PlateRead | None:
        """The best read of ``frame``, or ``None`` when no plate was read."""
        started = time.perf_counter()
        best: PlateRead | None = None
        try:
            engine = self.engine()
            try:
                reads = engine.read(frame, country=country)
            except AlprError:
                raise
            except Exception as exc:  # a plugin's bug, reported like any engine failure
                raise AlprError(f"{engine.name} failed: {exc.__class__.__name__}: {exc}") from exc
            best = next((read for read in reads if read.score >= self.min_score), None)
        except AlprError:
            self._count(started, failed=True, plate=False)
            raise
        self._count(started, failed=False, plate=best is not None)
        return best

    def _count(self, started: float, *, failed: bool, plate: bool) -> None:
        with self._stats_lock:
            self._stats.reads += 1
            self._stats.failures += failed
            self._stats.plates += plate
            self._stats.seconds += time.perf_counter() - started


def plate_fields(read: PlateRead | None) -> tuple[str | None, float]:
    """A flow's ``plate`` and ``score`` for a read: normalised text, or ``None`` and 0 when none was read."""
    plate = normalise_plate(read.plate) if read is not None else None
    if read is None or not plate:
        return None, 0.0
    return plate, round(read.score, 6)


def plate_picture(frame: Frame, read: PlateRead | None) -> bytes | None:
    """The plate crop as JPEG, or ``None`` without a read (or with a box outside the picture)."""
    if read is None or plate_fields(read)[0] is None:
        return None
    try:
        return encode_jpeg(frame, box=read.box)
    except ImageError:
        return None  # an engine's box outside the picture: keep the flow, lose the crop


def flow_pictures(frame: Frame, read: PlateRead | None) -> FlowImages:
    """The whole picture and, when a plate was read, its crop, as JPEG."""
    return FlowImages(image=encode_jpeg(frame), plate_image=plate_picture(frame, read))


def new_flow(
    camera: Camera,
    read: PlateRead | None,
    *,
    at: datetime,
    trigger_mode: TriggerMode,
    lpr_version: str,
) -> NewFlow:
    """The flow record of one read (or of none: ``plate`` ``None`` and score 0)."""
    plate, score = plate_fields(read)
    return NewFlow(
        camera_id=camera.id,
        plate=plate,
        score=score,
        timestamp=at,
        trigger_mode=trigger_mode,
        lpr_version=lpr_version,
    )


def record_flow(
    storage: Storage,
    camera: Camera,
    frame: Frame,
    read: PlateRead | None,
    *,
    trigger_mode: TriggerMode,
    lpr_version: str,
) -> tuple[Flow, FlowImages]:
    """Store the flow of one picture, timed when the picture was taken; the stored flow and its pictures."""
    images = flow_pictures(frame, read)
    record = new_flow(camera, read, at=frame.captured_at, trigger_mode=trigger_mode, lpr_version=lpr_version)
    return storage.add_flow(record, images), images
