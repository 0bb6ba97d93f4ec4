"""The `seedata` command line (SPEC §2), run in-process with click's runner and once as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from seedata_core.service import Seedata
from seedata_core.settings import Settings
from seedata_server.cli import main

ENV = {"SEEDATA_TIMEZONE": "UTC"}


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    data = tmp_path / "data"

    def invoke(*args: str, stdin: str | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(
            main, ["--data-dir", str(data), *args], input=stdin, env=ENV, catch_exceptions=False
        )

    invoke.data_dir = data  # type: ignore[attr-defined]
    return invoke


def commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("path", commands(main))
def test_help_everywhere(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_bad_usage_exits_2(run) -> None:  # type: ignore[no-untyped-def]
    assert run("frobnicate").exit_code == 2
    assert run("cameras", "add", "gate").exit_code == 2  # neither --source nor --snapshot-url
    assert run("cameras", "add", "gate", "--source", "x", "--capture-mode", "sometimes").exit_code == 2
    assert run("flows", "export", "--filter", "{nope").exit_code == 2
    assert run("flows", "export", "--filter", '{"nope": 1}').exit_code == 2


def test_users(run) -> None:  # type: ignore[no-untyped-def]
    result = run("users", "add", "ops@example.com", "--password-stdin", stdin="s3cret-pass\n")
    assert result.exit_code == 0, result.output
    assert "added user ops@example.com" in result.output
    again = run("users", "add", "OPS@example.com", "--password-stdin", stdin="x\n")
    assert again.exit_code == 1
    assert run("users", "add", "p@example.com", stdin="pw-one\npw-one\n").exit_code == 0
    assert run("users", "disable", "ops@example.com").exit_code == 0
    assert run("users", "passwd", "p@example.com", "--password-stdin", stdin="new-pass\n").exit_code == 0
    listing = run("users", "list").output.splitlines()
    assert listing == ["1\tops@example.com\tdisabled", "2\tp@example.com\tenabled"]
    missing = run("users", "disable", "ghost@example.com")
    assert missing.exit_code == 1
    assert "no user with email ghost@example.com" in missing.output


def test_cameras(run) -> None:  # type: ignore[no-untyped-def]
    assert (
        run(
            "cameras", "add", "gate", "--source", "rtsp://u:pw@cam/live", "--manual-trigger-delay", "300"
        ).exit_code
        == 0
    )
    assert (
        run(
            "cameras", "add", "dock", "--source", "/v/dock.mp4", "--capture-mode", "auto", "--disabled"
        ).exit_code
        == 0
    )
    assert run("cameras", "add", "gate", "--source", "x").exit_code == 1
    snap = run("cameras", "add", "booth", "--snapshot-url", "http://admin:pw@10.0.0.9/snap.jpg")
    assert snap.exit_code == 0
    assert run("cameras", "list").output.splitlines() == [
        "1\tgate\tboth\tenabled\trtsp://u:***@cam/live",
        "2\tdock\tauto\tdisabled\t/v/dock.mp4",
        "3\tbooth\tboth\tenabled\thttp://admin:***@10.0.0.9/snap.jpg",
    ]
    assert run("cameras", "enable", "dock").exit_code == 0
    assert run("cameras", "disable", "gate").exit_code == 0
    assert run("cameras", "remove", "dock").exit_code == 0
    assert run("cameras", "remove", "booth").exit_code == 0
    assert run("cameras", "list").output.splitlines() == ["1\tgate\tboth\tdisabled\trtsp://u:***@cam/live"]
    assert run("cameras", "remove", "dock").exit_code == 1


LINES = [
    {
        "id": 465,
        "camera": "camera_1",
        "plate": "AAA-1A11",
        "score": 0.952351,
        "timestamp": "2025-02-08 22:52:46",
        "trigger_mode": "manual",
        "lpr_version": "1.8.0",
    },
    {
        "id": 463,
        "camera": "camera_1",
        "plate": "bbb2b22",
        "score": 0,
        "timestamp": "2025-02-08 19:47:02",
        "trigger_mode": "auto",
        "lpr_version": "1.8.0",
        "image": "/9j/AAEC",
        "plate_image": None,
    },
    {
        "id": 470,
        "camera": "camera_2",
        "plate": None,
        "score": 0,
        "timestamp": "2025-02-09 08:00:00",
        "trigger_mode": "auto",
        "lpr_version": "1.8.0",
    },
]


def test_flows_import_export_round_trip(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(line) for line in LINES) + "\n\n")
    first = run("flows", "import", str(source))
    assert first.exit_code == 0, first.output
    assert "imported 3 flows, skipped 0" in first.output
    assert "skipped 3" in run("flows", "import", str(source)).output
    exported = [json.loads(line) for line in run("flows", "export").output.splitlines()]
    assert [line["id"] for line in exported] == [463, 465, 470]
    assert exported[1]["plate"] == "aaa1a11"
    assert exported[0]["image"] == "/9j/AAEC"
    assert exported[2]["score"] == 0
    assert exported[2]["plate"] is None
    assert [line["timestamp"] for line in exported] == [
        "2025-02-08 19:47:02",
        "2025-02-08 22:52:46",
        "2025-02-09 08:00:00",
    ]
    filtered = run("flows", "export", "--filter", '{"camera": "camera_2"}').output.splitlines()
    assert [json.loads(line)["id"] for line in filtered] == [470]
    # An alias the installation did not know becomes a disabled camera without a source.
    cameras = run("cameras", "list").output.splitlines()
    assert cameras == ["1\tcamera_1\tboth\tdisabled\t", "2\tcamera_2\tboth\tdisabled\t"]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "line 2:"),
        ('{"id": 1, "camera": "c", "timestamp": "2025-13-01 00:00:00", "trigger_mode": "auto"}', "line 2:"),
        (
            '{"id": 1, "camera": "c", "timestamp": "2025-01-01 00:00:00", "trigger_mode": "sometimes"}',
            "line 2:",
        ),
        (
            '{"id": 0, "camera": "c", "timestamp": "2025-01-01 00:00:00", "trigger_mode": "auto"}',
            "line 2: id 0",
        ),
        (
            '{"id": 2, "camera": "c", "timestamp": "2025-01-01", "trigger_mode": "auto", "image": "%%%"}',
            "line 2:",
        ),
    ],
)
def test_flows_import_rejects_bad_lines(run, tmp_path: Path, line: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "bad.jsonl"
    source.write_text(json.dumps(LINES[0]) + "\n" + line + "\n")
    result = run("flows", "import", str(source))
    assert result.exit_code == 1
    assert reason in result.output


def test_keys_rotate_keeps_the_previous_key(run) -> None:  # type: ignore[no-untyped-def]
    assert run("users", "list").exit_code == 0  # first open makes the first key
    result = run("keys", "rotate")
    assert result.exit_code == 0
    assert "new signing key" in result.output
    with Seedata.open(Settings(data_dir=str(run.data_dir))) as seedata:
        assert len(seedata.storage.signing_keys()) == 2


def test_unknown_setting_is_a_one_line_failure(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "seedata_server", "--data-dir", str(tmp_path), "users", "list"],
        capture_output=True,
        text=True,
        env={"SEEDATA_PORTT": "1", "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: unknown setting SEEDATA_PORTT in the environment"
