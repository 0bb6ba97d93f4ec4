"""Installing a docs example the way a user would, into a folder that only the example's commands see."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"


def install_example(name: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``pip install`` docs/examples/NAME into a new folder (never the test environment).

    Returns the copy it was built from (a build writes next to its sources) and the install folder, to
    put on ``PYTHONPATH`` of the commands that use it.
    """
    work = tmp_path_factory.mktemp(name)
    source = shutil.copytree(EXAMPLES / name, work / "source")
    site = work / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", f"--target={site}", str(source)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return source, site
