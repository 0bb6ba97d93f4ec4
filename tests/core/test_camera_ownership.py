"""Several server processes on one database: each camera is watched by exactly one of them, and
another takes a camera over when its process dies (within the lease's ttl) or stops (at once).

Real OS processes, each a :class:`~seedata_core.service.Seedata` with its camera workers on the same
SQLite data directory; they print the ids of the cameras they watch every 0.2 s. The cameras play the
bundled sample video in manual mode (no ALPR engine). PostgreSQL and MariaDB run the same leases in
``plugins/seedata-storage-sql/tests/test_camera_leases.py``.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from seedata_core.errors import ConfigError
from seedata_core.models import NewCamera
from seedata_core.samplevideo import bundled_sample_video
from seedata_core.service import Seedata
from seedata_core.settings import Settings

SYNC = 0.2
CAMERAS = 3

CHILD = """
import signal, sys, time
from seedata_core.service import Seedata
from seedata_core.settings import Settings

# SIGTERM stops cleanly (the with block closes, releasing the leases); SIGKILL is a crash.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
settings = Settings(data_dir=sys.argv[1], camera_sync_interval=float(sys.argv[2]),
                    camera_lease_ttl=float(sys.argv[3]))
with Seedata.open(settings) as seedata:
    workers = seedata.start_workers()
    while True:
        print("watching", *(camera.id for camera in workers.watched()), flush=True)
        time.sleep(0.2)
"""


class Server:
    """One child process, and the set of camera ids it said last that it watches (``None``: not yet)."""

    def __init__(self, data_dir: Path, ttl: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(data_dir), str(SYNC), str(ttl)],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.watching: set[int] | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            words = line.split()
            if words and words[0] == "watching":
                self.watching = {int(word) for word in words[1:]}

    def end(self, how: signal.Signals) -> None:
        if self.process.poll() is None:
            self.process.send_signal(how)
        self.process.wait(timeout=20)
        self._reader.join(timeout=5)


def _wait_for(condition: Callable[[], bool], timeout: float, *, since: float | None = None) -> float:
    """Seconds from ``since`` (a ``time.monotonic()``; default now) until ``condition`` held; fails the
    test after ``timeout`` of them."""
    start = time.monotonic() if since is None else since
    while not condition():
        if time.monotonic() - start > timeout:
            pytest.fail(f"not within {timeout} s")
        time.sleep(0.05)
    return time.monotonic() - start


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data directory with three enabled cameras playing the sample video, triggered manually."""
    data = tmp_path / "data"
    with Seedata.open(Settings(data_dir=str(data))) as seedata:
        for n in range(CAMERAS):
            seedata.storage.add_camera(
                NewCamera(alias=f"cam{n}", source=str(bundled_sample_video()), capture_mode="manual")
            )
    return data


@pytest.fixture
def start(data_dir: Path) -> Iterator[Callable[[float], Server]]:
    started: list[Server] = []

    def start_one(ttl: float) -> Server:
        started.append(Server(data_dir, ttl))
        return started[-1]

    yield start_one
    for server in started:
        server.end(signal.SIGKILL)


def _each_camera_watched_once(first: Server, second: Server) -> bool:
    a, b = first.watching, second.watching
    return a is not None and b is not None and not a & b and a | b == set(range(1, CAMERAS + 1))


def _settled(first: Server, second: Server) -> tuple[Server, Server]:
    """Once both run, for 2 s of samples every camera is watched by exactly one; (an owner, the other)."""
    _wait_for(lambda: _each_camera_watched_once(first, second), timeout=30)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        assert _each_camera_watched_once(first, second), (first.watching, second.watching)
        time.sleep(0.05)
    return (first, second) if first.watching else (second, first)


def test_a_dead_process_cameras_are_taken_over_within_the_ttl(start: Callable[[float], Server]) -> None:
    ttl = 2.0
    owner, other = _settled(start(ttl), start(ttl))
    killed = time.monotonic()
    owner.end(signal.SIGKILL)
    took = _wait_for(lambda: other.watching == set(range(1, CAMERAS + 1)), timeout=ttl + 2, since=killed)
    print(f"takeover after SIGKILL: {took:.2f} s (ttl {ttl} s)")


def test_a_stopped_process_releases_its_cameras_at_once(start: Callable[[float], Server]) -> None:
    ttl = 10.0  # taking over after expiry would take far longer than the bound below
    owner, other = _settled(start(ttl), start(ttl))
    stopped = time.monotonic()
    owner.end(signal.SIGTERM)
    assert owner.process.returncode == 0
    took = _wait_for(lambda: other.watching == set(range(1, CAMERAS + 1)), timeout=3, since=stopped)
    print(f"takeover after a clean stop: {took:.2f} s")


def test_the_lease_must_outlast_the_sync_interval() -> None:
    with pytest.raises(ConfigError, match="camera_lease_ttl"):
        Settings(camera_sync_interval=2, camera_lease_ttl=2)
    assert Settings(camera_sync_interval=0.2, camera_lease_ttl=2).camera_lease_ttl == 2
