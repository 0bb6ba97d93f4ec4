"""Bearer-token authentication for every endpoint except login and health."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from seedata_core.errors import AuthenticationFailed
from seedata_core.service import Seedata

from .errors import InvalidToken


def seedata_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Seedata:
    seedata: Seedata = connection.app.state.seedata
    return seedata


def require_token(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: a valid ``Authorization: Bearer <token>`` of an enabled user, or 401.

    OPTIONS requests pass: they only say which methods a path allows (and browsers send them without
    credentials before a cross-origin call).
    """
    if connection.scope.get("method") == "OPTIONS":
        return
    scheme, _sep, token = connection.headers.get("authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken
    try:
        connection.scope["user"] = seedata_of(connection).auth.authenticate(token)
    except AuthenticationFailed as exc:
        raise InvalidToken from exc
