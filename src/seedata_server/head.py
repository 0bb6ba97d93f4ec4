"""HEAD on every GET route, as HTTP asks of a server (RFC 9110, section 9.3.2): the status and
headers that GET would give, without the body. Litestar routes HEAD only to handlers declared for it
and answers 405 on every other path, which breaks ``curl -I`` and load balancers' HEAD health checks.
"""

from __future__ import annotations

from typing import cast

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send


def head_as_get(app: ASGIApp) -> ASGIApp:
    """``app``, answering each HEAD request as the GET of its URL with the body left out."""

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope.get("method") != "HEAD":
            await app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await app(cast(HTTPScope, {**scope, "method": "GET"}), receive, send_without_body)

    return handle
