"""docs/examples/seedata-alpr-example installs with pip and works through its entry point.

It is installed into a temporary folder put on ``PYTHONPATH`` of the commands it runs, never into the
environment running the tests, so nothing is left behind and parallel test runs do not see it. pip
builds it in an isolated environment, as a user's pip would: the setuptools that a Python 3.11
virtual environment starts with cannot build a wheel without the ``wheel`` package.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from .conftest import install_example


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_example("seedata-alpr-example", tmp_path_factory)[1]


def seedata(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "seedata_server", *args],
        env={**os.environ, "PYTHONPATH": path, "SEEDATA_ALPR_ENGINE": "ppocr"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def street(path: Path, left: str, right: str) -> Path:
    """A 640x360 picture with a plate on each half."""
    picture = Image.new("RGB", (640, 360), (70, 90, 80))
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=44)
    for x, text in ((30, left), (350, right)):
        draw.rectangle([x, 150, x + 260, 215], fill=(240, 240, 240), outline=(10, 10, 10), width=3)
        draw.text((x + 18, 156), text, font=font, fill=(15, 15, 15))
    picture.save(path)
    return path


def test_engines_lists_the_installed_example(site: Path) -> None:
    result = seedata(site, "alpr", "engines")
    assert result.returncode == 0, result.stderr
    assert " example\texample 1.0\tReads inside a region of interest" in result.stdout


def test_the_example_reads_only_inside_its_region(site: Path, tmp_path: Path) -> None:
    first = street(tmp_path / "first.png", "ABC1234", "BRA2E19")
    second = street(tmp_path / "second.png", "BRA2E19", "ABC1234")
    result = seedata(
        site, "alpr", "read", "--engine", "example", "--option", "roi=320,0,320,360",
        "--option", "threads=1", "--country", "br", str(first), str(second),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    for line, inside, outside in ((lines[0], "BRA2E19", "ABC1234"), (lines[1], "ABC1234", "BRA2E19")):
        plates = [p["plate"] for p in line["plates"]]
        assert plates[0] == inside
        assert outside not in plates
        x, y, _, _ = line["plates"][0]["box"]
        assert 340 <= x < 400  # moved back into the whole picture's coordinates
        assert 140 <= y < 170


def test_a_bad_option_is_a_one_line_error(site: Path, tmp_path: Path) -> None:
    picture = street(tmp_path / "p.png", "ABC1234", "BRA2E19")
    result = seedata(site, "alpr", "read", "--engine", "example", "--option", "roi=1,2,3", str(picture))
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: the example engine's roi must be x,y,width,height, got '1,2,3'"
