"""The Litestar application: ``create_app`` and the one plugin that wires Seedata into it."""

from __future__ import annotations

import logging
import threading

import anyio
from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.plugins import InitPluginProtocol

from seedata_core.plugins import Plugins
from seedata_core.service import Seedata
from seedata_core.settings import Settings

from . import __version__
from .errors import exception_handlers
from .head import head_as_get
from .routes import FlowController, authenticate, health, list_cameras, metrics

log = logging.getLogger("seedata.server")

# Triggers wait (capture delay, retries: up to ~11 s each) on threads counted apart, so that many gates
# triggering at once never take the threads that list and search requests run on.
TRIGGER_CONCURRENCY = 64


class SeedataPlugin(InitPluginProtocol):
    """Routes, error handlers and the lifecycle of the core :class:`Seedata` object."""

    def __init__(self, settings: Settings, plugins: Plugins, *, watch_cameras: bool) -> None:
        self.settings = settings
        self.plugins = plugins
        self.watch_cameras = watch_cameras

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers += [authenticate, FlowController, list_cameras, health, metrics]
        app_config.exception_handlers = {**exception_handlers, **app_config.exception_handlers}
        app_config.state["max_body_size"] = self.settings.max_body_size
        app_config.on_startup.append(self._start)
        app_config.on_shutdown.append(self._stop)
        return app_config

    def _start(self, app: Litestar) -> None:
        app.state.trigger_threads = anyio.CapacityLimiter(TRIGGER_CONCURRENCY)
        seedata = app.state.seedata = Seedata.open(self.settings, self.plugins)
        log.info("storage open: %s", self.settings.resolved_database_url.split("://", 1)[0])
        if self.watch_cameras:
            # Loading the engine takes seconds: done now, the first flow need not wait for it.
            threading.Thread(target=_warm_up, args=(seedata,), name="alpr-warm-up", daemon=True).start()
            workers = seedata.start_workers()
            log.info("camera workers started for %d cameras", len(workers.watched()))
            if (retention := seedata.start_retention()) is not None:
                log.info("retention started: %s", retention.policy)

    def _stop(self, app: Litestar) -> None:
        seedata: Seedata | None = app.state.get("seedata")
        if seedata is not None:
            seedata.close()


def _warm_up(seedata: Seedata) -> None:
    try:
        engine = seedata.reader.engine()
    except Exception as exc:
        log.error("ALPR engine %r unusable: %s", seedata.settings.alpr_engine, exc)
    else:
        log.info("ALPR engine ready: %s", engine.version)


def create_app(settings: Settings, plugins: Plugins, *, watch_cameras: bool = False) -> Litestar:
    """The Seedata HTTP API for these settings and plugins; ``watch_cameras`` also runs the camera workers."""
    app = Litestar(
        plugins=[SeedataPlugin(settings, plugins, watch_cameras=watch_cameras)],
        openapi_config=OpenAPIConfig(
            title="Seedata API",
            version=__version__,
            description="Licence-plate flows from watched cameras. Authenticate with POST /authenticate, "
            "then send `Authorization: Bearer <token>`.",
            path="/schema",
            render_plugins=[JsonRenderPlugin(), SwaggerRenderPlugin()],
        ),
        # Litestar reads the body limit from its constructor only, not from an init plugin.
        request_max_body_size=settings.max_body_size,
        # Logging is the embedding program's (the CLI configures it); Litestar's default would replace it.
        logging_config=None,
        debug=False,
    )
    # Before routing, which Litestar's middleware comes after: see head.py.
    app.asgi_handler = head_as_get(app.asgi_handler)
    return app
