"""Camera facts derived for display: status and masked URLs."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from .models import Camera, CameraStatus

# SPEC §1.3: an image older than this is not "current"; a camera without one is offline.
FRESHNESS = timedelta(seconds=5)


def camera_status(camera: Camera, now: datetime) -> CameraStatus:
    if not camera.enabled:
        return "disabled"
    if camera.keep_alive is not None and now - camera.keep_alive <= FRESHNESS:
        return "online"
    return "offline"


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***``; paths and other text come back unchanged."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))
