"""The options of an ffmpeg frame source, read from the mapping Seedata passes to ``open``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec

from seedata_core.errors import ConfigError

from .backoff import Backoff

Seconds = Annotated[float, msgspec.Meta(gt=0)]
_SIZE = re.compile(r"([1-9]\d{0,4})x([1-9]\d{0,4})")


class FfmpegOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a camera's ffmpeg source may be told; every key is optional.

    - ``transport``: RTSP lower transport, ``tcp`` (default: no smearing from lost UDP packets) or ``udp``.
    - ``max_fps``: decode at most this many frames a second (frames in between are dropped in ffmpeg,
      never duplicated); ``None`` keeps the camera's rate.
    - ``size``: ``"WIDTHxHEIGHT"`` scales every frame to that size. Without it, frames keep the size
      ffmpeg reports for its output stream when it starts.
    - ``keyframes_only``: decode key frames only (``-skip_frame nokey``): about a tenth of the CPU,
      at the camera's key-frame interval. The decoder still holds back a few key frames before its
      first output: measured 1.5 s (no B-frames) to 5.5 s (B-frames) with key frames every 2 s.
    - ``open_timeout``: seconds a fresh connection may take to deliver its first frame.
    - ``stall_timeout``: seconds without a frame after which a running connection is restarted.
    - ``reconnect_initial``, ``reconnect_max``: the first and the longest wait before reconnecting.
    - ``loop``: play a video file again from the start when it ends (default).
    - ``ffmpeg``: path of the ffmpeg binary; by default the one imageio-ffmpeg ships.
    """

    transport: Literal["tcp", "udp"] = "tcp"
    max_fps: Annotated[float, msgspec.Meta(gt=0)] | None = None
    size: str | None = None
    keyframes_only: bool = False
    open_timeout: Seconds = 10.0
    stall_timeout: Seconds = 5.0
    reconnect_initial: Seconds = 0.25
    reconnect_max: Seconds = 2.0
    loop: bool = True
    ffmpeg: str | None = None

    @property
    def forced_size(self) -> tuple[int, int] | None:
        """``size`` as ``(width, height)``, or ``None`` when frames keep the stream's size."""
        if self.size is None:
            return None
        match = _SIZE.fullmatch(self.size)
        assert match is not None, "validated by from_mapping"
        return int(match[1]), int(match[2])

    @property
    def backoff(self) -> Backoff:
        return Backoff(initial=self.reconnect_initial, cap=max(self.reconnect_initial, self.reconnect_max))

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> FfmpegOptions:
        """Options from a camera's mapping; a :class:`ConfigError` names an unknown key or a bad value."""
        try:
            made = msgspec.convert(dict(options), cls, strict=False)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"bad ffmpeg frame-source option: {exc}") from exc
        if made.size is not None and not _SIZE.fullmatch(made.size):
            raise ConfigError(f"ffmpeg frame-source option size must look like 640x360, got {made.size!r}")
        return made
