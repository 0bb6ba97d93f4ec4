"""Decoded pictures as they travel from a frame source to an ALPR engine.

A :class:`Frame` holds packed 8-bit RGB rows, so core needs no image library; an engine that uses
numpy views it without a copy: ``np.frombuffer(frame.rgb, np.uint8).reshape(frame.height, frame.width, 3)``.
"""

from __future__ import annotations

from datetime import datetime

import msgspec


class Frame(msgspec.Struct, frozen=True, kw_only=True):
    """One decoded picture and when it was captured (aware UTC)."""

    width: int
    height: int
    rgb: bytes
    captured_at: datetime

    def __post_init__(self) -> None:
        if len(self.rgb) != self.width * self.height * 3:
            raise ValueError(
                f"frame of {self.width}x{self.height} needs {self.width * self.height * 3} bytes, "
                f"got {len(self.rgb)}"
            )
