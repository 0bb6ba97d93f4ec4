"""The records Seedata keeps: cameras, users, flows, and what an ALPR engine reads.

Times are aware UTC ``datetime`` objects everywhere in the library; only the HTTP and CLI layers turn
them into display strings (see :mod:`seedata_core.timezones`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

TriggerMode = Literal["manual", "auto"]
CaptureMode = Literal["auto", "manual", "both"]
CameraStatus = Literal["online", "offline", "disabled"]
ImageSource = Literal["camera_snapshot", "rtsp"]

TRIGGER_MODES: tuple[TriggerMode, ...] = ("manual", "auto")
CAPTURE_MODES: tuple[CaptureMode, ...] = ("auto", "manual", "both")


class NewCamera(msgspec.Struct, kw_only=True):
    """What it takes to add a camera; the storage assigns the id.

    ``source`` is the stream URL or video file path (the API calls it ``rtsp``).
    """

    alias: str
    source: str
    snapshot_url: str | None = None
    capture_mode: CaptureMode = "both"
    manual_trigger_delay: int = 0
    enabled: bool = True
    country: str | None = None


class Camera(NewCamera, kw_only=True):
    """A watched camera, as stored: its id and when a frame last arrived."""

    id: int
    keep_alive: datetime | None = None


class User(msgspec.Struct, kw_only=True):
    """Someone who may call the API. ``password_hash`` is an argon2id PHC string."""

    id: int
    email: str
    password_hash: str
    enabled: bool = True
    created_at: datetime | None = None


class Flow(msgspec.Struct, kw_only=True):
    """One vehicle seen by one camera: the list form of the API plus the keys of its stored images.

    ``plate`` is normalised (lower-case letters and digits) or ``None`` when no plate was read, in
    which case ``score`` is 0.
    """

    id: int
    camera_id: int
    camera: str
    plate: str | None
    score: float
    timestamp: datetime
    trigger_mode: TriggerMode
    lpr_version: str
    image_key: str | None = None
    plate_image_key: str | None = None


class FlowImages(msgspec.Struct, kw_only=True):
    """The encoded pictures of a flow: the whole frame and the plate crop (JPEG bytes)."""

    image: bytes | None = None
    plate_image: bytes | None = None


class NewFlow(msgspec.Struct, kw_only=True):
    """A flow to store. ``id`` is given only by imports, which keep the original ids."""

    camera_id: int
    plate: str | None
    score: float
    timestamp: datetime
    trigger_mode: TriggerMode
    lpr_version: str
    id: int | None = None


class SigningKey(msgspec.Struct, kw_only=True):
    """An RS256 key pair for API tokens; ``private_pem`` is PKCS#8 PEM."""

    kid: str
    private_pem: str
    created_at: datetime
