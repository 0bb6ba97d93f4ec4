from __future__ import annotations

from typing import Any

import anyio.to_thread
import msgspec
from litestar import Request, Response, post
from litestar.openapi.datastructures import ResponseSpec

from seedata_core.validation import Checker

from ..bodies import json_object
from ..responses import json_response
from ..security import seedata_of


class Credentials(msgspec.Struct):
    email: str
    password: str


class TokenData(msgspec.Struct):
    token: str


class TokenAnswer(msgspec.Struct):
    success: bool
    data: TokenData


@post(
    "/authenticate",
    operation_id="authenticate",
    tags=["auth"],
    status_code=200,
    responses={200: ResponseSpec(data_container=TokenAnswer, description="A bearer token")},
    request_max_body_size=64 * 1024,
)
async def authenticate(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Exchange an email and password for a JWT bearer token (RS256).

    Wrong email and wrong password give the same 401; repeated failures per client address and per
    account give 429 with ``Retry-After``.
    """
    body = await json_object(request)
    check = Checker(body)
    email = check.string("email")
    password = check.string("password", max_length=1024)
    check.done()
    address = request.client.host if request.client else "unknown"
    seedata = seedata_of(request)
    # argon2 takes tens of milliseconds: never on the event loop.
    token = await anyio.to_thread.run_sync(seedata.auth.login, email, password, address)
    return json_response(TokenAnswer(success=True, data=TokenData(token=token)))
