"""Building the plugin manager and calling hooks through a small typed facade.

The manager is made by a factory, never kept in a module global, so each test and each embedding
program gets its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar
from urllib.parse import urlsplit

import pluggy

from . import hookspecs
from .alpr import AlprEngineSpec
from .errors import PluginError
from .sources import FrameSourceSpec
from .storage import StorageSpec

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = hookspecs.PROJECT_NAME

Spec = TypeVar("Spec", StorageSpec, AlprEngineSpec, FrameSourceSpec)


def make_plugin_manager(
    *, blocked: Iterable[str] = (), extra: Iterable[object] = (), load_entry_points: bool = True
) -> pluggy.PluginManager:
    """A plugin manager with Seedata's hook specs and the installed plugins.

    ``blocked`` names entry points (or plugin names) not to load; ``extra`` registers plugin objects
    directly (handy for tests and embedding programs). Misspelled hook implementations are an error.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name in blocked:
        pm.set_blocked(name)
    if load_entry_points:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in extra:
        pm.register(plugin)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(str(exc)) from exc
    return pm


def _collect(hook: Callable[..., object], kind: str) -> list[Spec]:
    specs: list[Spec] = []
    names: set[str] = set()

    def register(spec: Spec) -> None:
        if spec.name in names:
            raise PluginError(f"two plugins register a {kind} named {spec.name!r}")
        names.add(spec.name)
        specs.append(spec)

    hook(register=register)
    return specs


class Plugins:
    """What the installed plugins provide, looked up by name; the one way core calls hooks."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm

    def storages(self) -> list[StorageSpec]:
        """Every registered storage backend; no two may claim one scheme."""
        specs: list[StorageSpec] = _collect(self.pm.hook.seedata_register_storages, "storage")
        claimed: dict[str, str] = {}
        for spec in specs:
            for scheme in spec.schemes:
                if scheme in claimed:
                    raise PluginError(
                        f"storages {claimed[scheme]!r} and {spec.name!r} both claim the {scheme!r} scheme"
                    )
                claimed[scheme] = spec.name
        return specs

    def storage_for_url(self, database_url: str) -> StorageSpec:
        """The storage serving this URL's scheme (``postgresql+psycopg`` counts as ``postgresql``)."""
        scheme = urlsplit(database_url).scheme.split("+", 1)[0]
        for spec in self.storages():
            if scheme in spec.schemes:
                return spec
        known = sorted(s for spec in self.storages() for s in spec.schemes)
        raise PluginError(
            f"no storage plugin serves {scheme!r} URLs (installed: {', '.join(known) or 'none'}); "
            "install seedata-storage-sql"
        )

    def alpr_engines(self) -> list[AlprEngineSpec]:
        """Every registered ALPR engine, in registration order."""
        return _collect(self.pm.hook.seedata_register_alpr_engines, "ALPR engine")

    def alpr_engine(self, name: str) -> AlprEngineSpec:
        """The ALPR engine registered under ``name``."""
        engines = self.alpr_engines()
        for spec in engines:
            if spec.name == name:
                return spec
        known = ", ".join(spec.name for spec in engines) or "none"
        raise PluginError(f"no ALPR engine named {name!r} is installed (installed: {known})")

    def frame_sources(self) -> list[FrameSourceSpec]:
        """Every registered kind of frame source, in registration order."""
        return _collect(self.pm.hook.seedata_register_frame_sources, "frame source")

    def frame_source_for(self, source: str) -> FrameSourceSpec:
        """The first frame-source kind that accepts this camera source."""
        for spec in self.frame_sources():
            if spec.accepts(source):
                return spec
        raise PluginError(f"no frame-source plugin can open {source!r}")
