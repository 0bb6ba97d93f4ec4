"""The ffmpeg source against a real RTSP camera: GStreamer's RTSP server on loopback (``rtsp_server.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import pytest
from seedata_source_ffmpeg import FfmpegSource

from seedata_core.cameras import FRESHNESS, camera_status
from seedata_core.models import Camera

VIDEO_SIZE = (320, 180)
# 25 fps like most cameras: ffmpeg's stream probe of RTSP waits for about 20 frames to guess the rate.
VIDEO_FPS = 25
VIDEO_SECONDS = 2


class RtspCamera(Protocol):
    """What these tests use of conftest's ``RtspServer``."""

    url: str

    def start(self) -> None: ...
    def stop(self) -> None: ...


@pytest.fixture(scope="module")
def video(make_video: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two seconds of ffmpeg's moving test pattern in H.264, a key frame a second, no B-frames, as cameras."""
    path = tmp_path_factory.mktemp("rtsp") / "testsrc.mp4"
    return make_video(path, size=VIDEO_SIZE, fps=VIDEO_FPS, seconds=VIDEO_SECONDS)


@pytest.fixture
def camera(rtsp_server: Callable[[Path], RtspCamera], video: Path) -> RtspCamera:
    return rtsp_server(video)


@pytest.fixture
def source(camera: RtspCamera) -> Iterator[FfmpegSource]:
    """The real source on the camera, with its default options (TCP, backoff capped at 2 s)."""
    with FfmpegSource(camera.url) as opened:
        yield opened


def wait_until(condition: Callable[[], object], timeout: float = 5.0) -> float:
    """Seconds it took ``condition`` to become true; fails after ``timeout``."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not true within {timeout} s")
        time.sleep(0.02)
    return time.monotonic() - start


def age(source: FfmpegSource) -> timedelta:
    """How old the source's newest frame is now (``last_frame_at`` is set when a frame is decoded)."""
    assert source.last_frame_at is not None
    return datetime.now(UTC) - source.last_frame_at


def status(source: FfmpegSource) -> str:
    """The camera's status by the 5 s freshness rule, as Seedata derives it from its keep-alive."""
    camera = Camera(id=1, alias="gate", source=source.source, keep_alive=source.last_frame_at)
    return camera_status(camera, datetime.now(UTC))


def test_frames_arrive_with_the_stream_size_and_stay_fresh(source: FfmpegSource) -> None:
    wait_until(source.latest)
    frame = source.latest()
    assert frame is not None
    assert (frame.width, frame.height) == VIDEO_SIZE
    assert any(frame.rgb), "a black frame: the pipe was read out of step"
    # Sampled over a second: at 25 fps the newest frame is never much older than one frame interval (40 ms).
    ages = []
    for _ in range(20):
        time.sleep(0.05)
        ages.append(age(source))
    assert max(ages) < timedelta(milliseconds=250), ages
    assert status(source) == "online"


def test_frames_keep_coming_across_the_loop_of_the_file(source: FfmpegSource) -> None:
    """The server loops a 2 s file: its timestamps must keep increasing or ffmpeg stalls after a loop."""
    wait_until(source.latest)
    start_frames = source.frames
    clip_frames = VIDEO_FPS * VIDEO_SECONDS
    # Well past two loop points, from one connection and at about the file's own rate.
    took = wait_until(lambda: source.frames - start_frames >= 2 * clip_frames + 5, timeout=8)
    rate = (source.frames - start_frames) / took
    assert rate == pytest.approx(VIDEO_FPS, rel=0.35)
    assert source.runs == 1
    assert age(source) < timedelta(milliseconds=250)


def test_a_killed_camera_goes_offline_then_comes_back_on_the_same_port(
    camera: RtspCamera, source: FfmpegSource
) -> None:
    wait_until(source.latest)
    url = camera.url
    camera.stop()
    killed = time.monotonic()
    killed_at = datetime.now(UTC)
    time.sleep(0.3)  # frames still in flight when the server died
    stopped_at = source.last_frame_at
    assert stopped_at is not None
    assert stopped_at <= killed_at + timedelta(milliseconds=300)
    # Offline by the 5 s rule once its newest frame is older than FRESHNESS: ~5 s after the kill.
    wait_until(lambda: status(source) == "offline", timeout=7)
    offline_after = time.monotonic() - killed
    assert FRESHNESS.total_seconds() - 0.5 <= offline_after <= FRESHNESS.total_seconds() + 1.5
    assert source.last_frame_at == stopped_at, "a frame arrived while the server was down"
    assert source.runs >= 2, "ffmpeg did not notice the server went away"

    camera.start()
    assert camera.url == url
    returned_at = datetime.now(UTC)
    back_after = wait_until(
        lambda: source.last_frame_at is not None and source.last_frame_at > returned_at, timeout=5
    )
    assert status(source) == "online"
    frame = source.latest()
    assert frame is not None
    assert (frame.width, frame.height) == VIDEO_SIZE
    print(f"offline {offline_after:.2f} s after the kill; frames again {back_after:.2f} s after the return")
