from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from seedata_core.cameras import camera_status, mask_url
from seedata_core.models import Camera


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("rtsp://admin:secret@10.0.0.2:554/live?x=1", "rtsp://admin:***@10.0.0.2:554/live?x=1"),
        ("rtsp://10.0.0.2/live", "rtsp://10.0.0.2/live"),
        ("http://user@cam/snap.jpg", "http://user@cam/snap.jpg"),
        ("/videos/gate.mp4", "/videos/gate.mp4"),
        ("rtsp://a:p%40ss@[::1]:8554/s", "rtsp://a:***@[::1]:8554/s"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_status_follows_the_freshness_rule() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    camera = Camera(id=1, alias="c", source="x")
    assert camera_status(camera, now) == "offline"
    camera.keep_alive = now - timedelta(seconds=5)
    assert camera_status(camera, now) == "online"
    camera.keep_alive = now - timedelta(seconds=5.001)
    assert camera_status(camera, now) == "offline"
    camera.enabled = False
    assert camera_status(camera, now) == "disabled"
