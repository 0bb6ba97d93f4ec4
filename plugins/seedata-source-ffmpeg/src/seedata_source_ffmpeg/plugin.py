"""The plugin that registers the ffmpeg frame source (entry point ``source_ffmpeg``, group ``seedata``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from seedata_core import hookimpl
from seedata_core.models import Camera
from seedata_core.sources import FrameSourceSpec

from .command import accepts
from .options import FfmpegOptions
from .source import FfmpegSource


def open_camera(camera: Camera, options: Mapping[str, Any]) -> FfmpegSource:
    """Start decoding ``camera.source``; returns at once, before the first frame."""
    return FfmpegSource(camera.source, FfmpegOptions.from_mapping(options))


@hookimpl
def seedata_register_frame_sources(register: Callable[[FrameSourceSpec], None]) -> None:
    """Register the ``ffmpeg`` source for RTSP(S) and HTTP(S) streams and video files."""
    register(
        FrameSourceSpec(
            name="ffmpeg",
            accepts=accepts,
            open=open_camera,
            description="ffmpeg subprocess: RTSP(S), HTTP(S) streams and video files (looped)",
        )
    )
