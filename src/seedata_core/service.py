"""An open Seedata installation: settings, plugins, storage and auth wired together.

This is the entry point for embedding programs and the one object the HTTP server and the CLI hold::

    from seedata_core import Settings
    from seedata_core.service import Seedata

    with Seedata.open(Settings(data_dir="./seedata-data")) as seedata:
        page, flows = seedata.search_flows({"plate": {"like": "abc"}})
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Self

from .auth import Authenticator, LoginThrottle, TokenService
from .errors import NotFound
from .filter_ast import Node
from .filters import parse_filter
from .models import Camera, Flow, FlowImages
from .pagination import Page, PageRequest
from .plugins import Plugins, make_plugin_manager
from .settings import Settings
from .storage import Storage
from .timezones import DisplayZone

log = logging.getLogger(__name__)


class Seedata:
    """Everything core offers, for one data directory and database."""

    def __init__(self, settings: Settings, plugins: Plugins, storage: Storage) -> None:
        self.settings = settings
        self.plugins = plugins
        self.storage = storage
        self.zone = DisplayZone(settings.timezone)
        self.tokens = TokenService(storage, lifetime=settings.token_lifetime)
        self.auth = Authenticator(
            storage,
            self.tokens,
            LoginThrottle(
                per_address=settings.login_attempts_per_address,
                per_account=settings.login_attempts_per_account,
                window=settings.login_window,
            ),
        )

    @classmethod
    def open(cls, settings: Settings, plugins: Plugins | None = None) -> Self:
        """Load the plugins (unless given), open the configured storage and make sure a signing key exists."""
        if plugins is None:
            plugins = Plugins(make_plugin_manager(blocked=settings.plugins_blocked))
        storage = plugins.storage_for_url(settings.resolved_database_url).open(settings)
        seedata = cls(settings, plugins, storage)
        seedata.tokens.ensure_key()
        return seedata

    def close(self) -> None:
        self.storage.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- flows -----------------------------------------------------------------------------------
    def parse_filter(self, raw: object) -> Node:
        """A client's filter object, checked and typed (``FilterError`` when malformed)."""
        return parse_filter(raw, self.zone)

    def search_flows(
        self, raw_filter: object = None, request: PageRequest | None = None
    ) -> tuple[Page, list[Flow]]:
        """One page of the flows matching a client's filter, newest first."""
        where = self.parse_filter(raw_filter)
        return self.page_flows(where, request or PageRequest())

    def page_flows(self, where: Node, request: PageRequest) -> tuple[Page, list[Flow]]:
        total = self.storage.count_flows(where)
        page = Page.resolve(request, total)
        if total == 0:
            return page, []
        return page, self.storage.search_flows(where, offset=page.offset, limit=page.per_page)

    def get_flow(self, flow_id: int) -> tuple[Flow, FlowImages]:
        """A flow with its pictures; ``NotFound("Object not found: <id>")`` when absent."""
        flow = self.storage.get_flow(flow_id) if 0 < flow_id < 2**63 else None
        if flow is None:
            raise NotFound(f"Object not found: {flow_id}")
        return flow, self.storage.get_images(flow)

    # -- cameras ---------------------------------------------------------------------------------
    def cameras(self) -> list[Camera]:
        return self.storage.list_cameras()
