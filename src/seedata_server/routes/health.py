from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.openapi.datastructures import ResponseSpec

from seedata_core.cameras import camera_status
from seedata_core.metrics import CONTENT_TYPE, render_metrics

from ..responses import json_response
from ..security import seedata_of


class Health(msgspec.Struct):
    status: str
    storage: str
    cameras_online: int
    cameras_enabled: int


@get(
    "/health",
    operation_id="health",
    tags=["health"],
    sync_to_thread=True,
    responses={200: ResponseSpec(data_container=Health), 503: ResponseSpec(data_container=Health)},
)
def health(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Liveness without authentication: 200 when the storage answers, 503 when it does not."""
    seedata = seedata_of(request)
    if not seedata.storage.ping():
        return json_response(Health("unavailable", "unreachable", 0, 0), 503)
    now = datetime.now(UTC)
    statuses = [camera_status(camera, now) for camera in seedata.cameras()]
    return json_response(
        Health("ok", "ok", statuses.count("online"), len(statuses) - statuses.count("disabled"))
    )


@get("/metrics", operation_id="metrics", tags=["health"], sync_to_thread=True, include_in_schema=True)
def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Prometheus text, without authentication like /health: flows, cameras by status, engine reads,
    triggers by outcome, auto flows and frame age per camera this process watches."""
    text = render_metrics(seedata_of(request), datetime.now(UTC))
    return Response(text.encode(), media_type=CONTENT_TYPE)
