"""Generated test videos: ffmpeg's moving test pattern, encoded as cameras send it."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from ..imaging import ffmpeg_exe


def make_test_video(path: Path, *, size: tuple[int, int], fps: int, seconds: float) -> Path:
    """ffmpeg's moving test pattern in H.264 as cameras send it: a key frame a second, no B-frames."""
    width, height = size
    subprocess.run(
        [
            ffmpeg_exe(),
            *("-hide_banner", "-loglevel", "error", "-f", "lavfi"),
            *("-i", f"testsrc=size={width}x{height}:rate={fps}", "-t", str(seconds)),
            *("-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", str(fps), "-bf", "0", str(path)),
        ],
        check=True,
    )
    return path


@pytest.fixture(scope="session")
def make_video() -> Callable[..., Path]:
    """``make_video(path, size=(w, h), fps=n, seconds=s)``: a generated H.264 test video."""
    return make_test_video
