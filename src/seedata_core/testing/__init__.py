"""Pytest fixtures for people who write Seedata plugins, loaded through the ``pytest11`` entry point.

- ``seedata_settings``: :class:`~seedata_core.settings.Settings` on a fresh temporary data directory (UTC).
- ``seedata_storage``: the installed default storage opened on those settings (SQLite), closed after the test.
- ``fake_alpr_engine``: an :class:`~seedata_core.alpr.AlprEngine` that answers the plates you give it,
  for testing code around an engine without loading a model.
- ``rtsp_server``: starts real RTSP cameras on loopback that loop a video file (GStreamer's server,
  from Debian packages); ``rtsp_server(path).url``, and ``.stop()``/``.start()`` to take one away and back.
- ``make_video``: ``make_video(path, size=(w, h), fps=n, seconds=s)`` writes an H.264 test pattern.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..alpr import PlateRead
from ..frames import Frame
from ..plugins import Plugins, make_plugin_manager
from ..settings import Settings
from ..storage import Storage
from .rtsp import RtspServer, gstreamer_rtsp, rtsp_server
from .videos import make_test_video, make_video

__all__ = [
    "FakeAlprEngine",
    "RtspServer",
    "fake_alpr_engine",
    "gstreamer_rtsp",
    "make_test_video",
    "make_video",
    "rtsp_server",
    "seedata_settings",
    "seedata_storage",
]


class FakeAlprEngine:
    """Answers ``plates`` for every frame (boxes cover the whole frame); counts its calls."""

    name = "fake"
    version = "fake 1.0"

    def __init__(self, plates: list[str] | None = None, score: float = 0.9) -> None:
        self.plates = plates or []
        self.score = score
        self.calls = 0

    def read(self, frame: Frame, *, country: str | None = None) -> list[PlateRead]:
        self.calls += 1
        box = (0, 0, frame.width, frame.height)
        return [PlateRead(plate=p, score=self.score, box=box, country=country) for p in self.plates]


@pytest.fixture
def seedata_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=str(tmp_path / "seedata-data"), timezone="UTC")


@pytest.fixture
def seedata_storage(seedata_settings: Settings) -> Iterator[Storage]:
    plugins = Plugins(make_plugin_manager(blocked=seedata_settings.plugins_blocked))
    storage = plugins.storage_for_url(seedata_settings.resolved_database_url).open(seedata_settings)
    try:
        yield storage
    finally:
        storage.close()


@pytest.fixture
def fake_alpr_engine() -> FakeAlprEngine:
    return FakeAlprEngine(["ABC1234"])
