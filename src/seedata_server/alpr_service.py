"""``seedata alpr serve``: one ALPR engine behind the Plate Recognizer Snapshot API's endpoint.

One strong machine reads for many Seedata servers, whose ``http`` engine (or any Snapshot API client)
posts pictures to ``POST /v1/plate-reader/``:

- the picture as ``upload``: a file part of a ``multipart/form-data`` body, or base64 text in a form
  field or in a JSON body ``{"upload": "<base64>", "regions": [...]}``;
- optional ``regions``: region codes; the first one whose country part (``us`` of ``us-ca``) is a
  format pack's code picks the pack that ranks and corrects candidates;
- ``Authorization: Token <token>`` when the service was started with a token.

The answer is ``{"processing_time": ms, "results": [...], "filename", "timestamp", "camera_id",
"image_width", "image_height", "engine_version"}``; each result is one plate in the picture
``{"box": {"xmin", "ymin", "xmax", "ymax"}, "plate": "abc1234", "region": {"code", "score"},
"score", "candidates": [{"plate", "score"}, ...]}``, plates lower-case as the Snapshot API writes
them, best result first. ``engine_version`` (not in the Snapshot API) names the engine that read.
Errors are ``{"detail": "<reason>"}`` with their status: 400 for a missing or undecodable upload,
401 for a missing or wrong token, 413 for a body over the limit, 500 when the engine failed.

Decoding the picture and the engine's read run in worker threads, at most ``concurrency`` at once, so
the event loop keeps accepting requests while the CPU reads.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.to_thread
import msgspec
from litestar import Litestar, Request, Response, post
from litestar.connection import ASGIConnection
from litestar.datastructures import State, UploadFile
from litestar.exceptions import ClientException, HTTPException, NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from litestar.types import ExceptionHandlersMap

from seedata_core.alpr import AlprEngine, PlateRead
from seedata_core.errors import AlprError
from seedata_core.imaging import ImageError, decode_image
from seedata_core.plates import PACKS

log = logging.getLogger("seedata.alpr_service")

SNAPSHOT_PATH = "/v1/plate-reader/"
# A 4K camera's JPEG stays well under this; the main API's 1 MiB default is too small for pictures.
DEFAULT_MAX_BODY_SIZE = 8 * 1024 * 1024
TOKEN_CHALLENGE = {"WWW-Authenticate": "Token"}


class Box(msgspec.Struct):
    xmin: int
    ymin: int
    xmax: int
    ymax: int


class Region(msgspec.Struct):
    """The format pack that ranked the plate (``code`` empty and ``score`` 0 when none did)."""

    code: str
    score: float


class Candidate(msgspec.Struct):
    score: float
    plate: str


class Result(msgspec.Struct):
    box: Box
    plate: str
    region: Region
    score: float
    candidates: list[Candidate]


class Answer(msgspec.Struct):
    processing_time: float
    results: list[Result]
    filename: str
    timestamp: str
    camera_id: str | None
    image_width: int
    image_height: int
    engine_version: str


class _JsonUpload(msgspec.Struct):
    upload: str
    regions: list[str] | str = []
    camera_id: str | None = None


@dataclass(frozen=True)
class _Upload:
    picture: bytes
    filename: str
    regions: list[str]
    camera_id: str | None


def results_of(reads: list[PlateRead]) -> list[Result]:
    """Engine reads (best first) as Snapshot results: reads of one box are one plate's candidates.

    A result's ``plate`` and ``score`` are its best reading, which also heads its ``candidates``.
    """
    results: dict[tuple[int, int, int, int], Result] = {}
    for read in reads:
        candidate = Candidate(score=read.score, plate=read.plate.lower())
        result = results.get(read.box)
        if result is None:
            x, y, w, h = read.box
            results[read.box] = Result(
                box=Box(xmin=x, ymin=y, xmax=x + w, ymax=y + h),
                plate=candidate.plate,
                region=Region(code=read.country or "", score=1.0 if read.country else 0.0),
                score=read.score,
                candidates=[candidate],
            )
        else:
            result.candidates.append(candidate)
    return list(results.values())


def country_of(regions: list[str]) -> str | None:
    """The format pack for the first region code whose country part Seedata has a pack for."""
    for region in regions:
        code = region.strip().lower().partition("-")[0]
        if code in PACKS:
            return code
    return None


def _detail(status: int, detail: str, headers: dict[str, str] | None = None) -> Response[bytes]:
    body = msgspec.json.encode({"detail": detail})
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except binascii.Error as exc:
        raise ClientException("The upload field is neither a file nor base64 text.") from exc


async def _upload_of(request: Request[Any, Any, Any]) -> _Upload:
    if request.content_type[0] == "application/json":
        try:
            payload = msgspec.json.decode(await request.body(), type=_JsonUpload)
        except msgspec.DecodeError as exc:
            raise ClientException(f"The body is not a valid upload: {exc}") from exc
        regions = [payload.regions] if isinstance(payload.regions, str) else payload.regions
        return _Upload(_b64(payload.upload), "", regions, payload.camera_id)
    form = await request.form()
    upload = form.get("upload")
    if isinstance(upload, UploadFile):
        picture, filename = await upload.read(), upload.filename
    elif isinstance(upload, str):
        picture, filename = _b64(upload), ""
    else:
        raise ClientException("The upload field is required: the picture as a file or base64 text.")
    regions = [r for r in form.getall("regions", []) if isinstance(r, str)]
    camera_id = form.get("camera_id")
    return _Upload(picture, filename, regions, camera_id if isinstance(camera_id, str) else None)


def _require_token(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    expected: str | None = connection.app.state.token
    if expected is None:
        return
    scheme, _sep, given = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "token" or not given.strip():
        raise NotAuthorizedException("A token is required: send Authorization: Token <token>.")
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise NotAuthorizedException("The token is not valid.")


def _read(engine: AlprEngine, upload: _Upload) -> Answer:
    start = time.perf_counter()
    try:
        frame = decode_image(upload.picture)
    except ImageError as exc:
        raise ClientException(f"The upload is not a picture that can be read: {exc}") from exc
    reads = engine.read(frame, country=country_of(upload.regions))
    return Answer(
        processing_time=round((time.perf_counter() - start) * 1000, 1),
        results=results_of(reads),
        filename=upload.filename,
        timestamp=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        camera_id=upload.camera_id,
        image_width=frame.width,
        image_height=frame.height,
        engine_version=engine.version,
    )


@post(SNAPSHOT_PATH, guards=[_require_token], status_code=201)
async def read_plates(request: Request[Any, Any, State]) -> Response[bytes]:
    """Read the plates in the uploaded picture (Plate Recognizer Snapshot API format)."""
    upload = await _upload_of(request)
    state = request.app.state
    answer = await anyio.to_thread.run_sync(_read, state.engine, upload, limiter=state.limiter)
    return Response(msgspec.json.encode(answer), status_code=201, media_type="application/json")


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    if exc.status_code == 401:
        return _detail(401, exc.detail, TOKEN_CHALLENGE)
    if exc.status_code == 413:
        return _detail(413, f"The body is larger than the limit of {request.app.state.max_body_size} bytes.")
    if exc.status_code >= 500:
        return _unexpected(request, exc)
    return _detail(exc.status_code, exc.detail, dict(exc.headers or {}) or None)


def _engine_failed(_: Request[Any, Any, Any], exc: AlprError) -> Response[bytes]:
    log.warning("the engine failed: %s", exc)
    return _detail(500, str(exc))


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return _detail(500, "An internal server error occurred.")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    HTTPException: _http_error,
    AlprError: _engine_failed,
    Exception: _unexpected,
}


def create_alpr_app(
    engine: AlprEngine,
    *,
    token: str | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    concurrency: int = 1,
) -> Litestar:
    """The Snapshot API service for a ready ``engine``.

    ``token``: when set, every request must carry ``Authorization: Token <token>``.
    ``max_body_size``: bytes a request body may have (413 above). ``concurrency``: reads run at once;
    more requests wait for a free slot.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")

    def start(app: Litestar) -> None:
        # The limiter belongs to the event loop that serves, so it is made when serving starts.
        app.state.limiter = anyio.CapacityLimiter(concurrency)

    return Litestar(
        route_handlers=[read_plates],
        exception_handlers=EXCEPTION_HANDLERS,
        state=State({"engine": engine, "token": token or None, "max_body_size": max_body_size}),
        on_startup=[start],
        request_max_body_size=max_body_size,
        openapi_config=None,
        logging_config=None,
        debug=False,
    )
