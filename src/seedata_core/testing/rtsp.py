"""A real RTSP camera on loopback for tests: GStreamer's RTSP server looping a video file.

The server (``rtsp_server.py`` beside this module) runs under the system ``python3``, which has
GStreamer's bindings from Debian packages; the ``rtsp_server`` fixture fails, never skips, when they are
missing, with the command that installs them.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# GStreamer's Python bindings come from Debian packages, so the server runs under the system python3.
SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")
INSTALL_HINT = (
    "apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base "
    "gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav"
)
READY_TIMEOUT = 10.0


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The first line ``process`` prints, or ``""`` when it prints none within ``timeout`` seconds."""
    stdout = process.stdout
    assert stdout is not None
    lines: list[str] = []
    # readline has no timeout: read on a thread so that a server that hangs fails the test.
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return lines[0] if lines else ""


class RtspServer:
    """An RTSP camera served by ``rtsp_server.py`` in a subprocess: :meth:`start` it, kill it, start it again.

    The first start lets the system pick a free port; every later start listens on that same port, so a
    client sees the same camera come back.
    """

    def __init__(self, video: Path, name: str = "cam") -> None:
        self.video = video
        self.name = name
        self.port = 0
        self.process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        if not self.port:
            raise RuntimeError("the RTSP server has not been started yet")
        return f"rtsp://127.0.0.1:{self.port}/{self.name}"

    def start(self) -> None:
        """Start the server and return once it listens; fails the test with its stderr if it cannot."""
        if self.process is not None:
            raise RuntimeError("the RTSP server is already running")
        args = [
            SYSTEM_PYTHON,
            str(SERVER_SCRIPT),
            str(self.video),
            "--port",
            str(self.port),
            "--name",
            self.name,
        ]
        # stderr goes to a file: a pipe nobody reads could fill up with GStreamer warnings and block it.
        with tempfile.TemporaryFile("w+") as log:
            process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, text=True
            )
            self.process = process
            line = _read_line(process, READY_TIMEOUT)
            if not line.startswith("ready "):
                self.stop()
                log.seek(0)
                pytest.fail(f"the RTSP server did not start within {READY_TIMEOUT:g} s: {log.read().strip()}")
        self.port = int(line.split()[1])

    def stop(self) -> None:
        """Kill the server at once (like a camera losing power) and reap it. Idempotent."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(scope="session")
def gstreamer_rtsp() -> None:
    """Fails (never skips) when the system python3 cannot load GStreamer's RTSP server: CI installs it."""
    probe = (
        "import gi; gi.require_version('GstRtspServer', '1.0'); gi.require_version('Gst', '1.0'); "
        "from gi.repository import Gst, GstRtspServer; Gst.init(None); "
        "needed = ('appsrc', 'parsebin', 'qtdemux', 'h264parse', 'rtph264pay'); "
        "missing = [e for e in needed if not Gst.ElementFactory.find(e)]; "
        "missing and print('missing GStreamer elements: ' + ', '.join(missing))"
    )
    try:
        result = subprocess.run(
            [SYSTEM_PYTHON, "-c", probe], capture_output=True, text=True, timeout=30, check=False
        )
    except FileNotFoundError:
        pytest.fail(f"{SYSTEM_PYTHON} not found; the RTSP tests need it with: {INSTALL_HINT}")
    if result.returncode:
        problem = (result.stderr.strip().splitlines() or [f"exit code {result.returncode}"])[-1]
    else:
        problem = result.stdout.strip()
    if problem:
        pytest.fail(
            f"{SYSTEM_PYTHON} cannot run GStreamer's RTSP server ({problem}); install: {INSTALL_HINT}"
        )


@pytest.fixture
def rtsp_server(gstreamer_rtsp: None) -> Iterator[Callable[..., RtspServer]]:
    """Starts RTSP cameras on a video file, ``rtsp_server(path, name="cam")``; kills them after the test."""
    servers: list[RtspServer] = []

    def starter(video: Path, name: str = "cam") -> RtspServer:
        server = RtspServer(video, name)
        servers.append(server)
        server.start()
        return server

    yield starter
    for server in servers:
        server.stop()
