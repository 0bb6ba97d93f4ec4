"""The ffmpeg command line per kind of source, what the plugin accepts, and the size in ffmpeg's log."""

from __future__ import annotations

from pathlib import Path

import pytest
from seedata_source_ffmpeg import FfmpegOptions, accepts, build_command
from seedata_source_ffmpeg.command import output_size

HEAD = ["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info"]
LOW_DELAY = ["-flags", "low_delay"]
NO_BUFFER = ["-fflags", "nobuffer", *LOW_DELAY]
MAP = ["-map", "0:v:0", "-an", "-sn", "-dn"]
RTSP_TCP = ["-rtsp_transport", "tcp", "-timeout", "5000000"]
SELECT_5_FPS = r"select=isnan(prev_selected_t)+gte(t-prev_selected_t\,0.199000)"
TAIL = ["-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]


@pytest.mark.parametrize(
    ("source", "options", "middle"),
    [
        (
            "rtsp://u:p@cam/s",
            FfmpegOptions(),
            [*RTSP_TCP, *NO_BUFFER, "-i", "rtsp://u:p@cam/s", *MAP],
        ),
        (
            "RTSPS://cam/s",
            FfmpegOptions(transport="udp"),
            ["-rtsp_transport", "udp", "-timeout", "5000000", *NO_BUFFER, "-i", "RTSPS://cam/s", *MAP],
        ),
        (
            "https://cam/video.mjpg",
            FfmpegOptions(),
            ["-rw_timeout", "5000000", *NO_BUFFER, "-i", "https://cam/video.mjpg", *MAP],
        ),
        ("/v/a.mp4", FfmpegOptions(), ["-re", "-stream_loop", "-1", *LOW_DELAY, "-i", "/v/a.mp4", *MAP]),
        ("/v/a.mp4", FfmpegOptions(loop=False), ["-re", *LOW_DELAY, "-i", "/v/a.mp4", *MAP]),
        (
            "/v/a.mp4",
            FfmpegOptions(keyframes_only=True, size="640x360"),
            [
                "-re",
                "-stream_loop",
                "-1",
                *LOW_DELAY,
                "-skip_frame",
                "nokey",
                "-i",
                "/v/a.mp4",
                *MAP,
                "-vf",
                "scale=640:360",
            ],
        ),
        (
            "rtsp://cam/s",
            FfmpegOptions(max_fps=5, size="64x48"),
            [
                *RTSP_TCP,
                *NO_BUFFER,
                "-i",
                "rtsp://cam/s",
                *MAP,
                "-vf",
                SELECT_5_FPS + ",scale=64:48",
            ],
        ),
    ],
)
def test_command(source: str, options: FfmpegOptions, middle: list[str]) -> None:
    assert build_command("ffmpeg", source, options) == [*HEAD, *middle, *TAIL]


def test_accepts_streams_and_existing_files(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"")
    for source in [
        "rtsp://cam/s",
        "RTSP://cam/s",
        "rtsps://cam",
        "http://cam/v",
        "https://cam/v",
        str(video),
    ]:
        assert accepts(source), source
    for source in [str(tmp_path / "missing.mp4"), str(tmp_path), "udp://cam:5000", "null:cam", "ftp://x/v"]:
        assert not accepts(source), source


OUTPUT_LINE = (
    "  Stream #0:0(und): Video: rawvideo (RGB[24] / 0x18424752), rgb24(pc, gbr/unknown/unknown, "
    "progressive), 1280x720 [SAR 1:1 DAR 16:9], q=2-31, 552960 kb/s, 25 fps, 25 tbn (default)"
)


@pytest.mark.parametrize(
    ("line", "size"),
    [
        (OUTPUT_LINE, (1280, 720)),
        (OUTPUT_LINE.replace(" [SAR 1:1 DAR 16:9]", ""), (1280, 720)),
        ("  Stream #0:0: Video: rawvideo (RGB[24] / 0x18424752), rgb24, 64x48, 25 fps", (64, 48)),
        (
            "  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), "
            "320x240 [SAR 1:1 DAR 4:3], 51 kb/s, 10 fps",
            None,
        ),
        ("Output #0, rawvideo, to 'pipe:1':", None),
        ("frame=    5 fps=0.0 q=-0.0 size=1125KiB", None),
    ],
)
def test_output_size(line: str, size: tuple[int, int] | None) -> None:
    assert output_size(line) == size
