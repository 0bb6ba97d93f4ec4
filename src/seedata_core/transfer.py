"""Moving flows in and out as JSON Lines: one flow a line, in the API's single form.

Export writes what import reads, so ``seedata flows export | seedata flows import -`` copies an
installation. Lines from the original product's list-form export (no pictures) import too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import msgspec

from .filter_ast import Node
from .lookalike import normalise_plate
from .models import FlowImages, NewCamera, NewFlow, TriggerMode
from .records import decode_image, flow_detail
from .storage import Storage
from .timezones import DisplayZone

MAX_LINE_BYTES = 64 * 1024 * 1024


class FlowLine(msgspec.Struct, kw_only=True):
    """One imported line; unknown keys (``image_source``, ...) are ignored."""

    id: int
    camera: str
    timestamp: str
    trigger_mode: TriggerMode
    plate: str | None = None
    score: float = 0.0
    lpr_version: str = ""
    image: str | None = None
    plate_image: str | None = None


class ImportLineError(ValueError):
    """A line that cannot be imported; ``line`` is 1-based."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line


_decoder = msgspec.json.Decoder(FlowLine)
_encoder = msgspec.json.Encoder()


class CameraIds:
    """Camera ids by alias; an alias not seen before becomes a disabled camera with no source."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.ids = {camera.alias: camera.id for camera in storage.list_cameras()}

    def __call__(self, alias: str) -> int:
        if alias not in self.ids:
            camera = self.storage.add_camera(NewCamera(alias=alias, source="", enabled=False))
            self.ids[alias] = camera.id
        return self.ids[alias]


def read_lines(
    lines: Iterable[bytes], zone: DisplayZone, camera_id: CameraIds
) -> Iterator[tuple[NewFlow, FlowImages]]:
    """Parse JSON Lines into flows to store; blank lines are skipped; raises :class:`ImportLineError`."""
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        if len(raw) > MAX_LINE_BYTES:
            raise ImportLineError(number, f"longer than {MAX_LINE_BYTES} bytes")
        try:
            line = _decoder.decode(raw)
            if not 0 < line.id < 2**63 - 1:
                raise ValueError(f"id {line.id} is out of range")
            if not 0.0 <= line.score <= 1.0:
                raise ValueError(f"score {line.score} is not within 0..1")
            timestamp = zone.parse(line.timestamp)
            images = FlowImages(image=decode_image(line.image), plate_image=decode_image(line.plate_image))
        except (msgspec.DecodeError, ValueError, OverflowError) as exc:
            raise ImportLineError(number, str(exc)) from exc
        plate = normalise_plate(line.plate) if line.plate else ""
        yield (
            NewFlow(
                id=line.id,
                camera_id=camera_id(line.camera),
                plate=plate or None,
                score=line.score if plate else 0.0,
                timestamp=timestamp,
                trigger_mode=line.trigger_mode,
                lpr_version=line.lpr_version,
            ),
            images,
        )


def export_lines(storage: Storage, where: Node, zone: DisplayZone) -> Iterator[bytes]:
    """Every matching flow as one JSON line (with its pictures), oldest first."""
    for flow in storage.iter_flows(where):
        yield _encoder.encode(flow_detail(flow, storage.get_images(flow), zone)) + b"\n"
