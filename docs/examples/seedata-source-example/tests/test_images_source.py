"""The images source, tested as its author would: a real folder, real pictures, through Seedata's plugins.

Run with the plugin installed (``pip install -e .``) and ``pytest tests``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from seedata_core.errors import ConfigError
from seedata_core.frames import Frame
from seedata_core.imaging import encode_jpeg
from seedata_core.models import Camera
from seedata_core.plugins import Plugins, make_plugin_manager
from seedata_core.sources import FrameSource


def picture(path: Path, width: int, height: int) -> Path:
    """A grey JPEG of this size: sizes tell the pictures apart once decoded."""
    frame = Frame(
        width=width, height=height, rgb=b"\x80" * (width * height * 3), captured_at=datetime.now(UTC)
    )
    path.write_bytes(encode_jpeg(frame))
    return path


def open_folder(folder: Path, **options: Any) -> closing[FrameSource]:
    """Open ``images://FOLDER`` the way Seedata does: the first kind of source that accepts it."""
    camera = Camera(id=1, alias="gate", source=f"images://{folder}")
    spec = Plugins(make_plugin_manager()).frame_source_for(camera.source)
    return closing(spec.open(camera, options))


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def sizes_seen(source: FrameSource, count: int, timeout: float = 10.0) -> set[tuple[int, int]]:
    """The frame sizes ``source`` shows, looked at every 10 ms until ``count`` differ or time is up."""
    seen: set[tuple[int, int]] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < count and time.monotonic() < deadline:
        frame = source.latest()
        if frame is not None:
            seen.add((frame.width, frame.height))
        time.sleep(0.01)
    return seen


def test_shows_every_picture_in_turn(tmp_path: Path) -> None:
    picture(tmp_path / "a.jpg", 64, 48)
    picture(tmp_path / "b.jpg", 48, 64)
    with open_folder(tmp_path, interval="0.05") as source:
        assert sizes_seen(source, 2) == {(64, 48), (48, 64)}


def test_frames_are_dated_when_seen_not_when_the_file_was_written(tmp_path: Path) -> None:
    old = (datetime.now(UTC) - timedelta(hours=1)).timestamp()
    os.utime(picture(tmp_path / "old.jpg", 32, 32), (old, old))
    with open_folder(tmp_path) as source:
        assert wait_for(lambda: source.last_frame_at is not None)
        seen_at = source.last_frame_at
        assert seen_at is not None
        assert datetime.now(UTC) - seen_at < timedelta(seconds=5)


def test_a_missing_folder_is_an_offline_camera_until_it_appears(tmp_path: Path) -> None:
    with open_folder(tmp_path / "later", interval=0.05) as source:
        assert not wait_for(lambda: source.latest() is not None, timeout=0.3)
        (tmp_path / "later").mkdir()
        picture(tmp_path / "later" / "p.png", 16, 16)
        assert wait_for(lambda: source.latest() is not None)


def test_an_unknown_option_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown field `intervall`"):
        open_folder(tmp_path, intervall=1)


def test_close_is_idempotent_and_ends_the_thread(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    with open_folder(tmp_path) as source:
        assert len(set(threading.enumerate()) - before) == 1
    source.close()
    assert set(threading.enumerate()) == before
