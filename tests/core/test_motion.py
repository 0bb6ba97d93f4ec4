"""The motion gate: what counts as change, noise and lighting that do not, keepalive and size changes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seedata_core.frames import Frame
from seedata_core.motion import MotionGate

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
WIDTH, HEIGHT = 640, 360


def scene(width: int = WIDTH, height: int = HEIGHT, seed: int = 1) -> bytes:
    """A textured picture with every value in 40..215, so +-40 never clips."""
    squeeze = bytes(40 + value * 175 // 255 for value in range(256))
    return random.Random(seed).randbytes(width * height * 3).translate(squeeze)


def noisy(rgb: bytes, amplitude: int, seed: int) -> bytes:
    """Every byte moved by an independent uniform amount in -amplitude..+amplitude, clipped to 0..255."""
    noise = random.Random(seed).randbytes(len(rgb))
    return bytes(
        min(255, max(0, value + n % (2 * amplitude + 1) - amplitude))
        for value, n in zip(rgb, noise, strict=True)
    )


def shifted(rgb: bytes, by: int) -> bytes:
    """Every value plus ``by``, clipped to 0..255: a global change of brightness."""
    return rgb.translate(bytes(min(255, max(0, value + by)) for value in range(256)))


def with_box(rgb: bytes, box: tuple[int, int, int, int], value: int, width: int = WIDTH) -> bytes:
    left, top, box_width, box_height = box
    picture = bytearray(rgb)
    for row in range(top, top + box_height):
        start = (row * width + left) * 3
        picture[start : start + box_width * 3] = bytes([value]) * (box_width * 3)
    return bytes(picture)


def brightened(rgb: bytes, box: tuple[int, int, int, int], by: int, width: int = WIDTH) -> bytes:
    left, top, box_width, box_height = box
    picture = bytearray(rgb)
    for row in range(top, top + box_height):
        start = (row * width + left) * 3
        picture[start : start + box_width * 3] = shifted(rgb[start : start + box_width * 3], by)
    return bytes(picture)


def frame(rgb: bytes, seconds: float = 0.0, width: int = WIDTH, height: int = HEIGHT) -> Frame:
    return Frame(width=width, height=height, rgb=rgb, captured_at=T0 + timedelta(seconds=seconds))


def primed(rgb: bytes, **options: float | None) -> MotionGate:
    """A gate that has let ``rgb`` through at T0 as its first frame."""
    gate = MotionGate(**options)  # type: ignore[arg-type]
    assert gate.changed(frame(rgb))
    return gate


def test_the_first_frame_is_let_through_and_an_identical_one_is_not() -> None:
    gate = MotionGate()
    assert gate.changed(frame(scene()))
    assert not gate.changed(frame(scene(), 0.04))
    assert not gate.changed(frame(scene(), 0.08))


def test_sensor_noise_of_three_levels_per_pixel_is_not_change() -> None:
    base = scene()
    gate = primed(noisy(base, 3, seed=100))
    for seed in range(101, 106):
        assert not gate.changed(frame(noisy(base, 3, seed), 0.04 * (seed - 100)))


@pytest.mark.parametrize("value", [255, 0])
def test_a_box_of_five_percent_of_the_picture_appearing_is_change(value: int) -> None:
    gate = primed(scene())
    box = (300, 150, 144, 80)  # 11520 pixels: 5 % of 640x360
    assert gate.changed(frame(noisy(with_box(scene(), box, value), 3, seed=7), 0.04))


def test_a_box_far_smaller_than_the_cell_fraction_is_not_change() -> None:
    gate = primed(scene())
    assert not gate.changed(frame(with_box(scene(), (300, 150, 20, 20), 255), 0.04))


@pytest.mark.parametrize("by", [20, -20, 40])
def test_a_global_change_of_brightness_is_not_change(by: int) -> None:
    gate = primed(scene())
    assert not gate.changed(frame(shifted(scene(), by), 0.04))


def test_brightness_and_a_box_together_are_change() -> None:
    gate = primed(scene())
    assert gate.changed(frame(with_box(shifted(scene(), 20), (300, 150, 144, 80), 255), 0.04))


def test_the_reference_is_the_last_frame_let_through() -> None:
    gate = primed(scene())
    moved = with_box(scene(), (0, 0, 144, 80), 255)
    assert gate.changed(frame(moved, 0.04))
    assert not gate.changed(frame(moved, 0.08))  # compared with `moved`, not with the first frame
    assert gate.changed(frame(scene(), 0.12))  # the box went away


def test_slow_change_adds_up_until_it_counts() -> None:
    """A box brightening by 2 levels a frame never differs from the previous frame by more than the
    threshold, but it drifts from the reference until it does, and then becomes the reference."""
    base = scene()
    gate = primed(base, keepalive=None)
    verdicts = [
        gate.changed(frame(brightened(base, (300, 150, 144, 80), 2 * step), 0.04 * step))
        for step in range(1, 9)
    ]
    assert verdicts == [False, False, False, True, False, False, False, True]


def test_keepalive_lets_a_frame_through_now_and_then() -> None:
    gate = primed(scene(), keepalive=2.0)
    assert not gate.changed(frame(scene(), 1.999))
    assert gate.changed(frame(scene(), 2.0))
    assert not gate.changed(frame(scene(), 3.5))  # counted from the frame let through at 2.0
    assert gate.changed(frame(scene(), 4.0))


def test_keepalive_counts_from_frames_let_through_for_change() -> None:
    gate = primed(scene(), keepalive=2.0)
    assert gate.changed(frame(with_box(scene(), (0, 0, 144, 80), 255), 1.5))
    assert not gate.changed(frame(with_box(scene(), (0, 0, 144, 80), 255), 3.0))
    assert gate.changed(frame(with_box(scene(), (0, 0, 144, 80), 255), 3.5))


def test_no_keepalive_never_lets_a_still_frame_through() -> None:
    gate = primed(scene(), keepalive=None)
    assert not gate.changed(frame(scene(), 3600))


def test_frame_time_going_backwards_lets_the_frame_through() -> None:
    gate = primed(scene())
    assert gate.changed(frame(scene(), -0.5))
    assert not gate.changed(frame(scene(), -0.4))


def test_a_frame_of_another_size_is_change() -> None:
    gate = primed(scene())
    assert gate.changed(frame(scene(320, 180), 0.04, 320, 180))
    assert not gate.changed(frame(scene(320, 180), 0.08, 320, 180))
    assert gate.changed(frame(scene(), 0.12))


def test_reset_forgets_the_reference() -> None:
    gate = primed(scene())
    gate.reset()
    assert gate.changed(frame(scene(), 0.04))
    assert not gate.changed(frame(scene(), 0.08))


@pytest.mark.parametrize("size", [(3, 3), (31, 17), (33, 19), (50, 7)])
def test_frames_smaller_than_the_grid_work(size: tuple[int, int]) -> None:
    width, height = size
    still = scene(width, height, seed=width)
    gate = MotionGate()
    assert gate.changed(frame(still, 0, width, height))
    assert not gate.changed(frame(still, 0.04, width, height))
    top_third = with_box(still, (0, 0, width, (height + 2) // 3), 255, width)
    assert gate.changed(frame(top_third, 0.08, width, height))


def test_a_one_pixel_frame_only_changes_with_keepalive() -> None:
    """One cell: every change is global, so the median cancels it."""
    gate = MotionGate(keepalive=2.0)
    assert gate.changed(frame(b"\x00\x00\x00", 0, 1, 1))
    assert not gate.changed(frame(b"\xff\xff\xff", 1, 1, 1))
    assert gate.changed(frame(b"\xff\xff\xff", 2, 1, 1))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"grid": (0, 18)}, "grid"),
        ({"grid": (32, 0)}, "grid"),
        ({"threshold": -1}, "threshold"),
        ({"cell_fraction": 1.5}, "cell_fraction"),
        ({"keepalive": 0}, "keepalive"),
    ],
)
def test_bad_settings_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MotionGate(**options)  # type: ignore[arg-type]


@st.composite
def frames(draw: st.DrawFn) -> Frame:
    width = draw(st.integers(1, 48))
    height = draw(st.integers(1, 48))
    rgb = draw(st.binary(min_size=width * height * 3, max_size=width * height * 3))
    return frame(rgb, draw(st.floats(-10, 10)), width, height)


@given(frames(), st.integers(0, 3), st.floats(0, 1))
def test_any_frame_compared_with_itself_is_not_change(
    picture: Frame, threshold: int, fraction: float
) -> None:
    gate = MotionGate(grid=(8, 6), threshold=threshold, cell_fraction=fraction)
    assert gate.changed(picture)
    assert not gate.changed(picture)


@given(frames(), st.integers(-30, 30))
def test_an_unclipped_global_shift_is_not_change(picture: Frame, by: int) -> None:
    squeezed = picture.rgb.translate(bytes(40 + value * 175 // 255 for value in range(256)))
    gate = MotionGate(grid=(8, 6))
    assert gate.changed(frame(squeezed, 0, picture.width, picture.height))
    assert not gate.changed(frame(shifted(squeezed, by), 0.04, picture.width, picture.height))
