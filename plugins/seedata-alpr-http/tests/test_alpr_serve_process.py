"""End to end: the http engine reading through a real `seedata alpr serve` process with the default engine."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont
from seedata_alpr_http import create

from seedata_core.errors import AlprError
from seedata_core.imaging import read_image


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for(port: int, process: subprocess.Popen[bytes], limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"alpr serve exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("alpr serve did not open its port in time")


def _plate_picture(path: Path, text: str) -> Path:
    picture = Image.new("RGB", (640, 360), (70, 90, 80))
    draw = ImageDraw.Draw(picture)
    draw.rectangle([150, 140, 470, 220], fill=(240, 240, 240), outline=(10, 10, 10), width=3)
    draw.text((175, 150), text, font=ImageFont.load_default(size=56), fill=(15, 15, 15))
    picture.save(path)
    return path


def test_reads_through_alpr_serve(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("tok-123\n")
    port = _free_port()
    command = [sys.executable, "-m", "seedata_server", "alpr", "serve", "--port", str(port)]
    command += ["--engine", "ppocr", "--option", "threads=1", "--token-file", str(token_file)]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        _wait_for(port, process)
        url = f"http://127.0.0.1:{port}"
        frame = read_image(_plate_picture(tmp_path / "plate.png", "BRA2E19"))
        engine = create({"url": url, "token": "tok-123"})
        reads = engine.read(frame, country="br")
        assert reads[0].plate == "BRA2E19"
        assert reads[0].country == "br"
        x, y, w, h = reads[0].box
        assert 140 <= x < 300
        assert 130 <= y < 180
        assert 100 < w <= 330
        assert 20 < h <= 100
        assert engine.version.startswith("ppocr ")
        assert engine.version.endswith(f" via {url}/v1/plate-reader/")
        with pytest.raises(AlprError, match="401"):
            create({"url": url, "token": "wrong"}).read(frame)
    finally:
        process.terminate()
        process.wait(10)
