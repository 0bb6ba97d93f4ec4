"""The contract between Seedata and a frame source: something that keeps a camera's freshest picture."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import msgspec

from .frames import Frame
from .models import Camera


@runtime_checkable
class FrameSource(Protocol):
    """An open camera connection.

    A source decodes in the background and keeps only its newest frame, so a slow consumer never sees
    a stale picture. It reconnects by itself; :attr:`last_frame_at` tells when a frame last arrived.
    """

    @property
    def last_frame_at(self) -> datetime | None:
        """When the newest frame arrived (aware UTC), or ``None`` before the first one."""
        ...

    def latest(self) -> Frame | None:
        """The newest decoded frame, or ``None`` before the first one. Never blocks."""
        ...

    def close(self) -> None:
        """Stop decoding and release the connection. Idempotent."""
        ...


class FrameSourceSpec(msgspec.Struct, frozen=True, kw_only=True):
    """How to open cameras of one kind.

    ``accepts(source)`` says whether this kind handles a camera's source URL or path (an RTSP URL, a
    file, ...); ``open(camera, options)`` connects and returns a :class:`FrameSource` without waiting
    for the first frame.
    """

    name: str
    accepts: Callable[[str], bool]
    open: Callable[[Camera, Mapping[str, Any]], FrameSource]
    description: str = ""
