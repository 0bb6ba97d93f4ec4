from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import anyio.to_thread
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter, QueryParameter

from seedata_core.errors import NotFound
from seedata_core.filter_ast import MATCH_ALL
from seedata_core.models import Flow
from seedata_core.pagination import Page, PageRequest
from seedata_core.records import FlowDetail, FlowItem, TriggeredFlow, flow_detail, flow_item, triggered_flow
from seedata_core.service import Seedata
from seedata_core.trigger import TriggerRequest

from ..bodies import json_object
from ..errors import error_body
from ..responses import json_response
from ..security import require_token, seedata_of

_MAX_ID_DIGITS = 19
# Reads this shallow cost ~0.1-0.3 ms (an index range and a counter): cheaper on the event loop than
# the hand-off to a worker thread, which measured at about half the throughput. Deeper pages, and
# searches with arbitrary filters, run in worker threads so they never stall other requests.
INLINE_DEPTH = 2_000


def page_response(
    request: Request[Any, Any, Any], seedata: Seedata, page: Page, flows: list[Flow]
) -> Response[bytes]:
    """A list body with the pagination headers and the ``Link`` header."""
    headers = page.headers()
    base = f"{request.base_url}".rstrip("/") + request.url.path
    headers["Link"] = page.links(base, list(request.query_params.items()))
    return json_response([flow_item(flow, seedata.zone) for flow in flows], headers=headers)


LIST_RESPONSES = {
    200: ResponseSpec(
        data_container=list[FlowItem],
        description="One page of flows, newest first; X-Pagination-* and Link headers describe the pages",
    )
}


class FlowController(Controller):
    """Flows: one per vehicle a camera saw."""

    path = "/flows"
    tags = ["flows"]  # noqa: RUF012 -- Litestar reads these as class attributes
    guards = [require_token]  # noqa: RUF012

    @get("/", operation_id="listFlows", responses=LIST_RESPONSES)
    async def list_flows(
        self,
        request: Request[Any, Any, Any],
        page: Annotated[str | None, QueryParameter(name="page", description="1-based page number")] = None,
        per_page: Annotated[
            str | None, QueryParameter(name="per-page", description="1..50, default 20")
        ] = None,
    ) -> Response[bytes]:
        """All flows, newest first (timestamp, then id, descending), 20 a page."""
        seedata = seedata_of(request)
        wanted = PageRequest.read(page, per_page)
        if wanted.page * wanted.per_page <= INLINE_DEPTH:
            result, flows = seedata.page_flows(MATCH_ALL, wanted)
        else:
            result, flows = await anyio.to_thread.run_sync(seedata.page_flows, MATCH_ALL, wanted)
        return page_response(request, seedata, result, flows)

    @get(
        "/{flow_id:str}",
        operation_id="getFlow",
        # A primary-key read and two small files: cheaper on the event loop than in a worker thread.
        sync_to_thread=False,
        responses={200: ResponseSpec(data_container=FlowDetail, description="The flow with its pictures")},
    )
    def get_flow(
        self, request: Request[Any, Any, Any], flow_id: Annotated[str, PathParameter()]
    ) -> Response[bytes]:
        """One flow with its base64 JPEG image and plate crop (``null`` when none)."""
        if not flow_id.isascii() or not flow_id.isdigit():
            raise NotFoundException
        seedata = seedata_of(request)
        if len(flow_id.lstrip("0")) > _MAX_ID_DIGITS:
            raise NotFound(f"Object not found: {flow_id}")
        try:
            flow, images = seedata.get_flow(int(flow_id))
        except NotFound as exc:
            raise NotFound(f"Object not found: {flow_id}") from exc
        return json_response(flow_detail(flow, images, seedata.zone))

    @post("/search", operation_id="searchFlows", status_code=200, responses=LIST_RESPONSES)
    async def search_flows(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """Flows matching a filter object (SPEC §1.3); ``page`` and ``per-page`` come from the body.

        Body: ``{"filter": {"plate": {"like": "abc"}, "timestamp": {">=": "2024-11-18"}}, "page": 2}``.
        """
        body = await json_object(request)
        seedata = seedata_of(request)
        where = seedata.parse_filter(body.get("filter"))
        wanted = PageRequest.read(body.get("page"), body.get("per-page"))
        result, flows = await anyio.to_thread.run_sync(seedata.page_flows, where, wanted)
        return page_response(request, seedata, result, flows)

    @post(
        "/",
        operation_id="triggerFlow",
        status_code=200,
        responses={
            200: ResponseSpec(
                data_container=TriggeredFlow, description="The flow made from the current image"
            ),
            502: ResponseSpec(
                data_container=TriggeredFlow,
                description="The engine failed: the error object plus the stored flow, image included",
            ),
        },
    )
    async def trigger_flow(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """Manual trigger: read the camera's current image now and store a flow (SPEC §1.3).

        Body: ``{"camera_id": 1, "capture_delay": 1000, "max_retries": 3, "interval_between_retries": 500}``.
        404 camera not found, 405 camera not enabled, 422 no image newer than 5 s, 502 engine failed.
        """
        received_at = datetime.now(UTC)
        body = await json_object(request)
        trigger = TriggerRequest.from_body(body)
        seedata = seedata_of(request)
        result = await anyio.to_thread.run_sync(
            lambda: seedata.trigger(trigger, received_at=received_at),
            limiter=request.app.state.trigger_threads,
        )
        answer = triggered_flow(result, seedata.zone)
        if result.alpr_error is not None:
            return json_response(
                {**error_body(502, "Error to make alpr api request"), **msgspec.structs.asdict(answer)}, 502
            )
        return json_response(answer)
