"""Still images in and out of :class:`~seedata_core.frames.Frame`: decode files, encode JPEG, crop.

Pillow encodes and decodes in-process: every flow encodes two JPEGs, and starting an ffmpeg process for
each cost ~14 ms of the ~57 ms a manual trigger spent on its pictures (``benchmarks/capture.py``).
Pictures Pillow cannot open go to the ffmpeg binary that ``imageio-ffmpeg`` ships, through pipes and
under a timeout, so a broken or hostile file costs at most that long; it answers with a binary PPM,
whose header carries the size, so no probing step is needed.
"""

from __future__ import annotations

import io
import os
import subprocess
import warnings
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from .errors import SeedataError
from .frames import Frame

DEFAULT_TIMEOUT = 10.0
MAX_PIXELS = 100_000_000


class ImageError(SeedataError):
    """An image could not be decoded or encoded (unreadable, corrupt, too large, timed out)."""


@cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped with ``imageio-ffmpeg``."""
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _run(args: list[str], data: bytes, timeout: float, what: str) -> bytes:
    try:
        done = subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", *args],
            input=data,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ImageError(f"{what} took longer than {timeout:g} s") from exc
    if done.returncode != 0 or not done.stdout:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[-1] if lines else f"ffmpeg exited with {done.returncode}"
        raise ImageError(f"{what} failed: {reason}")
    return done.stdout


def _parse_ppm(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and pixels of a binary PPM (``P6``) as ffmpeg writes it."""
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while pos < len(data) and data[pos : pos + 1].isspace():
            pos += 1
        end = pos
        while end < len(data) and not data[end : end + 1].isspace():
            end += 1
        if end == pos:
            raise ImageError("decoder returned a truncated picture header")
        fields.append(data[pos:end])
        pos = end
    magic, width, height, maxval = fields
    if magic != b"P6" or maxval != b"255":
        raise ImageError("decoder returned an unexpected picture format")
    w, h = int(width), int(height)
    pixels = data[pos + 1 : pos + 1 + w * h * 3]
    if len(pixels) != w * h * 3:
        raise ImageError("decoder returned a truncated picture")
    return w, h, pixels


def decode_image(
    data: bytes, *, captured_at: datetime | None = None, timeout: float = DEFAULT_TIMEOUT
) -> Frame:
    """Decode an encoded picture (JPEG, PNG, BMP, WebP, ...; the first frame of an animation).

    ``captured_at`` defaults to now. Raises :class:`ImageError` when neither Pillow nor ffmpeg (within
    ``timeout`` seconds) can decode ``data``, or the picture has more than :data:`MAX_PIXELS` pixels.
    """
    if not data:
        raise ImageError("decoding an image failed: the data is empty")
    at = captured_at or datetime.now(UTC)
    try:
        with warnings.catch_warnings():
            # _check_size applies our own limit; Pillow's error above twice its own still stands.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                _check_size(*image.size)
                rgb = image.convert("RGB")
                return Frame(width=rgb.width, height=rgb.height, rgb=rgb.tobytes(), captured_at=at)
    except UnidentifiedImageError:
        pass  # a format Pillow lacks: ffmpeg's turn
    except Image.DecompressionBombError as exc:
        raise ImageError(f"the image has more than {MAX_PIXELS} pixels") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageError(f"decoding an image failed: {exc}") from exc
    out = _run(
        ["-i", "pipe:0", "-frames:v", "1", "-f", "image2pipe", "-c:v", "ppm", "-pix_fmt", "rgb24", "pipe:1"],
        data,
        timeout,
        "decoding an image",
    )
    width, height, pixels = _parse_ppm(out)
    _check_size(width, height)
    return Frame(width=width, height=height, rgb=pixels, captured_at=at)


def _check_size(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ImageError(f"the image has {width}x{height} pixels, more than {MAX_PIXELS}")


def read_image(path: str | os.PathLike[str], *, timeout: float = DEFAULT_TIMEOUT) -> Frame:
    """Decode an image file; ``captured_at`` is the file's modification time."""
    file = Path(path)
    try:
        data = file.read_bytes()
        mtime = datetime.fromtimestamp(file.stat().st_mtime, UTC)
    except OSError as exc:
        raise ImageError(f"cannot read {file}: {exc.strerror or exc}") from exc
    try:
        return decode_image(data, captured_at=mtime, timeout=timeout)
    except ImageError as exc:
        raise ImageError(f"{file}: {exc}") from exc


def clamp_box(frame: Frame, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """``box`` ``(x, y, width, height)`` cut to the frame; :class:`ImageError` if nothing is left."""
    x, y, w, h = box
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(frame.width, x + w), min(frame.height, y + h)
    if x1 <= x0 or y1 <= y0:
        raise ImageError(f"box {box} lies outside the {frame.width}x{frame.height} picture")
    return x0, y0, x1 - x0, y1 - y0


def crop(frame: Frame, box: tuple[int, int, int, int]) -> Frame:
    """The part of ``frame`` inside ``box`` (clamped to the frame), with the same capture time."""
    x, y, w, h = clamp_box(frame, box)
    stride = frame.width * 3
    rows = (frame.rgb[(y + r) * stride + x * 3 : (y + r) * stride + (x + w) * 3] for r in range(h))
    return Frame(width=w, height=h, rgb=b"".join(rows), captured_at=frame.captured_at)


def encode_jpeg(
    frame: Frame,
    *,
    box: tuple[int, int, int, int] | None = None,
    quality: int = 90,
) -> bytes:
    """JPEG bytes of ``frame``, or of the part inside ``box`` (a plate image), at ``quality`` 1..100."""
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be 1..100, got {quality}")
    image = Image.frombuffer("RGB", (frame.width, frame.height), frame.rgb, "raw", "RGB", 0, 1)
    if box is not None:
        x, y, w, h = clamp_box(frame, box)
        image = image.crop((x, y, x + w, y + h))
    out = io.BytesIO()
    # Pillow's scale stops at 95: above it JPEG grows a lot for no visible gain.
    image.save(out, "JPEG", quality=min(quality, 95))
    return out.getvalue()
