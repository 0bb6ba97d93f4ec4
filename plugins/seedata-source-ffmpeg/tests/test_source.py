"""The ffmpeg source against real ffmpeg processes, a real H.264 file and real (dead or hung) servers."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from seedata_source_ffmpeg import FfmpegOptions, FfmpegSource

from seedata_core.errors import ConfigError
from seedata_core.models import Camera
from seedata_core.plugins import Plugins, make_plugin_manager
from seedata_core.sources import FrameSource

VIDEO_SIZE = (320, 240)
VIDEO_FPS = 10


@pytest.fixture(scope="session")
def video(make_video: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two seconds of ffmpeg's moving test pattern, 320x240 at 10 fps, a key frame every second."""
    path = tmp_path_factory.mktemp("video") / "testsrc.mp4"
    return make_video(path, size=VIDEO_SIZE, fps=VIDEO_FPS, seconds=2)


# Retry fast so that tests of reconnecting take a fraction of a second.
QUICK = {"reconnect_initial": 0.05, "reconnect_max": 0.2}


def wait_until(condition: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s")
        time.sleep(0.01)


@pytest.fixture
def open_source() -> Iterator[Callable[..., FfmpegSource]]:
    """Opens sources and closes every one of them after the test, even a failed one."""
    sources: list[FfmpegSource] = []

    def opener(source: str | Path, **options: object) -> FfmpegSource:
        sources.append(FfmpegSource(str(source), FfmpegOptions.from_mapping(options)))
        return sources[-1]

    yield opener
    for source in sources:
        source.close()


def ffmpeg_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("ffmpeg")]


def test_a_video_file_gives_fresh_frames_and_loops(
    video: Path, open_source: Callable[..., FfmpegSource]
) -> None:
    source = open_source(video)
    wait_until(source.latest)
    first = source.latest()
    assert first is not None
    assert (first.width, first.height) == VIDEO_SIZE
    assert any(first.rgb), "a black frame: the pipe was read out of step"
    assert datetime.now(UTC) - first.captured_at < timedelta(seconds=1)
    assert source.last_frame_at == first.captured_at
    wait_until(lambda: source.last_frame_at != first.captured_at)
    second = source.latest()
    assert second is not None
    assert second.captured_at > first.captured_at
    assert second.rgb != first.rgb, "testsrc moves: consecutive frames differ"
    # The file holds 2 s (20 frames); more frames from the same process means it looped.
    wait_until(lambda: source.frames > 2 * VIDEO_FPS + 5, timeout=6)
    assert source.runs == 1


def test_size_and_fps_cap(video: Path, open_source: Callable[..., FfmpegSource]) -> None:
    capped = open_source(video, size="64x48", max_fps=VIDEO_FPS / 2)
    full = open_source(video)
    wait_until(lambda: capped.latest() and full.latest())
    time.sleep(0.8)  # past ffmpeg's initial read burst
    capped_before, full_before = capped.frames, full.frames
    time.sleep(2.0)
    capped_rate = (capped.frames - capped_before) / 2.0
    full_rate = (full.frames - full_before) / 2.0
    # -re plays the file at its real rate; the cap halves it.
    assert full_rate == pytest.approx(VIDEO_FPS, abs=2)
    assert capped_rate == pytest.approx(VIDEO_FPS / 2, abs=1.5)
    frame = capped.latest()
    assert frame is not None
    assert (frame.width, frame.height) == (64, 48)


def test_close_stops_ffmpeg_and_every_thread(video: Path, open_source: Callable[..., FfmpegSource]) -> None:
    source = open_source(video)
    wait_until(source.latest)
    pid = source.pid
    assert pid is not None
    source.close()
    assert source.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert ffmpeg_threads() == []
    stopped_at = source.last_frame_at
    time.sleep(0.3)
    assert source.last_frame_at == stopped_at
    source.close()
    assert source.runs == 1


@pytest.mark.parametrize("address", ["missing.mp4", "rtsp://127.0.0.1:1/stream"])
def test_unreachable_sources_never_yield_frames(
    address: str, tmp_path: Path, open_source: Callable[..., FfmpegSource]
) -> None:
    source = open_source(address if "://" in address else tmp_path / address, **QUICK)
    wait_until(lambda: source.runs >= 3)
    assert source.latest() is None
    assert source.last_frame_at is None
    assert source.frames == 0
    source.close()
    assert ffmpeg_threads() == []


def test_a_killed_ffmpeg_is_restarted(video: Path, open_source: Callable[..., FfmpegSource]) -> None:
    source = open_source(video, **QUICK)
    wait_until(source.latest)
    pid = source.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: source.runs == 2)
    resumed_from = source.frames
    wait_until(lambda: source.frames > resumed_from)
    assert source.pid not in (None, pid)


def test_a_stalled_ffmpeg_is_restarted(video: Path, open_source: Callable[..., FfmpegSource]) -> None:
    source = open_source(video, stall_timeout=0.5, **QUICK)
    wait_until(source.latest)
    pid = source.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # alive but silent, like a decoder stuck on a dead connection
    stalled_at = time.monotonic()
    wait_until(lambda: source.runs == 2)
    assert time.monotonic() - stalled_at == pytest.approx(0.5, abs=0.4)
    resumed_from = source.frames
    wait_until(lambda: source.frames > resumed_from)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_hung_server_is_dropped_and_retried(open_source: Callable[..., FfmpegSource]) -> None:
    """A server that accepts and never answers: each attempt is given up after open_timeout."""
    accepted: list[socket.socket] = []
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        def accept() -> None:
            while len(accepted) < 3:
                accepted.append(server.accept()[0])

        acceptor = threading.Thread(target=accept, daemon=True)
        acceptor.start()
        source = open_source(f"http://127.0.0.1:{port}/video", open_timeout=0.4, **QUICK)
        acceptor.join(timeout=5)
        assert len(accepted) == 3, "ffmpeg did not reconnect after giving up on the silent server"
        assert source.latest() is None
        source.close()
    for connection in accepted:
        connection.close()


def test_the_plugin_is_found_through_its_entry_point(video: Path) -> None:
    plugins = Plugins(make_plugin_manager())
    for address in ["rtsp://cam/s", "https://cam/v.mjpg", str(video)]:
        assert plugins.frame_source_for(address).name == "ffmpeg"
    spec = plugins.frame_source_for(str(video))
    camera = Camera(id=1, alias="gate", source=str(video))
    source = spec.open(camera, {"size": "32x24"})
    try:
        assert isinstance(source, FrameSource)
        wait_until(source.latest)
        frame = source.latest()
        assert frame is not None
        assert (frame.width, frame.height) == (32, 24)
    finally:
        source.close()
    with pytest.raises(ConfigError, match="unknown field `fps`"):
        spec.open(camera, {"fps": 5})
