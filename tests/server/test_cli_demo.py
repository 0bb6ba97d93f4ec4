"""`seedata demo` as a new user runs it: a real process, the bundled video, real reads, real HTTP."""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import msgspec
import pytest
from click.testing import CliRunner

from seedata_core.samplevideo import bundled_sample_video
from seedata_core.service import Seedata
from seedata_core.settings import Settings
from seedata_server.cli import main

from .conftest import HttpCall

SEEDATA = Path(sys.executable).with_name("seedata")  # the console script the README runs
FLOW_WAIT = 30.0
EXIT_WAIT = 10.0


class Banner(msgspec.Struct):
    base: str
    email: str
    password: str
    camera_id: int
    lines: list[str]


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _read_banner(lines: queue.Queue[str | None], log: Path) -> Banner:
    """The printed block, read until its last curl line (the manual trigger)."""
    seen: list[str] = []
    deadline = time.monotonic() + 60
    while not seen or not seen[-1].startswith("curl -s -X POST"):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no banner in 60 s: {seen}\n{log.read_text()}"
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            continue
        assert line is not None, f"demo exited before its banner: {seen}\n{log.read_text()}"
        seen.append(line.rstrip("\n"))
    text = "\n".join(seen)

    def field(name: str) -> str:
        found = re.search(rf"^  {name}:\s+(\S+)", text, re.MULTILINE)
        assert found, text
        return found.group(1)

    camera = re.search(r"^  camera:\s+demo \(id (\d+)\)", text, re.MULTILINE)
    assert camera, text
    return Banner(field("API"), field("email"), field("password"), int(camera.group(1)), seen)


@contextmanager
def running_demo(
    data_dir: Path, port: int, log: Path, env: dict[str, str], stop: signal.Signals
) -> Iterator[Banner]:
    """Run `seedata demo`, yield its banner once the API answers, then stop it with ``stop``."""
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [str(SEEDATA), "demo", "--data-dir", str(data_dir), "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    try:
        yield _read_banner(lines, log)
        process.send_signal(stop)
        started = time.monotonic()
        process.wait(timeout=EXIT_WAIT)
        assert time.monotonic() - started < EXIT_WAIT
        # uvicorn exits 0 or re-raises the signal after a clean stop.
        assert process.returncode in (0, -stop), log.read_text()
        output = log.read_text()
        assert "Application shutdown complete" in output
        assert "Traceback" not in output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _head_then_get(port: int, path: str, token: str) -> None:
    """HEAD, then GET on the same connection: a body sent after HEAD's headers would be read as the
    GET's response, which uvicorn must not let happen."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        connection.request("HEAD", path, headers=headers)
        head = connection.getresponse()
        assert (head.status, head.read()) == (200, b"")
        connection.request("GET", path, headers=headers)
        got = connection.getresponse()
        body = got.read()
        assert got.status == 200
        assert head.getheader("Content-Length") == got.getheader("Content-Length") == str(len(body))
        assert head.getheader("X-Pagination-Total-Count") == got.getheader("X-Pagination-Total-Count")
    finally:
        connection.close()


def _wait_ready(call: HttpCall, base: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if call(f"{base}/health")[0] in (200, 503):
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, "the API did not answer in 30 s"
        time.sleep(0.1)


def _login(call: HttpCall, banner: Banner) -> str:
    status, _, body = call(
        f"{banner.base}/authenticate", {"email": banner.email, "password": banner.password}
    )
    assert status == 200, body
    token: str = json.loads(body)["data"]["token"]
    return token


def _wait_auto_flow_and_online(
    call: HttpCall, banner: Banner, token: str
) -> tuple[list[dict[str, object]], dict[str, object]]:
    """The auto flows and the demo camera, once there is one and it is online (``FLOW_WAIT`` at most)."""
    deadline = time.monotonic() + FLOW_WAIT
    while True:
        status, _, body = call(f"{banner.base}/flows", token=token)
        assert status == 200, body
        auto = [f for f in json.loads(body) if f["trigger_mode"] == "auto"]
        status, _, body = call(f"{banner.base}/cameras", token=token)
        assert status == 200, body
        camera = next(c for c in json.loads(body) if c["id"] == banner.camera_id)
        if auto and camera["status"] == "online":
            return auto, camera
        assert time.monotonic() < deadline, f"no auto flow or camera offline after {FLOW_WAIT} s"
        time.sleep(0.5)


def _env(tmp_path: Path) -> dict[str, str]:
    # A configured data directory and database that the demo must leave alone.
    return {
        **os.environ,
        "SEEDATA_TIMEZONE": "UTC",
        "SEEDATA_DATA_DIR": str(tmp_path / "real-data"),
        "SEEDATA_DATABASE_URL": f"sqlite:///{tmp_path / 'real.db'}",
    }


def test_help() -> None:
    result = CliRunner().invoke(main, ["demo", "--help"])
    assert result.exit_code == 0, result.output
    assert "./seedata-demo" in result.output
    assert "never the configured one" in result.output
    assert "seedata serve" in result.output


def test_bad_password_is_bad_usage(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--data-dir", str(tmp_path / "d"), "--password", ""])
    assert result.exit_code == 2
    assert "--password" in result.output
    assert not (tmp_path / "d").exists()


@pytest.mark.slow
def test_demo_end_to_end_and_again(tmp_path: Path, free_port: int, call: HttpCall) -> None:
    data_dir = tmp_path / "demo"
    env = _env(tmp_path)
    with running_demo(data_dir, free_port, tmp_path / "first.log", env, signal.SIGINT) as first:
        assert first.base == f"http://127.0.0.1:{free_port}"
        assert first.email == "demo@example.com"
        assert len(first.password) >= 12
        # The printed curl lines use the real address, credentials and camera id.
        assert f'"password": "{first.password}"' in first.lines[-3]
        assert first.lines[-2] == f'curl -s {first.base}/flows -H "Authorization: Bearer $TOKEN"'
        assert f"-d '{{\"camera_id\": {first.camera_id}}}'" in first.lines[-1]
        _wait_ready(call, first.base)
        token = _login(call, first)

        auto, camera = _wait_auto_flow_and_online(call, first, token)
        assert {f["plate"] for f in auto} <= {"bra2e19", "abc1234"}
        assert camera["alias"] == "demo"
        assert camera["rtsp"] == str(bundled_sample_video())
        assert camera["capture_mode"] == "both"

        status, _, body = call(f"{first.base}/flows", {"camera_id": first.camera_id}, token=token)
        assert status == 200, body
        manual = json.loads(body)
        _head_then_get(free_port, "/flows", token)
        assert manual["trigger_mode"] == "manual"
        assert manual["image_source"] == "rtsp"

    password_file = data_dir / "demo-password"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert password_file.read_text().strip() == first.password
    assert not (tmp_path / "real-data").exists()
    assert not (tmp_path / "real.db").exists()

    # As after a reinstall elsewhere: the camera's source is an old path, and the camera is disabled.
    settings = Settings(data_dir=str(data_dir))
    with Seedata.open(settings) as seedata:
        seedata.storage.update_camera(first.camera_id, source="/gone/sample.mp4", enabled=False)

    with running_demo(data_dir, free_port, tmp_path / "second.log", env, signal.SIGTERM) as second:
        assert (second.camera_id, second.password, second.email) == (
            first.camera_id,
            first.password,
            first.email,
        )
        _wait_ready(call, second.base)
        token = _login(call, second)
        status, _, body = call(f"{second.base}/flows", token=token)
        assert status == 200
        assert manual["id"] in {f["id"] for f in json.loads(body)}  # the first run's data is kept
    with Seedata.open(settings) as seedata:
        cameras = seedata.cameras()
        users = seedata.storage.list_users()
    assert [(c.alias, c.source, c.enabled) for c in cameras] == [("demo", str(bundled_sample_video()), True)]
    assert [u.email for u in users] == ["demo@example.com"]
