"""JSON responses in the original product's shape: compact UTF-8 with an explicit charset."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Response

JSON = "application/json; charset=UTF-8"

_encoder = msgspec.json.Encoder()


def json_response(
    content: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response[bytes]:
    return Response(_encoder.encode(content), status_code=status, media_type=JSON, headers=headers)


def error_response(
    status: int, name: str, message: str, headers: Mapping[str, str] | None = None
) -> Response[bytes]:
    """The framework's error object: ``{"name", "message", "code": 0, "status"}``."""
    return json_response({"name": name, "message": message, "code": 0, "status": status}, status, headers)
