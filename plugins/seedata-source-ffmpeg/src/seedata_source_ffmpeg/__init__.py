"""Seedata's default frame source: cameras and video files decoded by an ffmpeg subprocess.

Open one directly (``FfmpegSource("rtsp://cam/stream", FfmpegOptions(max_fps=5))``) or let Seedata
open it through the ``seedata_register_frame_sources`` hook, which registers it as ``ffmpeg``.
"""

from __future__ import annotations

from .backoff import Backoff
from .command import accepts, build_command
from .options import FfmpegOptions
from .source import FfmpegSource

__all__ = ["Backoff", "FfmpegOptions", "FfmpegSource", "accepts", "build_command"]
