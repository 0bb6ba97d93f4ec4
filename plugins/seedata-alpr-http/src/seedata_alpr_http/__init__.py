"""The ``http`` ALPR engine: plates read by a remote service in the Plate Recognizer Snapshot API format.

That service can be Plate Recognizer itself (``url = "https://api.platerecognizer.com"`` and its
token) or ``seedata alpr serve`` on a stronger machine, which reads for many Seedata servers.
Configure it with ``alpr_engine = "http"`` and an ``[alpr_options]`` table; see
:class:`~seedata_alpr_http.options.HttpOptions`. Creating the engine contacts nothing: a service that
is down shows as an :class:`~seedata_core.errors.AlprError` on each read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from seedata_core import hookimpl
from seedata_core.alpr import AlprEngine, AlprEngineSpec

from .options import NAME, HttpOptions

try:
    __version__ = version("seedata-alpr-http")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

VERSION = f"{NAME} {__version__}"


def create(options: Mapping[str, Any]) -> AlprEngine:
    """An engine for the service that ``options`` name; :class:`ConfigError` when they are wrong."""
    from .engine import HttpEngine  # httpx is imported only when the engine is used

    return HttpEngine(HttpOptions.from_mapping(options), VERSION)


@hookimpl
def seedata_register_alpr_engines(register: Callable[[AlprEngineSpec], None]) -> None:
    register(
        AlprEngineSpec(
            name=NAME,
            version=VERSION,
            create=create,
            description="Remote reader: a Plate Recognizer Snapshot API service, e.g. `seedata alpr serve`.",
        )
    )


__all__ = ["NAME", "VERSION", "HttpOptions", "create", "seedata_register_alpr_engines"]
