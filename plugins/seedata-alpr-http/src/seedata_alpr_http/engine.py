"""The ``http`` engine: send the picture to a Snapshot API service and read its answer.

One :class:`httpx.Client` serves every thread, so camera workers share keep-alive connections to the
service. Whatever goes wrong on the way (no connection, a timeout, a status other than 2xx, an answer
that is not the Snapshot format) is an :class:`~seedata_core.errors.AlprError` naming the service,
which POST /flows turns into its 502; a picture without plates is an empty list.
"""

from __future__ import annotations

import json

import httpx

from seedata_core.alpr import PlateRead
from seedata_core.errors import AlprError
from seedata_core.frames import Frame
from seedata_core.imaging import ImageError, encode_jpeg

from .options import NAME, HttpOptions, endpoint_of, shown
from .snapshot import AnswerError, decode_answer

# A Snapshot answer is a few kilobytes; a service that sends more than this is broken.
MAX_ANSWER_BYTES = 1024 * 1024


class HttpEngine:
    """Reads plates through a remote service; safe to call from several threads at once.

    ``version`` starts as this engine's own and, once the service has named the engine that read
    (Seedata's ``alpr serve`` does), becomes ``"<remote engine version> via <url>"``, so that a flow's
    ``lpr_version`` says which model read it.
    """

    name = NAME

    def __init__(self, options: HttpOptions, version: str) -> None:
        self.options = options
        self.endpoint = endpoint_of(options.url)
        self._where = shown(self.endpoint)
        self.version = f"{version} ({self._where})"
        headers = {"Accept": "application/json"}
        if options.token:
            headers["Authorization"] = f"Token {options.token}"
        self._client = httpx.Client(
            headers=headers, timeout=httpx.Timeout(options.timeout), follow_redirects=False
        )

    def read(self, frame: Frame, *, country: str | None = None) -> list[PlateRead]:
        """Plates in ``frame``, best first; ``country`` is sent as the region unless ``regions`` is set."""
        try:
            jpeg = encode_jpeg(frame, quality=self.options.jpeg_quality)
        except ImageError as exc:
            raise AlprError(f"{NAME} ALPR engine: {exc}") from exc
        regions = list(self.options.regions) or ([country] if country else [])
        status, reason, body = self._post(jpeg, regions)
        if not 200 <= status < 300:
            detail = _detail(body)
            message = f"the ALPR service at {self._where} answered {status} {reason}"
            raise AlprError(f"{message}: {detail}" if detail else message)
        try:
            answer = decode_answer(body, width=frame.width, height=frame.height, country=country)
        except AnswerError as exc:
            raise AlprError(f"the ALPR service at {self._where} answered {exc}") from exc
        if answer.engine_version:
            self.version = f"{answer.engine_version} via {self._where}"
        return answer.plates

    def _post(self, jpeg: bytes, regions: list[str]) -> tuple[int, str, bytes]:
        timeout = self.options.timeout
        try:
            with self._client.stream(
                "POST",
                self.endpoint,
                files={"upload": ("frame.jpg", jpeg, "image/jpeg")},
                data={"regions": regions} if regions else None,
            ) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_ANSWER_BYTES:
                        raise AlprError(
                            f"the ALPR service at {self._where} sent an answer of more than "
                            f"{MAX_ANSWER_BYTES} bytes"
                        )
                return response.status_code, response.reason_phrase, bytes(body)
        except httpx.ConnectTimeout as exc:
            raise AlprError(f"cannot connect to the ALPR service at {self._where} in {timeout:g} s") from exc
        except httpx.TimeoutException as exc:
            raise AlprError(f"the ALPR service at {self._where} did not answer within {timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise AlprError(f"cannot reach the ALPR service at {self._where}: {exc}") from exc


def _detail(body: bytes) -> str:
    """The reason an error answer gives: its ``detail`` (Snapshot API and Seedata), else its JSON.

    Field errors come without ``detail``, e.g. ``{"regions": ["..."]}``; a page of HTML says nothing.
    """
    try:
        decoded = json.loads(body)
    except ValueError:
        return ""
    detail = decoded.get("detail") if isinstance(decoded, dict) else None
    if not isinstance(detail, str):
        detail = json.dumps(decoded, ensure_ascii=False, separators=(",", ":"))
    return detail[:200]
