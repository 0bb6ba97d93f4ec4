"""``seedata alpr serve``: its options, and the process starting up (with the model-free http engine)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from seedata_server.cli.alpr import alpr

ENV = {"SEEDATA_ALPR_ENGINE": "ppocr"}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--token", "a", "--token-file", "{token_file}"], 2, "give --token or --token-file, not both"),
        (["--token-file", "{empty_file}"], 1, "is empty"),
        (["--token-file", "{missing}"], 2, "does not exist"),
        (["--engine", "http"], 1, "the http ALPR engine needs a url option"),
        (
            ["--engine", "http", "--option", "url=http://h", "--option", "colour=red"],
            1,
            "unknown field `colour`",
        ),
        (["--concurrency", "0"], 2, "0 is not in the range 1<=x<=64"),
        (["--max-body-size", "10"], 2, "10 is not in the range x>=1024"),
    ],
)
def test_bad_options_fail_before_serving(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    (tmp_path / "token").write_text("tok\n")
    (tmp_path / "empty").write_text("\n")
    paths = {
        "token_file": str(tmp_path / "token"),
        "empty_file": str(tmp_path / "empty"),
        "missing": str(tmp_path / "missing"),
    }
    result = CliRunner().invoke(alpr, ["serve", *(a.format(**paths) for a in args)], env=ENV)
    assert result.exit_code == code, result.output
    assert message in result.output


def test_serving_without_a_token_on_an_open_address_warns() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    command = [
        sys.executable,
        "-m",
        "seedata_server",
        "alpr",
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        str(port),
    ]
    command += ["--engine", "http", "--option", "url=http://upstream:8882"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env={**os.environ, **ENV})
    try:
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    warning, listening = stderr.splitlines()[:2]
    assert warning == f"seedata: warning: no token: anyone who reaches 0.0.0.0:{port} can read plates"
    assert listening == (
        f"http 0.1.0 (http://upstream:8882/v1/plate-reader/) listening on http://0.0.0.0:{port}/v1/plate-reader/"
    )
