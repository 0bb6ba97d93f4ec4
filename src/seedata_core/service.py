"""An open Seedata installation: settings, plugins, storage and auth wired together.

This is the entry point for embedding programs and the one object the HTTP server and the CLI hold::

    from seedata_core import Settings
    from seedata_core.service import Seedata

    with Seedata.open(Settings(data_dir="./seedata-data")) as seedata:
        page, flows = seedata.search_flows({"plate": {"like": "abc"}})
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cached_property
from types import TracebackType
from typing import Self

import msgspec

from .auth import Authenticator, LoginThrottle, TokenService
from .errors import CameraNotEnabled, NoCurrentImage, NotFound, SeedataError
from .filter_ast import Node
from .filters import parse_filter
from .frames import Frame
from .models import Camera, Flow, FlowImages
from .pagination import Page, PageRequest
from .plugins import Plugins, make_plugin_manager
from .recording import PlateReader, ReadStats
from .retention import Retention, RetentionPolicy
from .settings import Settings
from .snapshots import SnapshotError, fetch_snapshot
from .sources import FrameSource
from .storage import Storage
from .timezones import DisplayZone
from .trigger import TakeImage, TriggerRequest, TriggerResult, run_trigger
from .workers import AutoOptions, CameraWorkers, open_camera_source

log = logging.getLogger(__name__)


class Seedata:
    """Everything core offers, for one data directory and database."""

    def __init__(self, settings: Settings, plugins: Plugins, storage: Storage) -> None:
        self.settings = settings
        self.plugins = plugins
        self.storage = storage
        self.zone = DisplayZone(settings.timezone)
        self.tokens = TokenService(storage, lifetime=settings.token_lifetime)
        self.auth = Authenticator(
            storage,
            self.tokens,
            LoginThrottle(
                per_address=settings.login_attempts_per_address,
                per_account=settings.login_attempts_per_account,
                window=settings.login_window,
            ),
        )
        self.workers: CameraWorkers | None = None
        self.retention: Retention | None = None
        # Manual triggers by outcome since start, for /metrics.
        self.trigger_outcomes: Counter[str] = Counter()
        self._outcomes_lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings, plugins: Plugins | None = None) -> Self:
        """Load the plugins (unless given), open the configured storage and make sure a signing key exists."""
        if plugins is None:
            plugins = Plugins(make_plugin_manager(blocked=settings.plugins_blocked))
        storage = plugins.storage_for_url(settings.resolved_database_url).open(settings)
        seedata = cls(settings, plugins, storage)
        seedata.tokens.ensure_key()
        return seedata

    def close(self) -> None:
        self.stop_retention()
        self.stop_workers()
        self.storage.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- flows -----------------------------------------------------------------------------------
    def parse_filter(self, raw: object) -> Node:
        """A client's filter object, checked and typed (``FilterError`` when malformed)."""
        return parse_filter(raw, self.zone)

    def search_flows(
        self, raw_filter: object = None, request: PageRequest | None = None
    ) -> tuple[Page, list[Flow]]:
        """One page of the flows matching a client's filter, newest first."""
        where = self.parse_filter(raw_filter)
        return self.page_flows(where, request or PageRequest())

    def page_flows(self, where: Node, request: PageRequest) -> tuple[Page, list[Flow]]:
        total = self.storage.count_flows(where)
        page = Page.resolve(request, total)
        if total == 0:
            return page, []
        return page, self.storage.search_flows(where, offset=page.offset, limit=page.per_page)

    def get_flow(self, flow_id: int) -> tuple[Flow, FlowImages]:
        """A flow with its pictures; ``NotFound("Object not found: <id>")`` when absent."""
        flow = self.storage.get_flow(flow_id) if 0 < flow_id < 2**63 else None
        if flow is None:
            raise NotFound(f"Object not found: {flow_id}")
        return flow, self.storage.get_images(flow)

    # -- cameras ---------------------------------------------------------------------------------
    def cameras(self) -> list[Camera]:
        """All cameras by id; ``keep_alive`` is exact for the cameras this process watches.

        Storage keeps ``keep_alive`` to the second (it is written once a second at most); a running
        worker knows the newest frame's time, so the status shown agrees with what a trigger finds.
        """
        cameras = self.storage.list_cameras()
        workers = self.workers
        if workers is None:
            return cameras
        return [_with_live_keep_alive(camera, workers.last_frame_at(camera.id)) for camera in cameras]

    @cached_property
    def reader(self) -> PlateReader:
        """The configured ALPR engine, created when it first reads."""
        return PlateReader(
            self.plugins.alpr_engine(self.settings.alpr_engine),
            self.settings.alpr_options,
            min_score=self.settings.min_score,
        )

    def read_stats(self) -> ReadStats | None:
        """The engine's counts so far, or ``None`` when nothing was read yet (no model loaded for this)."""
        reader: PlateReader | None = self.__dict__.get("reader")
        return None if reader is None else reader.stats

    def camera_workers(self) -> CameraWorkers:
        """Workers for this installation's cameras (not started), configured from the settings."""
        settings = self.settings
        return CameraWorkers(
            storage=self.storage,
            plugins=self.plugins,
            reader=self.reader,
            auto=AutoOptions(fps=settings.auto_fps, window=settings.auto_window),
            source_options=settings.source_options,
            sync_interval=settings.camera_sync_interval,
            lease_ttl=settings.camera_lease_ttl,
        )

    def start_workers(self) -> CameraWorkers:
        """Watch every enabled camera until :meth:`stop_workers` or :meth:`close`."""
        if self.workers is None:
            self.workers = self.camera_workers()
            self.workers.start()
        return self.workers

    def stop_workers(self) -> None:
        if self.workers is not None:
            self.workers.stop()
            self.workers = None

    def start_retention(self) -> Retention | None:
        """Delete old flows in the background as the retention settings say; ``None`` if they keep all."""
        policy = RetentionPolicy.from_settings(self.settings)
        if self.retention is None and policy.active:
            self.retention = Retention(self.storage, policy)
            self.retention.start()
        return self.retention

    def stop_retention(self) -> None:
        if self.retention is not None:
            self.retention.stop()
            self.retention = None

    def trigger(self, request: TriggerRequest, *, received_at: datetime | None = None) -> TriggerResult:
        """A manual trigger (SPEC §1.3): a flow from the camera's current image, stored and returned.

        Raises ``NotFound``, ``CameraNotEnabled`` or ``NoCurrentImage``; an engine failure is in the
        result's ``alpr_error``. Without running workers the camera's stream is opened for the trigger.
        """
        received_at = received_at or datetime.now(UTC)
        outcome = "error"
        try:
            with self._image_taker(request.camera_id) as take_image:
                result = run_trigger(
                    request,
                    storage=self.storage,
                    take_image=take_image,
                    reader=self.reader,
                    received_at=received_at,
                )
            outcome = "alpr_error" if result.alpr_error else "plate" if result.flow.plate else "no_plate"
            return result
        except (NotFound, CameraNotEnabled, NoCurrentImage) as exc:
            outcome = _OUTCOMES[type(exc)]
            raise
        finally:
            with self._outcomes_lock:
                self.trigger_outcomes[outcome] += 1

    @contextmanager
    def _image_taker(self, camera_id: int) -> Iterator[TakeImage]:
        workers = self.workers
        opened: dict[int, FrameSource] = {}

        def take(camera: Camera) -> Frame | None:
            if camera.snapshot_url:
                return self._snapshot(camera)
            if workers is not None and workers.worker(camera.id) is not None:
                return workers.latest(camera.id)
            if camera.id not in opened:
                try:
                    opened[camera.id] = open_camera_source(self.plugins, camera, self.settings.source_options)
                except SeedataError as exc:
                    log.warning("camera %s: cannot open %s", camera.alias, exc)
                    return None
            return _first_frame(opened[camera.id], timeout=STREAM_OPEN_TIMEOUT)

        try:
            yield take
        finally:
            for source in opened.values():
                source.close()

    def _snapshot(self, camera: Camera) -> Frame | None:
        assert camera.snapshot_url is not None
        try:
            return fetch_snapshot(camera.snapshot_url, timeout=self.settings.snapshot_timeout)
        except SnapshotError as exc:
            log.warning("camera %s: %s", camera.alias, exc)
            return None


def _with_live_keep_alive(camera: Camera, live: datetime | None) -> Camera:
    if live is None or (camera.keep_alive is not None and camera.keep_alive > live):
        return camera
    return msgspec.structs.replace(camera, keep_alive=live)


_OUTCOMES: dict[type[Exception], str] = {
    NotFound: "camera_not_found",
    CameraNotEnabled: "camera_not_enabled",
    NoCurrentImage: "no_current_image",
}

# How long a trigger without running workers waits for an opened stream's first frame.
STREAM_OPEN_TIMEOUT = 10.0


def _first_frame(source: FrameSource, *, timeout: float) -> Frame | None:
    deadline = time.monotonic() + timeout
    while (frame := source.latest()) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    return frame
