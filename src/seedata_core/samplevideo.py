"""A synthetic traffic video with readable plates, for ``seedata demo`` and for tests.

Every vehicle has a segment of ``seconds_per_vehicle`` seconds to itself: the road is empty for the
first and last :data:`GAP_FRACTION` of it, and in between one vehicle (a box with a windscreen, wheels
and a white plate with black text) crosses the frame from left to right at constant speed, its plate
centred horizontally at the segment's middle. :func:`sample_timeline` gives those times, so a caller
knows when each plate is readable and when no plate is on screen.

The video is drawn and encoded by the ffmpeg that ``imageio-ffmpeg`` ships (lavfi sources, ``drawbox``,
``drawtext`` and ``overlay``; H.264 in yuv420p), so nothing beyond core's dependencies is needed, except
a TrueType font for the plate text: see :func:`find_font`.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import msgspec

from .imaging import ffmpeg_exe

DEFAULT_PLATES = ("BRA2E19", "ABC1234")
DEFAULT_SECONDS_PER_VEHICLE = 4.0
DEFAULT_SIZE = (1280, 720)
DEFAULT_FPS = 25
GAP_FRACTION = 0.2
"""Share of each segment, at its start and again at its end, in which the road is empty."""

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
)
"""Bold sans fonts looked for, in order: Debian's ``fonts-dejavu-core`` first."""

ENCODE_TIMEOUT = 120.0
_PLATE_TEXT = re.compile(r"[A-Z0-9]{1,10}")
# Characters that need no escaping inside a filtergraph option value.
_SAFE_PATH = re.compile(r"[A-Za-z0-9_./+-]+")


class SampleVehicle(msgspec.Struct, frozen=True, kw_only=True):
    """When one vehicle of a sample video is on screen, in seconds from the video's start.

    The vehicle enters at ``enters``, its plate is centred in the frame at ``middle`` and it has left
    at ``leaves``; before ``enters`` and after ``leaves`` its segment shows an empty road.
    """

    plate: str
    enters: float
    middle: float
    leaves: float


def sample_timeline(
    plates: Sequence[str] = DEFAULT_PLATES, seconds_per_vehicle: float = DEFAULT_SECONDS_PER_VEHICLE
) -> tuple[SampleVehicle, ...]:
    """The vehicles of the video that :func:`make_sample_video` makes with these arguments, in order.

    The video lasts ``len(plates) * seconds_per_vehicle`` seconds.
    """
    gap = seconds_per_vehicle * GAP_FRACTION
    return tuple(
        SampleVehicle(
            plate=plate,
            enters=i * seconds_per_vehicle + gap,
            middle=(i + 0.5) * seconds_per_vehicle,
            leaves=(i + 1) * seconds_per_vehicle - gap,
        )
        for i, plate in enumerate(plates)
    )


def find_font() -> Path:
    """The first of :data:`FONT_CANDIDATES` that exists.

    Raises :class:`FileNotFoundError` naming the Debian package to install when there is none.
    """
    for candidate in FONT_CANDIDATES:
        path = Path(candidate)
        if path.is_file():
            return path
    raise FileNotFoundError(
        "no font for the plate text; install one (apt-get install fonts-dejavu-core) or pass font="
    )


def bundled_sample_video() -> Path:
    """The sample video shipped in the package: :func:`make_sample_video` with its default arguments."""
    return Path(str(resources.files("seedata_core") / "data" / "sample.mp4"))


def _vehicle_graph(vehicle: SampleVehicle, index: int, size: tuple[int, int], fps: int, font: Path) -> str:
    """A filter chain that draws one vehicle on its own canvas and labels it ``[vehicleN]``."""
    width, height = size
    vw, vh = round(width * 0.36), round(height * 0.42)
    plate_w, plate_h = round(vw * 0.52), round(vw * 0.52 / 3.1)  # a Mercosur plate is 400 x 130 mm
    plate_x, plate_y = (vw - plate_w) // 2, round(vh * 0.48)
    wheel = round(vh * 0.22)
    # DejaVu Sans Bold's capitals and digits are about 0.72 em wide: keep the text inside the plate.
    font_size = min(round(plate_h * 0.6), round(plate_w * 0.9 / (0.72 * len(vehicle.plate))))
    lasting = vehicle.leaves - vehicle.enters
    return ",".join(
        [
            f"color=c=0x7a1f2b:s={vw}x{vh}:r={fps}:d={lasting:.6f}",
            f"drawbox=x={round(vw * 0.12)}:y={round(vh * 0.06)}:w={round(vw * 0.76)}:h={round(vh * 0.36)}"
            ":c=0x9fb8c8:t=fill",
            f"drawbox=x={round(vw * 0.08)}:y={vh - wheel}:w={wheel * 2}:h={wheel}:c=0x151515:t=fill",
            f"drawbox=x={vw - round(vw * 0.08) - wheel * 2}:y={vh - wheel}:w={wheel * 2}:h={wheel}"
            ":c=0x151515:t=fill",
            f"drawbox=x={plate_x}:y={plate_y}:w={plate_w}:h={plate_h}:c=white:t=fill",
            f"drawbox=x={plate_x}:y={plate_y}:w={plate_w}:h={plate_h}:c=black:t={max(1, plate_h // 20)}",
            # tw/th, not w/h: in drawtext w/h are the frame's size and would push the text off the plate.
            f"drawtext=fontfile={font}:text={vehicle.plate}:fontcolor=black:fontsize={font_size}"
            f":x={plate_x}+({plate_w}-tw)/2:y={plate_y}+({plate_h}-th)/2",
            # Shift the canvas's timestamps so that it starts when the vehicle enters.
            f"setpts=PTS+{vehicle.enters:.6f}/TB[vehicle{index}]",
        ]
    )


def make_sample_video(
    path: str | Path,
    *,
    plates: Sequence[str] = DEFAULT_PLATES,
    seconds_per_vehicle: float = DEFAULT_SECONDS_PER_VEHICLE,
    size: tuple[int, int] = DEFAULT_SIZE,
    fps: int = DEFAULT_FPS,
    font: str | Path | None = None,
) -> Path:
    """Write an H.264 MP4 (yuv420p, a key frame every second) of vehicles passing, one per plate.

    ``plates`` are upper-case ``A-Z0-9`` texts; :func:`sample_timeline` says when each is on screen.
    ``font`` is a TrueType file for the plate text, :func:`find_font` when omitted. The output is
    overwritten. Returns ``path`` as a :class:`Path`. Raises :class:`ValueError` on bad arguments and
    :class:`RuntimeError` when ffmpeg fails.
    """
    out = Path(path)
    width, height = size
    if not plates:
        raise ValueError("a sample video needs at least one plate")
    for plate in plates:
        if not _PLATE_TEXT.fullmatch(plate):
            raise ValueError(f"plate {plate!r} is not 1 to 10 upper-case letters and digits")
    if width < 320 or height < 180 or width % 2 or height % 2:
        raise ValueError(f"size {width}x{height} must be even and at least 320x180")
    if seconds_per_vehicle <= 0 or fps <= 0:
        raise ValueError("seconds_per_vehicle and fps must be positive")
    font_path = Path(font) if font is not None else find_font()
    if not _SAFE_PATH.fullmatch(str(font_path)):
        raise ValueError(f"font path {str(font_path)!r} has characters ffmpeg's filter syntax would mangle")

    timeline = sample_timeline(plates, seconds_per_vehicle)
    duration = len(plates) * seconds_per_vehicle
    lane = round(height * 0.5)
    road = ",".join(
        [
            f"color=c=0x55606b:s={width}x{height}:r={fps}:d={duration:.6f}",
            f"drawbox=x=0:y={lane}:w={width}:h={round(height * 0.42)}:c=0x303236:t=fill",
            f"drawbox=x=0:y={lane + round(height * 0.42)}:w={width}:h={max(2, height // 90)}"
            ":c=0xd8d8d8:t=fill",
        ]
    )
    chains = [f"{road}[road0]"]
    vehicle_w, vehicle_h = round(width * 0.36), round(height * 0.42)
    for i, vehicle in enumerate(timeline):
        chains.append(_vehicle_graph(vehicle, i, size, fps, font_path))
        speed = (width + vehicle_w) / (vehicle.leaves - vehicle.enters)
        x = f"-{vehicle_w}+{speed:.6f}*(t-{vehicle.enters:.6f})"
        chains.append(
            f"[road{i}][vehicle{i}]overlay=x='{x}':y={lane - vehicle_h // 3}:eof_action=pass[road{i + 1}]"
        )
    chains.append(f"[road{len(timeline)}]format=yuv420p[out]")
    args = [
        ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostdin",
        "-y",
        "-filter_complex",
        ";".join(chains),
        "-map",
        "[out]",
        "-t",
        f"{duration:.6f}",
        "-c:v",
        "libx264",
        "-preset",
        "slow",
        "-crf",
        "26",
        "-g",
        str(fps),
        "-pix_fmt",
        "yuv420p",
        "-map_metadata",
        "-1",
        "-movflags",
        "+faststart",
        str(out),
    ]
    try:
        done = subprocess.run(args, capture_output=True, timeout=ENCODE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"making the sample video took longer than {ENCODE_TIMEOUT:g} s") from exc
    if done.returncode != 0:
        raise RuntimeError(
            f"making the sample video failed: {done.stderr.decode('utf-8', 'replace').strip()}"
        )
    return out
