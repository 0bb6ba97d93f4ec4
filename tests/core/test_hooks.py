"""Each hook spec is documented, has a test of its own here, and works through the plugin manager."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from seedata_core import hookimpl, hookspecs
from seedata_core.alpr import AlprEngine, AlprEngineSpec, PlateRead
from seedata_core.errors import PluginError
from seedata_core.frames import Frame
from seedata_core.models import Camera
from seedata_core.plugins import Plugins, make_plugin_manager
from seedata_core.settings import Settings
from seedata_core.sources import FrameSource, FrameSourceSpec
from seedata_core.storage import Storage, StorageSpec

HOOKS = sorted(
    name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("seedata_")
)


def plugins_with(*extra: object) -> Plugins:
    return Plugins(make_plugin_manager(extra=extra, load_entry_points=False))


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_is_documented(name: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert len(doc.split()) >= 30, f"{name} needs a docstring that documents the hook for plugin authors"
    assert "register" in doc


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_has_a_test(name: str) -> None:
    assert callable(getattr(sys.modules[__name__], f"test_hook_{name}", None)), f"write test_hook_{name}"


def test_misspelled_hook_is_an_error() -> None:
    class Typo:
        @hookimpl
        def seedata_register_storage(self, register: Callable[[StorageSpec], None]) -> None: ...

    with pytest.raises(PluginError, match="unknown hook"):
        make_plugin_manager(extra=[Typo()], load_entry_points=False)


def test_blocked_plugins_are_not_called() -> None:
    class Engines:
        @hookimpl
        def seedata_register_alpr_engines(self, register: Callable[[AlprEngineSpec], None]) -> None:
            raise AssertionError("blocked plugin was called")

    pm = make_plugin_manager(blocked=["engines"], load_entry_points=False)
    assert pm.register(Engines(), name="engines") is None
    assert Plugins(pm).alpr_engines() == []


class _Engine:
    name = "fixed"
    version = "fixed 1"

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.options = options

    def read(self, frame: Frame, *, country: str | None = None) -> list[PlateRead]:
        return [PlateRead(plate="ABC1234", score=0.9, box=(0, 0, frame.width, frame.height), country=country)]


class EnginePlugin:
    @hookimpl
    def seedata_register_alpr_engines(self, register: Callable[[AlprEngineSpec], None]) -> None:
        register(AlprEngineSpec(name="fixed", version="fixed 1", create=_Engine))


def test_hook_seedata_register_alpr_engines() -> None:
    plugins = plugins_with(EnginePlugin())
    spec = plugins.alpr_engine("fixed")
    engine = spec.create({"threads": 1})
    assert isinstance(engine, AlprEngine)
    frame = Frame(width=2, height=1, rgb=bytes(6), captured_at=datetime.now(UTC))
    assert engine.read(frame, country="br")[0].plate == "ABC1234"
    with pytest.raises(PluginError, match="no ALPR engine named 'other'"):
        plugins.alpr_engine("other")


def test_duplicate_names_are_rejected() -> None:
    class Again(EnginePlugin):
        pass

    with pytest.raises(PluginError, match="two plugins register a ALPR engine named 'fixed'"):
        plugins_with(EnginePlugin(), Again()).alpr_engines()


class _Source:
    def __init__(self, camera: Camera, options: Mapping[str, Any]) -> None:
        self.camera = camera
        self.closed = False

    @property
    def last_frame_at(self) -> datetime | None:
        return None

    def latest(self) -> Frame | None:
        return None

    def close(self) -> None:
        self.closed = True


class SourcePlugin:
    @hookimpl
    def seedata_register_frame_sources(self, register: Callable[[FrameSourceSpec], None]) -> None:
        register(FrameSourceSpec(name="null", accepts=lambda s: s.startswith("null:"), open=_Source))


def test_hook_seedata_register_frame_sources() -> None:
    plugins = plugins_with(SourcePlugin())
    spec = plugins.frame_source_for("null:cam")
    source = spec.open(Camera(id=1, alias="c", source="null:cam"), {})
    assert isinstance(source, FrameSource)
    assert source.latest() is None
    with pytest.raises(PluginError, match="no frame-source plugin can open"):
        plugins.frame_source_for("rtsp://cam")


class StoragePlugin:
    def __init__(self, name: str, schemes: tuple[str, ...]) -> None:
        self.name = name
        self.schemes = schemes

    @hookimpl
    def seedata_register_storages(self, register: Callable[[StorageSpec], None]) -> None:
        register(StorageSpec(name=self.name, schemes=self.schemes, open=self.open))

    def open(self, settings: Settings) -> Storage:
        raise NotImplementedError


def test_hook_seedata_register_storages() -> None:
    plugins = plugins_with(StoragePlugin("mem", ("memory",)))
    assert plugins.storage_for_url("memory://x").name == "mem"
    assert plugins.storage_for_url("memory+fast://x").name == "mem"
    with pytest.raises(PluginError, match="no storage plugin serves 'redis'"):
        plugins.storage_for_url("redis://x")


def test_two_storages_cannot_claim_one_scheme() -> None:
    plugins = plugins_with(StoragePlugin("a", ("memory",)), StoragePlugin("b", ("memory", "x")))
    with pytest.raises(PluginError, match="both claim the 'memory' scheme"):
        plugins.storages()


# Hooks that no default plugin implements yet, with the issue that brings the plugin.
AWAITING_DEFAULT_PLUGIN: dict[str, str] = {}


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_is_used_by_a_default_plugin(name: str) -> None:
    pm = make_plugin_manager()
    implemented = bool(pm.hook.__dict__[name].get_hookimpls())
    if name in AWAITING_DEFAULT_PLUGIN:
        assert not implemented, f"{name} has a default plugin now: remove it from AWAITING_DEFAULT_PLUGIN"
    else:
        assert implemented, f"no installed default plugin implements {name}"
