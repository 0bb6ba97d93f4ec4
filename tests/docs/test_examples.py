"""The runnable examples in docs/ run and print what the guides say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).parents[2] / "docs"


def run_example(name: str, data_dir: Path) -> list[str]:
    """The lines an example script prints when run on ``data_dir``."""
    result = subprocess.run(
        [sys.executable, str(DOCS / "examples" / name), str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.splitlines()


def test_embed_search(tmp_path: Path) -> None:
    lines = run_example("embed_search.py", tmp_path / "data")
    assert lines[0] == "2 flows match"
    assert lines[1:] == ["3 gate dvi3a23 2025-03-30 12:02:00", "1 gate dvi3a22 2025-03-30 12:00:00"]


def test_embed_capture(tmp_path: Path) -> None:
    lines = run_example("embed_capture.py", tmp_path / "data")
    assert lines[0].startswith("manual: plate ")
    assert lines[0].endswith("(rtsp)")
    auto = lines[1:]
    assert len(auto) >= 2
    assert {line.split()[2] for line in auto} <= {"bra2e19", "abc1234"}
