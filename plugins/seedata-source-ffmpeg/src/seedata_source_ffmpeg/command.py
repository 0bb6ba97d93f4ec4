"""The ffmpeg command line for one camera, and reading the frame size from ffmpeg's log. Pure functions."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from .options import FfmpegOptions

STREAM_SCHEMES = frozenset({"rtsp", "rtsps", "http", "https"})
RTSP_SCHEMES = frozenset({"rtsp", "rtsps"})

# Socket timeout for network inputs, in microseconds: a server that accepts and then says nothing
# makes ffmpeg exit instead of hanging (the stall watchdog is the second line of defence).
NETWORK_TIMEOUT_US = 5_000_000

# The output stream line ffmpeg logs once it starts writing, e.g.
#   Stream #0:0(und): Video: rawvideo (RGB[24] / 0x18424752), rgb24(pc, ...), 320x240 [SAR 1:1 ...
_OUTPUT_SIZE = re.compile(r"Stream #0:\d+.*: Video: rawvideo\b.*?, (\d+)x(\d+)\b")


def scheme_of(source: str) -> str:
    """The lower-case URL scheme of ``source``, or ``""`` for a plain path."""
    return urlsplit(source).scheme.lower() if "://" in source else ""


def is_stream(source: str) -> bool:
    """Whether ``source`` is a network stream this plugin reads (RTSP, RTSPS, HTTP, HTTPS)."""
    return scheme_of(source) in STREAM_SCHEMES


def accepts(source: str) -> bool:
    """Streams by URL, and paths of video files that exist."""
    return is_stream(source) or (scheme_of(source) == "" and os.path.isfile(source))


def build_command(ffmpeg: str, source: str, options: FfmpegOptions) -> list[str]:
    """The argument list that decodes ``source``'s first video stream to raw RGB24 frames on stdout.

    Network streams get a socket timeout and no input buffering; files are read at their real
    rate (``-re``) and, unless ``options.loop`` is false, looped forever. ``-fps_mode passthrough``
    keeps ffmpeg from duplicating or holding frames to a constant rate (a looping input stalls without
    it).
    """
    scheme = scheme_of(source)
    args = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info"]
    if scheme in RTSP_SCHEMES:
        args += ["-rtsp_transport", options.transport, "-timeout", str(NETWORK_TIMEOUT_US)]
    elif scheme:
        args += ["-rw_timeout", str(NETWORK_TIMEOUT_US)]
    if scheme:
        args += ["-fflags", "nobuffer"]
    else:
        args += ["-re"]
        if options.loop:
            args += ["-stream_loop", "-1"]
    # low_delay also turns off frame-threaded decoding, which holds back a frame per thread: 80 ms
    # at 25 fps, and seconds when only key frames are decoded.
    args += ["-flags", "low_delay"]
    if options.keyframes_only:
        args += ["-skip_frame", "nokey"]
    args += ["-i", source, "-map", "0:v:0", "-an", "-sn", "-dn"]
    filters = []
    if options.max_fps is not None:
        # Keep a frame only when 1/max_fps has passed since the last kept one: a cap that drops and
        # never duplicates. The 1 ms slack keeps a 10 fps source at 10 fps under a cap of 10.
        gap = max(1.0 / options.max_fps - 0.001, 0.0)
        filters.append(f"select=isnan(prev_selected_t)+gte(t-prev_selected_t\\,{gap:.6f})")
    size = options.forced_size
    if size is not None:
        filters.append(f"scale={size[0]}:{size[1]}")
    if filters:
        args += ["-vf", ",".join(filters)]
    args += ["-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    return args


def output_size(log_line: str) -> tuple[int, int] | None:
    """The frame size in ffmpeg's log line for its raw-video output stream, or ``None`` for other lines."""
    match = _OUTPUT_SIZE.search(log_line)
    if match is None:
        return None
    width, height = int(match[1]), int(match[2])
    return (width, height) if width > 0 and height > 0 else None
