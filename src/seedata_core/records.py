"""The public JSON shapes of a flow, shared by the HTTP API and JSON Lines export and import.

Field order and names are the original product's; timestamps are display-zone strings.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

import msgspec

from .models import Flow, FlowImages, ImageSource, TriggerMode
from .timezones import DisplayZone

if TYPE_CHECKING:
    from .trigger import TriggerResult


class FlowItem(msgspec.Struct, kw_only=True):
    """The list form of a flow."""

    id: int
    camera: str
    plate: str | None
    # 0 (an int) when no plate was read, as the original shows it; otherwise a float.
    score: float
    timestamp: str
    trigger_mode: TriggerMode
    lpr_version: str


class FlowDetail(FlowItem, kw_only=True):
    """The single form: the list form plus the base64 JPEG pictures."""

    image: str | None = None
    plate_image: str | None = None


class TriggeredFlow(FlowDetail, kw_only=True):
    """The answer to a manual trigger: the single form plus how the picture was taken (SPEC §1.3)."""

    image_source: ImageSource
    request_received_at: str
    retries: int
    capture_delay: int
    interval_between_retries: int


def _score(flow: Flow) -> float:
    return flow.score if flow.plate is not None and flow.score else 0


def flow_item(flow: Flow, zone: DisplayZone) -> FlowItem:
    return FlowItem(
        id=flow.id,
        camera=flow.camera,
        plate=flow.plate,
        score=_score(flow),
        timestamp=zone.format(flow.timestamp),
        trigger_mode=flow.trigger_mode,
        lpr_version=flow.lpr_version,
    )


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def flow_detail(flow: Flow, images: FlowImages, zone: DisplayZone) -> FlowDetail:
    return FlowDetail(
        **msgspec.structs.asdict(flow_item(flow, zone)),
        image=_b64(images.image),
        plate_image=_b64(images.plate_image),
    )


def decode_image(text: str | None) -> bytes | None:
    """Base64 picture text from an import line; ``ValueError`` when it is not base64."""
    if text is None:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"image is not valid base64: {exc}") from exc


def triggered_flow(result: TriggerResult, zone: DisplayZone) -> TriggeredFlow:
    return TriggeredFlow(
        **msgspec.structs.asdict(flow_detail(result.flow, result.images, zone)),
        image_source=result.image_source,
        request_received_at=zone.format(result.request_received_at),
        retries=result.retries,
        capture_delay=result.capture_delay,
        interval_between_retries=result.interval_between_retries,
    )
