"""Reading stored flows again (``seedata flows reread``): after an engine failure, or with a better engine.

Each matching flow's stored picture is read by the configured engine; the flow's plate, score,
``lpr_version`` and plate crop are replaced. The whole picture, the time and the trigger mode stay.
A flow without a stored picture is skipped; an engine failure leaves its flow as it was.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from .errors import AlprError
from .filter_ast import Node
from .imaging import ImageError, decode_image
from .models import Flow
from .recording import PlateReader, plate_fields, plate_picture
from .storage import Storage


class RereadResult(msgspec.Struct, kw_only=True):
    """How many flows were read again, how many of those changed plate, and how many could not be read."""

    read: int = 0
    changed: int = 0
    skipped: int = 0
    failed: int = 0


def reread_flows(
    storage: Storage,
    reader: PlateReader,
    where: Node,
    *,
    progress: Callable[[Flow], None] = lambda _: None,
) -> RereadResult:
    """Read every flow matching ``where`` again, oldest first; ``progress`` is called after each one."""
    result = RereadResult()
    countries = {camera.id: camera.country for camera in storage.list_cameras()}
    for flow in storage.iter_flows(where):
        _reread(storage, reader, flow, countries.get(flow.camera_id), result)
        progress(flow)
    return result


def _reread(
    storage: Storage, reader: PlateReader, flow: Flow, country: str | None, result: RereadResult
) -> None:
    image = storage.get_images(flow).image
    if image is None:
        result.skipped += 1
        return
    try:
        frame = decode_image(image, captured_at=flow.timestamp)
        read = reader.read(frame, country=country)
    except (AlprError, ImageError):
        result.failed += 1
        return
    plate, score = plate_fields(read)
    storage.update_flow_read(
        flow.id,
        plate=plate,
        score=score,
        lpr_version=reader.version,
        plate_image=plate_picture(frame, read),
    )
    result.read += 1
    result.changed += plate != flow.plate
