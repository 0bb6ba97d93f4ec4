"""Camera workers: one thread per enabled camera, and a supervisor that keeps them in step with storage.

A :class:`CameraWorker` holds the camera's frame source open, records in storage when a frame last
arrived (``keep_alive``, from which the camera's online status follows), and in auto mode samples
frames, skips those without motion, reads plates and groups one vehicle's reads into one flow.

:class:`CameraWorkers` reads the cameras from storage every ``sync_interval`` seconds and starts,
restarts or stops workers to match, so a camera added, changed, disabled or removed while the server
runs takes effect without a restart, whichever process changed it.

Several server processes may share one database: each enabled camera is watched by the one process
that holds its lease (:meth:`~seedata_core.storage.Storage.claim_cameras`). Every sync renews this
process's leases and takes those that are free or expired, so when a process dies its cameras pass to
another within ``lease_ttl + sync_interval`` seconds; a clean stop releases them at once.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from .alpr import PlateRead
from .cameras import mask_url
from .errors import AlprError, SeedataError
from .frames import Frame
from .grouping import Sighting, Vehicle, VehicleGrouper
from .models import Camera
from .motion import MotionGate
from .plugins import Plugins
from .recording import PlateReader, record_flow
from .snapshot_source import SnapshotSource
from .sources import FrameSource
from .storage import Storage

log = logging.getLogger(__name__)

# How often a manual-only worker wakes to record keep-alive; the API shows it to the second.
KEEP_ALIVE_TICK = 0.5
# A worker that keeps failing logs at most this often.
ERROR_LOG_INTERVAL = 60.0


class AutoOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How auto mode reads a camera.

    - ``fps``: frames sampled a second (each costs an engine read when it shows motion).
    - ``window``: seconds after its last read that a vehicle is complete, and within which a same or
      look-alike plate counts as the same vehicle.
    """

    fps: float = 5.0
    window: float = 3.0


def default_owner() -> str:
    """This process's name in camera leases: host, process id and a random part (a pid comes back)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def open_camera_source(
    plugins: Plugins,
    camera: Camera,
    source_options: Mapping[str, Mapping[str, Any]],
    *,
    snapshot_interval: float = 1.0,
) -> FrameSource:
    """Open the camera's stream with the first frame-source plugin that accepts it (with the options
    of that kind), or poll its snapshot URL when it has no stream. Returns before the first frame."""
    if not camera.source and camera.snapshot_url:
        return SnapshotSource(camera.snapshot_url, interval=snapshot_interval)
    spec = plugins.frame_source_for(camera.source)
    return spec.open(camera, source_options.get(spec.name, {}))


def _config(camera: Camera) -> Camera:
    """The camera without what changes while it runs; two equal configs need no worker restart."""
    return msgspec.structs.replace(camera, keep_alive=None)


class CameraWorker:
    """Watches one camera until :meth:`stop`; see the module docstring."""

    def __init__(
        self,
        camera: Camera,
        source: FrameSource,
        *,
        storage: Storage,
        reader: PlateReader,
        auto: AutoOptions,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.camera = camera
        self.source = source
        self.storage = storage
        self.reader = reader
        self.auto = auto
        self.clock = clock
        self.reads_auto = camera.capture_mode in ("auto", "both")
        self.flows_made = 0
        # No keep-alive reads: on a still scene they cost an engine read every 2 s (~15 % of a core
        # measured) and a vehicle that stops has been read on its way in.
        self._gate = MotionGate(keepalive=None)
        self._grouper = VehicleGrouper(window=timedelta(seconds=auto.window))
        self._last_seen: datetime | None = None
        self._last_read_at: datetime | None = None
        self._last_error_log = 0.0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"camera {camera.alias}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def latest(self) -> Frame | None:
        """The camera's newest frame (of any age), or ``None``."""
        return self.source.latest()

    def stop(self) -> None:
        """Stop the thread, close the source and store the vehicles still being followed."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()
        self.source.close()
        self._store(self._grouper.close())

    def _run(self) -> None:
        tick = 1 / self.auto.fps if self.reads_auto else KEEP_ALIVE_TICK
        while not self._stopped.wait(tick):
            try:
                self._step()
            except Exception:
                # Storage briefly unreachable, a plugin's bug: the worker must outlive it.
                self._log_error("camera %s: worker step failed", self.camera.alias)

    def _step(self) -> None:
        seen = self.source.last_frame_at
        if seen is not None and seen != self._last_seen:
            self.storage.touch_camera(self.camera.id, seen)
            self._last_seen = seen
        if not self.reads_auto:
            return
        frame = self.source.latest()
        if frame is not None and frame.captured_at != self._last_read_at:
            self._last_read_at = frame.captured_at
            if self._gate.changed(frame):
                self._read(frame)
        self._store(self._grouper.expire(self.clock()))

    def _read(self, frame: Frame) -> None:
        try:
            read = self.reader.read(frame, country=self.camera.country)
        except AlprError as exc:
            self._log_error("camera %s: ALPR engine failed: %s", self.camera.alias, exc)
            return
        if read is not None:
            sighting = Sighting(
                plate=read.plate, score=read.score, at=frame.captured_at, frame=frame, box=read.box
            )
            self._store(self._grouper.add(sighting))

    def _store(self, vehicles: list[Vehicle]) -> None:
        for vehicle in vehicles:
            best = vehicle.best
            read = PlateRead(plate=best.plate, score=best.score, box=best.box)
            flow, _ = record_flow(
                self.storage,
                self.camera,
                best.frame,
                read,
                trigger_mode="auto",
                lpr_version=self.reader.version,
            )
            self.flows_made += 1
            log.info(
                "camera %s: vehicle %s (score %.2f, %d reads) -> flow %d",
                self.camera.alias,
                flow.plate,
                flow.score,
                vehicle.sightings,
                flow.id,
            )

    def _log_error(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last_error_log >= ERROR_LOG_INTERVAL:
            self._last_error_log = now
            log.warning(message, *args, exc_info=log.isEnabledFor(logging.DEBUG))


class CameraWorkers:
    """The workers of every enabled camera, kept in step with storage; see the module docstring.

    ``source_options`` maps a frame-source kind's name (``ffmpeg``, ...) to the options its
    ``open`` receives. ``snapshot_interval`` is how often a camera that has only a snapshot URL is polled.
    ``owner`` names this process in camera leases (unique among the processes sharing the database;
    64 characters at most); ``lease_ttl`` is how long a lease lasts unrenewed, longer than
    ``sync_interval``, which renews it.
    """

    def __init__(
        self,
        *,
        storage: Storage,
        plugins: Plugins,
        reader: PlateReader,
        auto: AutoOptions | None = None,
        source_options: Mapping[str, Mapping[str, Any]] | None = None,
        sync_interval: float = 2.0,
        snapshot_interval: float = 1.0,
        owner: str | None = None,
        lease_ttl: float = 15.0,
    ) -> None:
        if lease_ttl <= sync_interval:
            raise ValueError(f"lease_ttl ({lease_ttl}) must exceed sync_interval ({sync_interval})")
        self.storage = storage
        self.plugins = plugins
        self.reader = reader
        self.auto = auto or AutoOptions()
        self.source_options = dict(source_options or {})
        self.sync_interval = sync_interval
        self.snapshot_interval = snapshot_interval
        self.owner = owner or default_owner()
        self.lease_ttl = lease_ttl
        self._workers: dict[int, CameraWorker] = {}
        self._leased: set[int] = set()
        self._renewed_at = time.monotonic()
        self._failed: dict[int, Camera] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the workers of the enabled cameras now, then follow changes in the background."""
        self.sync()
        self._thread = threading.Thread(target=self._follow, name="camera-workers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop following changes, stop every worker and release the leases. Idempotent."""
        self._stopped.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self._stop_workers()
        leased, self._leased = self._leased, set()
        try:
            self.storage.release_cameras(self.owner, leased)
        except Exception:
            # They expire by themselves; another process then takes them over a little later.
            log.warning("camera workers: cannot release the camera leases", exc_info=True)

    def _stop_workers(self) -> None:
        with self._lock:
            workers = list(self._workers.values())
            self._workers.clear()
        for worker in workers:
            worker.stop()

    def worker(self, camera_id: int) -> CameraWorker | None:
        """The running worker of this camera, or ``None``."""
        return self._workers.get(camera_id)

    def watched(self) -> list[Camera]:
        """The cameras that have a running worker, ordered by id."""
        return sorted((w.camera for w in list(self._workers.values())), key=lambda c: c.id)

    def last_frame_at(self, camera_id: int) -> datetime | None:
        """When the newest frame of a watched camera arrived, or ``None``."""
        worker = self._workers.get(camera_id)
        return None if worker is None else worker.source.last_frame_at

    def latest(self, camera_id: int) -> Frame | None:
        """The newest frame of a watched camera, or ``None`` when it is not watched or has none yet."""
        worker = self._workers.get(camera_id)
        return None if worker is None else worker.latest()

    def sync(self) -> None:
        """Start, restart or stop workers so that exactly the enabled cameras whose lease this process
        holds are watched as configured; renew those leases, take the free ones, release the others."""
        enabled = {
            camera.id: camera
            for camera in self.storage.list_cameras()
            if camera.enabled and (camera.source or camera.snapshot_url)
        }
        asked_at = time.monotonic()
        leased = self.storage.claim_cameras(self.owner, enabled.keys(), ttl=self.lease_ttl)
        self._renewed_at = asked_at
        unwanted = self._leased - enabled.keys()  # disabled or removed: another process must not wait
        self._leased = leased
        if unwanted:
            self.storage.release_cameras(self.owner, unwanted)
        for camera_id in self._workers.keys() & enabled.keys() - leased:
            # Our lease expired (a pause longer than lease_ttl) and another process took the camera.
            log.warning("camera %s: another process watches it now", enabled[camera_id].alias)
        wanted = {camera_id: camera for camera_id, camera in enabled.items() if camera_id in leased}
        with self._lock:
            stale = [
                worker
                for camera_id, worker in self._workers.items()
                if camera_id not in wanted or _config(wanted[camera_id]) != _config(worker.camera)
            ]
            for worker in stale:
                del self._workers[worker.camera.id]
        for worker in stale:
            log.info("camera %s: stopping its worker", worker.camera.alias)
            worker.stop()
        # Failures are remembered per configuration of a camera still wanted; others are forgotten.
        self._failed = {
            camera_id: self._failed[camera_id] for camera_id in wanted.keys() & self._failed.keys()
        }
        for camera_id, camera in wanted.items():
            if camera_id in self._workers or self._failed.get(camera_id) == _config(camera):
                continue
            self._start(camera)

    def _start(self, camera: Camera) -> None:
        try:
            source = self.open_source(camera)
        except SeedataError as exc:
            # Remembered, so the error is logged once per configuration, not at every sync.
            self._failed[camera.id] = _config(camera)
            log.error("camera %s: cannot open %s: %s", camera.alias, mask_url(camera.source), exc)
            return
        self._failed.pop(camera.id, None)
        worker = CameraWorker(camera, source, storage=self.storage, reader=self.reader, auto=self.auto)
        with self._lock:
            self._workers[camera.id] = worker
        worker.start()
        log.info(
            "camera %s: watching %s (%s)",
            camera.alias,
            mask_url(camera.source or camera.snapshot_url or ""),
            camera.capture_mode,
        )

    def open_source(self, camera: Camera) -> FrameSource:
        return open_camera_source(
            self.plugins, camera, self.source_options, snapshot_interval=self.snapshot_interval
        )

    def _follow(self) -> None:
        while not self._stopped.wait(self.sync_interval):
            try:
                self.sync()
            except Exception:
                log.warning("camera workers: cannot read the cameras; retrying", exc_info=True)
                if self._workers and time.monotonic() - self._renewed_at > self.lease_ttl:
                    # Our leases have expired: another process may be watching these cameras now.
                    log.warning("camera workers: leases not renewed in time; stopping the workers")
                    self._stop_workers()
                    self._leased = set()
