"""Reading request bodies as the original framework does: JSON objects, with typed field rules."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from .errors import BadJson

_decoder = msgspec.json.Decoder()


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def json_object(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The body as a JSON object. An empty body, or JSON that is not an object, reads as ``{}``.

    A form-encoded body is read as its fields, as the original framework reads POST forms. Invalid
    JSON raises :class:`BadJson`; the body size limit is enforced by Litestar (413).
    """
    if request.content_type[0] in FORM_TYPES:
        form = await request.form()
        return {key: form.get(key) for key in form}
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        value = _decoder.decode(raw)
    except msgspec.DecodeError as exc:
        raise BadJson(str(exc)) from exc
    return value if isinstance(value, dict) else {}
