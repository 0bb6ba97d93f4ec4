"""The ``http`` engine's options: the ``alpr_options`` table, or ``--option KEY=VALUE`` strings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import msgspec

from seedata_core.errors import ConfigError

NAME = "http"
SNAPSHOT_PATH = "/v1/plate-reader/"


class HttpOptions(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Where the service is and how to talk to it.

    - ``url``: the service's address, ``http://alpr-host:8882`` (the engine posts to
      ``{url}/v1/plate-reader/``) or that endpoint itself; required.
    - ``token``: sent as ``Authorization: Token <token>``; none by default.
    - ``timeout``: seconds allowed to connect, and to wait for each part of the answer (default 5).
    - ``regions``: region codes sent on every request instead of the camera's country code, for a
      service whose codes differ from Seedata's format packs (Plate Recognizer knows ``fr`` and
      ``de`` but no ``eu``). A list, or one comma-separated string.
    - ``jpeg_quality``: quality (1..100) of the JPEG the picture travels as (default 90).
    """

    url: str
    token: str | None = None
    timeout: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    regions: tuple[str, ...] = ()
    jpeg_quality: Annotated[int, msgspec.Meta(ge=1, le=100)] = 90

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> HttpOptions:
        """Options from settings; :class:`ConfigError` for a missing url, an unknown key or a bad value."""
        if not options.get("url"):
            raise ConfigError(
                f"the {NAME} ALPR engine needs a url option: the service's address, "
                "e.g. http://alpr-host:8882"
            )
        values = dict(options)
        regions = values.get("regions")
        if isinstance(regions, str):
            values["regions"] = [r.strip() for r in regions.split(",") if r.strip()]
        try:
            # strict=False: values given on the command line arrive as strings ("2.5", "80").
            made = msgspec.convert(values, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"bad {NAME} ALPR engine option: {exc}") from exc
        endpoint_of(made.url)  # fail at start-up, not at the first read
        return made


def endpoint_of(url: str) -> str:
    """The Snapshot endpoint for a service address (given with or without the endpoint's path)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"the {NAME} ALPR engine's url must be an http:// or https:// address, got {url!r}")
    path = parts.path.rstrip("/")
    if not path.endswith(SNAPSHOT_PATH.rstrip("/")):
        path += SNAPSHOT_PATH.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path + "/", parts.query, ""))


def shown(url: str) -> str:
    """``url`` without any user name or password, for messages and ``lpr_version``."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
