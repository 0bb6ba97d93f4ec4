"""`seedata serve` as a real process behind uvicorn, driven over loopback like a client would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .conftest import HttpCall


def test_serve(tmp_path: Path, free_port: int, call: HttpCall) -> None:
    env = {**os.environ, "SEEDATA_TIMEZONE": "UTC"}
    base_cmd = [sys.executable, "-m", "seedata_server", "--data-dir", str(tmp_path / "data")]
    subprocess.run(
        [*base_cmd, "users", "add", "a@b.c", "--password-stdin"],
        input="pw-123456\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    port = free_port
    server = subprocess.Popen(
        [*base_cmd, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if call(f"{base}/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        status, _, body = call(f"{base}/authenticate", {"email": "a@b.c", "password": "pw-123456"})
        assert status == 200
        token = json.loads(body)["data"]["token"]
        status, headers, body = call(f"{base}/flows", token=token)
        assert (status, body) == (200, b"[]")
        assert headers["Content-Type"] == "application/json; charset=UTF-8"
        assert headers["X-Pagination-Total-Count"] == "0"
        status, _, body = call(f"{base}/flows/search", {"filter": {"foo": 1}}, token=token)
        assert status == 422
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=15)
    assert server.returncode in (0, -signal.SIGTERM), output  # uvicorn re-raises SIGTERM after a clean stop
    assert "Application shutdown complete" in output
    assert "Traceback" not in output
