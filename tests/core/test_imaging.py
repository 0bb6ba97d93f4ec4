"""Decoding and encoding still images through ffmpeg, and cropping frames."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seedata_core.frames import Frame
from seedata_core.imaging import ImageError, crop, decode_image, encode_jpeg, read_image
from seedata_core.samplevideo import bundled_sample_video

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def gradient(width: int, height: int) -> Frame:
    rgb = bytes(v for y in range(height) for x in range(width) for v in (x * 7 % 256, y * 5 % 256, 128))
    return Frame(width=width, height=height, rgb=rgb, captured_at=WHEN)


def mean_abs_diff(a: Frame, b: Frame) -> float:
    return sum(abs(x - y) for x, y in zip(a.rgb, b.rgb, strict=True)) / len(a.rgb)


def test_jpeg_round_trip_keeps_size_and_pixels_close() -> None:
    frame = gradient(64, 48)
    data = encode_jpeg(frame, quality=95)
    assert data[:2] == b"\xff\xd8"
    back = decode_image(data, captured_at=WHEN)
    assert (back.width, back.height, back.captured_at) == (64, 48, WHEN)
    assert mean_abs_diff(frame, back) < 4


def test_encoding_a_box_encodes_the_crop() -> None:
    frame = gradient(64, 48)
    back = decode_image(encode_jpeg(frame, box=(10, 5, 21, 17), quality=95))
    assert (back.width, back.height) == (21, 17)
    assert mean_abs_diff(crop(frame, (10, 5, 21, 17)), back) < 4


def test_lower_quality_is_smaller() -> None:
    frame = gradient(160, 120)
    assert len(encode_jpeg(frame, quality=20)) < len(encode_jpeg(frame, quality=95))
    with pytest.raises(ValueError, match="quality"):
        encode_jpeg(frame, quality=0)


def test_read_image_uses_the_file_time(tmp_path: Path) -> None:
    path = tmp_path / "x.jpg"
    path.write_bytes(encode_jpeg(gradient(33, 17)))
    frame = read_image(path)
    assert (frame.width, frame.height) == (33, 17)
    assert frame.captured_at == datetime.fromtimestamp(path.stat().st_mtime, UTC)


@pytest.mark.parametrize(
    ("data", "message"), [(b"", "empty"), (b"not an image at all", "decoding an image failed")]
)
def test_undecodable_data_is_an_image_error(data: bytes, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        decode_image(data)


def test_a_missing_file_is_an_image_error(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="cannot read"):
        read_image(tmp_path / "missing.png")


def test_a_slow_ffmpeg_decode_times_out() -> None:
    # Pillow cannot open a video: its first frame is ffmpeg's to decode, under the timeout.
    video = bundled_sample_video().read_bytes()
    assert decode_image(video).width == 1280
    with pytest.raises(ImageError, match="took longer than"):
        decode_image(video, timeout=0.0001)


def test_a_decompression_bomb_is_refused_without_decoding() -> None:
    header = encode_jpeg(gradient(16, 16))
    # The JPEG's SOF0 marker carries the size: claim 60000 x 60000 pixels.
    at = header.index(b"\xff\xc0") + 5
    bomb = header[:at] + (60000).to_bytes(2, "big") * 2 + header[at + 4 :]
    with pytest.raises(ImageError, match="more than 100000000"):
        decode_image(bomb, timeout=5)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 9),
    st.integers(1, 9),
    st.tuples(st.integers(-5, 12), st.integers(-5, 12), st.integers(1, 15), st.integers(1, 15)),
)
def test_crop_matches_pixel_arithmetic(width: int, height: int, box: tuple[int, int, int, int]) -> None:
    frame = gradient(width, height)
    x, y, w, h = box
    x0, y0, x1, y1 = max(0, x), max(0, y), min(width, x + w), min(height, y + h)
    if x1 <= x0 or y1 <= y0:
        with pytest.raises(ImageError, match="outside"):
            crop(frame, box)
        return
    part = crop(frame, box)
    assert (part.width, part.height) == (x1 - x0, y1 - y0)
    for row in range(part.height):
        for col in range(part.width):
            src = ((y0 + row) * width + x0 + col) * 3
            dst = (row * part.width + col) * 3
            assert part.rgb[dst : dst + 3] == frame.rgb[src : src + 3]
