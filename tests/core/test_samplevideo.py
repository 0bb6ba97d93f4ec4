"""The sample video: generated with ffmpeg, its plates read by the real default engine."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seedata_core.alpr import AlprEngine
from seedata_core.frames import Frame
from seedata_core.imaging import decode_image, ffmpeg_exe
from seedata_core.plugins import Plugins, make_plugin_manager
from seedata_core.samplevideo import (
    DEFAULT_FPS,
    DEFAULT_PLATES,
    DEFAULT_SECONDS_PER_VEHICLE,
    DEFAULT_SIZE,
    bundled_sample_video,
    make_sample_video,
    sample_timeline,
)

SMALL_PLATES = ("BRA2E19", "ABC1234")
SMALL_SECONDS = 2.0


@pytest.fixture(scope="module")
def engine() -> AlprEngine:
    return Plugins(make_plugin_manager()).alpr_engine("ppocr").create({})


@pytest.fixture(scope="module")
def small_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("video") / "small.mp4"
    made = make_sample_video(
        path, plates=SMALL_PLATES, seconds_per_vehicle=SMALL_SECONDS, size=(640, 360), fps=25
    )
    assert made == path
    return path


def frame_at(video: Path, seconds: float) -> Frame:
    """The frame shown at ``seconds``, decoded through a PNG as a frame source's still would be."""
    png = subprocess.run(
        [
            *(ffmpeg_exe(), "-loglevel", "error", "-nostdin", "-ss", f"{seconds:.3f}", "-i", str(video)),
            *("-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "pipe:1"),
        ],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    return decode_image(png)


def probe(video: Path) -> dict[str, str]:
    """Duration, codec, pixel format, size and frame rate from ffmpeg's description of ``video``."""
    described = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(video)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    ).stderr
    duration = re.search(r"Duration: (\d\d:\d\d:\d\d\.\d\d)", described)
    stream = re.search(r"Video: (\w+) .*?, (\w+)\(.*?, (\d+)x(\d+).*?, ([\d.]+) fps", described)
    assert duration, described
    assert stream, described
    codec, pix_fmt, width, height, fps = stream.groups()
    return {
        "duration": duration[1],
        "codec": codec,
        "pix_fmt": pix_fmt,
        "size": f"{width}x{height}",
        "fps": fps,
    }


def test_each_plate_is_read_when_its_vehicle_is_in_the_middle(engine: AlprEngine, small_video: Path) -> None:
    for vehicle in sample_timeline(SMALL_PLATES, SMALL_SECONDS):
        frame = frame_at(small_video, vehicle.middle)
        reads = engine.read(frame, country="br")
        assert [read.plate for read in reads[:1]] == [vehicle.plate], reads
        x, _, w, _ = reads[0].box
        assert abs(x + w / 2 - frame.width / 2) < frame.width * 0.05  # centred, as documented


def test_no_plate_is_read_in_the_gaps_between_vehicles(engine: AlprEngine, small_video: Path) -> None:
    timeline = sample_timeline(SMALL_PLATES, SMALL_SECONDS)
    gaps = [timeline[0].enters / 2, (timeline[0].leaves + timeline[1].enters) / 2]
    for seconds in gaps:
        assert engine.read(frame_at(small_video, seconds), country="br") == [], seconds


def test_the_small_video_is_what_was_asked(small_video: Path) -> None:
    assert probe(small_video) == {
        "duration": "00:00:04.00",
        "codec": "h264",
        "pix_fmt": "yuv420p",
        "size": "640x360",
        "fps": "25",
    }


def test_the_bundled_video_is_the_generator_with_its_defaults(engine: AlprEngine) -> None:
    bundled = bundled_sample_video()
    assert bundled.is_file()
    assert bundled.stat().st_size < 1_000_000
    seconds = len(DEFAULT_PLATES) * DEFAULT_SECONDS_PER_VEHICLE
    assert probe(bundled) == {
        "duration": f"00:00:{seconds:05.2f}",
        "codec": "h264",
        "pix_fmt": "yuv420p",
        "size": f"{DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]}",
        "fps": str(DEFAULT_FPS),
    }
    for vehicle in sample_timeline():
        reads = engine.read(frame_at(bundled, vehicle.middle), country="br")
        assert [read.plate for read in reads[:1]] == [vehicle.plate], reads


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"plates": ()}, "at least one plate"),
        ({"plates": ("abc1234",)}, "upper-case"),
        ({"plates": ("ABC-1234",)}, "upper-case"),
        ({"size": (641, 360)}, "even"),
        ({"size": (160, 90)}, "at least"),
        ({"fps": 0}, "positive"),
        ({"font": "/tmp/a font:b.ttf"}, "font path"),
    ],
)
def test_bad_arguments_are_refused_before_ffmpeg_runs(
    tmp_path: Path, arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make_sample_video(tmp_path / "x.mp4", **arguments)  # type: ignore[arg-type]
    assert not (tmp_path / "x.mp4").exists()


@given(
    count=st.integers(min_value=1, max_value=6),
    seconds=st.floats(min_value=0.5, max_value=30, allow_nan=False),
)
def test_the_timeline_gives_each_vehicle_its_own_segment_with_empty_road_around_it(
    count: int, seconds: float
) -> None:
    timeline = sample_timeline([f"AAA{i:04d}" for i in range(count)], seconds)
    assert len(timeline) == count
    previous_leaves = 0.0
    for i, vehicle in enumerate(timeline):
        assert i * seconds < vehicle.enters < vehicle.middle < vehicle.leaves < (i + 1) * seconds
        assert vehicle.middle == pytest.approx((i + 0.5) * seconds)
        assert vehicle.enters > previous_leaves
        previous_leaves = vehicle.leaves
