from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.openapi.datastructures import ResponseSpec

from seedata_core.cameras import camera_status, mask_url
from seedata_core.models import CameraStatus, CaptureMode

from ..responses import json_response
from ..security import require_token, seedata_of


class CameraItem(msgspec.Struct, kw_only=True):
    id: int
    alias: str
    rtsp: str
    keep_alive: str | None
    capture_mode: CaptureMode
    enabled: bool
    status: CameraStatus
    manual_trigger_delay: int
    snapshot_url: str | None


@get(
    "/cameras",
    operation_id="listCameras",
    tags=["cameras"],
    guards=[require_token],
    # A few rows from a small table: cheaper on the event loop than in a worker thread.
    sync_to_thread=False,
    responses={200: ResponseSpec(data_container=list[CameraItem], description="All cameras by id")},
)
def list_cameras(request: Request[Any, Any, Any]) -> Response[bytes]:
    """All cameras, ordered by id; passwords in URLs are masked."""
    seedata = seedata_of(request)
    now = datetime.now(UTC)
    return json_response(
        [
            CameraItem(
                id=camera.id,
                alias=camera.alias,
                rtsp=mask_url(camera.source),
                keep_alive=None if camera.keep_alive is None else seedata.zone.format(camera.keep_alive),
                capture_mode=camera.capture_mode,
                enabled=camera.enabled,
                status=camera_status(camera, now),
                manual_trigger_delay=camera.manual_trigger_delay,
                snapshot_url=None if camera.snapshot_url is None else mask_url(camera.snapshot_url),
            )
            for camera in seedata.cameras()
        ]
    )
