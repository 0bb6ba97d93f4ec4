"""docs/examples/seedata-source-example installs with pip and works through its entry point.

As for the ALPR example, it is installed into a temporary folder put on ``PYTHONPATH`` of the commands
it runs, never into the environment running the tests, so nothing is left behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from seedata_core.frames import Frame
from seedata_core.imaging import encode_jpeg
from seedata_core.plugins import Plugins, make_plugin_manager

from .conftest import install_example

# Run in a fresh interpreter that has the example on its path: open a camera the way Seedata does.
OPEN_A_CAMERA = """
import json, sys, threading, time
from datetime import UTC, datetime
from seedata_core.models import Camera
from seedata_core.plugins import Plugins, make_plugin_manager

pm = make_plugin_manager()
plugins = Plugins(pm)
camera = Camera(id=1, alias="gate", source="images://" + sys.argv[1])
spec = plugins.frame_source_for(camera.source)
before = set(threading.enumerate())
opened = time.monotonic()
source = spec.open(camera, {"interval": "0.1"})
returned_after = time.monotonic() - opened
started = set(threading.enumerate()) - before
while source.latest() is None and time.monotonic() - opened < 10:
    time.sleep(0.01)
frame = source.latest()
age = (datetime.now(UTC) - source.last_frame_at).total_seconds()
source.close()
source.close()
print(json.dumps({
    "plugins": [name for name, _ in pm.list_name_plugin()],
    "kinds": [kind.name for kind in plugins.frame_sources()],
    "chosen": spec.name,
    "returned_after": returned_after,
    "size": [frame.width, frame.height],
    "age": age,
    "threads_started": len(started),
    "threads_alive_after_close": [thread.name for thread in started if thread.is_alive()],
}))
"""


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the example and the folder it is installed in."""
    return install_example("seedata-source-example", tmp_path_factory)


def python(site: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    # -P: nothing from the working directory shadows the installed module.
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-P", *args],
        env={**os.environ, "PYTHONPATH": path},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_seedata_opens_the_example_through_its_entry_point(
    example: tuple[Path, Path], tmp_path: Path
) -> None:
    frame = Frame(width=80, height=60, rgb=b"\x80" * 80 * 60 * 3, captured_at=datetime.now(UTC))
    (tmp_path / "plate.jpg").write_bytes(encode_jpeg(frame))
    result = python(example[1], "-c", OPEN_A_CAMERA, str(tmp_path))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert "source_images" in report["plugins"]
    assert "images" in report["kinds"]
    assert report["chosen"] == "images"
    assert report["returned_after"] < 0.5  # open does not wait for the first frame
    assert report["size"] == [80, 60]
    assert 0 <= report["age"] < 1
    assert report["threads_started"] == 1
    assert report["threads_alive_after_close"] == []
    # Only the entry point made it visible: the environment running the tests does not have it.
    assert "images" not in [kind.name for kind in Plugins(make_plugin_manager()).frame_sources()]


def test_the_examples_own_tests_pass_against_the_installed_plugin(example: tuple[Path, Path]) -> None:
    source, site = example
    result = python(site, "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider", cwd=source)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout
