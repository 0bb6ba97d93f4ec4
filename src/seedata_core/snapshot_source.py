"""A frame source for cameras that only offer HTTP snapshots: it fetches one every ``interval`` seconds."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from .cameras import mask_url
from .frames import Frame
from .snapshots import DEFAULT_TIMEOUT, SnapshotError, fetch_snapshot

log = logging.getLogger(__name__)


class SnapshotSource:
    """Polls a snapshot URL in a background thread and keeps the newest picture.

    A failed fetch is logged once until the next success; :attr:`last_frame_at` then ages, which is
    how the camera's worker sees it go offline.
    """

    def __init__(self, url: str, *, interval: float = 1.0, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = url
        self.interval = interval
        self.timeout = timeout
        self._latest: Frame | None = None
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._poll, name=f"snapshots {mask_url(url)}", daemon=True)
        self._thread.start()

    @property
    def last_frame_at(self) -> datetime | None:
        frame = self._latest
        return None if frame is None else frame.captured_at

    def latest(self) -> Frame | None:
        return self._latest

    def close(self) -> None:
        self._closed.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _poll(self) -> None:
        failing = False
        while not self._closed.is_set():
            try:
                self._latest = fetch_snapshot(self.url, timeout=self.timeout)
                failing = False
            except SnapshotError as exc:
                if not failing:
                    log.warning("snapshot camera %s: %s", mask_url(self.url), exc)
                failing = True
            self._closed.wait(self.interval)
