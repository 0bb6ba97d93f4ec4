"""The manual trigger (``POST /flows``, SPEC §1.3): a flow made on request from the camera's current image.

The procedure: wait ``capture_delay``; take the current image; if the newest image is older than
:data:`~seedata_core.cameras.FRESHNESS`, fail with :class:`NoCurrentImage`; read it; while no plate
was read and retries remain, wait ``interval_between_retries``, take a new image and read again. The
flow is stored whether or not a plate was read. When the engine fails, the flow is stored with no
plate and the result says why, so the caller can answer 502 with the picture.

Time goes through ``clock`` and ``sleep`` so tests can drive it without waiting.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Self

import msgspec

from .alpr import PlateRead
from .cameras import FRESHNESS
from .errors import AlprError, CameraNotEnabled, NoCurrentImage, NotFound
from .frames import Frame
from .models import Camera, Flow, FlowImages, ImageSource
from .recording import PlateReader, record_flow
from .storage import Storage
from .validation import Checker

log = logging.getLogger(__name__)

CAPTURE_DELAY_MAX = 3000
MAX_RETRIES_MAX = 5
DEFAULT_MAX_RETRIES = 3
INTERVAL_MIN = 500
INTERVAL_MAX = 1500
DEFAULT_INTERVAL = 500

NO_CURRENT_IMAGE = "Could not get current image from the camera"

TakeImage = Callable[[Camera], Frame | None]
"""Returns the camera's newest image (of any age), or ``None`` when it has none."""


class TriggerRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A checked trigger request; ``capture_delay`` ``None`` means the camera's ``manual_trigger_delay``."""

    camera_id: int
    capture_delay: int | None = None
    max_retries: int = DEFAULT_MAX_RETRIES
    interval_between_retries: int = DEFAULT_INTERVAL

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Self:
        """Read a request body with the framework's messages; ``ValidationFailed`` lists every bad field."""
        check = Checker(body)
        camera_id = check.integer("camera_id")
        # -1 stands for "not given": any value the client sends is checked against 0..3000 first.
        delay = check.integer("capture_delay", default=-1, minimum=0, maximum=CAPTURE_DELAY_MAX)
        retries = check.integer(
            "max_retries", default=DEFAULT_MAX_RETRIES, minimum=0, maximum=MAX_RETRIES_MAX
        )
        interval = check.integer(
            "interval_between_retries", default=DEFAULT_INTERVAL, minimum=INTERVAL_MIN, maximum=INTERVAL_MAX
        )
        check.done()
        return cls(
            camera_id=camera_id,
            capture_delay=None if delay == -1 else delay,
            max_retries=retries,
            interval_between_retries=interval,
        )


class TriggerResult(msgspec.Struct, kw_only=True):
    """What a trigger did: the stored flow and pictures, and the facts the API adds to the flow.

    ``alpr_error`` is set when the engine failed; the flow was stored with no plate.
    """

    flow: Flow
    images: FlowImages
    image_source: ImageSource
    request_received_at: datetime
    retries: int
    capture_delay: int
    interval_between_retries: int
    alpr_error: str | None = None


def image_source_of(camera: Camera) -> ImageSource:
    return "camera_snapshot" if camera.snapshot_url else "rtsp"


def find_camera(storage: Storage, camera_id: int) -> Camera:
    """The enabled camera with this id: ``NotFound`` or ``CameraNotEnabled`` (SPEC §1.1 messages)."""
    camera = storage.get_camera(camera_id) if 0 < camera_id < 2**63 else None
    if camera is None:
        raise NotFound("Camera not found")
    if not camera.enabled:
        raise CameraNotEnabled("Camera is not enabled")
    return camera


def run_trigger(
    request: TriggerRequest,
    *,
    storage: Storage,
    take_image: TakeImage,
    reader: PlateReader,
    received_at: datetime | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> TriggerResult:
    """Run the procedure of the module docstring for one request."""
    received_at = received_at or clock()
    camera = find_camera(storage, request.camera_id)
    delay = request.capture_delay
    if delay is None:
        delay = max(0, min(CAPTURE_DELAY_MAX, camera.manual_trigger_delay))
    sleep(delay / 1000)

    frame = _current(camera, take_image, clock)
    if frame is None:
        raise NoCurrentImage(NO_CURRENT_IMAGE)
    retries = 0
    read: PlateRead | None = None
    alpr_error: str | None = None
    while True:
        try:
            read = reader.read(frame, country=camera.country)
        except AlprError as exc:
            alpr_error = str(exc)
            log.warning("camera %s: manual trigger: ALPR engine failed: %s", camera.alias, exc)
            break
        if read is not None or retries >= request.max_retries:
            break
        sleep(request.interval_between_retries / 1000)
        retries += 1
        newer = _current(camera, take_image, clock)
        if newer is None:
            # The camera went away mid-retry: the flow keeps the last current picture.
            break
        frame = newer

    flow, images = record_flow(
        storage, camera, frame, read, trigger_mode="manual", lpr_version=reader.version
    )
    return TriggerResult(
        flow=flow,
        images=images,
        image_source=image_source_of(camera),
        request_received_at=received_at,
        retries=retries,
        capture_delay=delay,
        interval_between_retries=request.interval_between_retries,
        alpr_error=alpr_error,
    )


def _current(camera: Camera, take_image: TakeImage, clock: Callable[[], datetime]) -> Frame | None:
    frame = take_image(camera)
    if frame is None or clock() - frame.captured_at > FRESHNESS:
        return None
    return frame
