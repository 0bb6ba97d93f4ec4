"""Retention: deleting old flows and their pictures in the background, in small batches.

A :class:`RetentionPolicy` says what to keep: flows younger than ``days``, and pictures within
``max_image_bytes``. :func:`prune` applies it once, a batch of flows per storage transaction with a
pause between batches, so API requests and camera inserts are never held up behind it;
:class:`Retention` runs it on a thread every ``interval`` seconds. Several server processes on one
database may all run it: the storage deletes and counts off each flow once.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import msgspec

from .errors import StorageUnavailable
from .filter_ast import MATCH_ALL
from .settings import Settings
from .storage import Pruned, Storage

log = logging.getLogger(__name__)

_GB = 1024**3


class RetentionPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Keep flows younger than ``days`` and pictures within ``max_image_bytes`` (``None``: no limit)."""

    days: float | None = None
    max_image_bytes: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        max_gb = settings.retention_max_gb
        return cls(
            days=settings.retention_days, max_image_bytes=None if max_gb is None else round(max_gb * _GB)
        )

    @property
    def active(self) -> bool:
        return self.days is not None or self.max_image_bytes is not None


def prune(
    storage: Storage,
    policy: RetentionPolicy,
    *,
    now: datetime | None = None,
    batch_size: int = 1000,
    pause: Callable[[], bool] = lambda: False,
) -> Pruned:
    """Apply ``policy`` once; return what was deleted. ``pause()`` runs between batches and returns
    True to stop early (the thread's stop event)."""
    done = Pruned()
    if policy.days is not None:
        cut = (now or datetime.now(UTC)) - timedelta(days=policy.days)
        while True:
            batch = storage.delete_flows_before(cut, limit=batch_size)
            done += batch
            if batch.flows < batch_size or pause():
                break
    if policy.max_image_bytes is not None:
        used = storage.images_bytes()
        excess = used - policy.max_image_bytes
        # Bytes per flow, first on average, then as the last batch found: each batch asks for about as
        # many flows as the excess needs, so the budget is not overshot by a whole batch.
        per_flow = used / max(1, storage.count_flows(MATCH_ALL))
        while excess > 0:
            limit = max(1, min(batch_size, math.ceil(excess / per_flow))) if per_flow > 0 else batch_size
            batch = storage.delete_oldest_flows(limit=limit)
            done += batch
            if batch.flows == 0:
                log.warning("pictures take %d bytes over the budget, and no flow is left to delete", excess)
                break
            excess -= batch.image_bytes
            if batch.image_bytes:
                per_flow = batch.image_bytes / batch.flows
            if excess > 0 and pause():
                break
    return done


class Retention:
    """Runs :func:`prune` on a daemon thread at start, then every ``interval`` seconds, until stopped."""

    def __init__(
        self,
        storage: Storage,
        policy: RetentionPolicy,
        *,
        interval: float = 60.0,
        batch_size: int = 1000,
        batch_pause: float = 0.1,
    ) -> None:
        self.storage = storage
        self.policy = policy
        self.interval = interval
        self.batch_size = batch_size
        self.batch_pause = batch_pause
        self.passes = 0  # completed passes, for tests and status
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retention", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop after the batch in progress, and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                done = prune(
                    self.storage,
                    self.policy,
                    batch_size=self.batch_size,
                    pause=lambda: self._stop.wait(self.batch_pause),
                )
                if done.flows:
                    log.info("retention deleted %d flows, %d bytes of pictures", done.flows, done.image_bytes)
            except StorageUnavailable as exc:
                log.warning("retention: %s; trying again in %.0f s", exc, self.interval)
            except Exception:
                log.exception("retention pass failed; trying again in %.0f s", self.interval)
            self.passes += 1
            self._stop.wait(self.interval)
