"""``seedata alpr read`` and ``seedata alpr engines`` with the installed default engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from seedata_server.cli.alpr import alpr

ENV = {"SEEDATA_ALPR_ENGINE": "ppocr"}


def test_engines_lists_the_default_engine_with_its_version() -> None:
    result = CliRunner().invoke(alpr, ["engines"], env=ENV)
    assert result.exit_code == 0, result.output
    name, version, description = result.output.splitlines()[0].split("\t")
    assert name == "*ppocr"
    assert version.startswith("ppocr ")
    assert "PP-OCRv6" in version
    assert description


def _plate_png(tmp_path: Path, text: str) -> Path:
    image = pytest.importorskip("PIL.Image")
    draw_module = pytest.importorskip("PIL.ImageDraw")
    font_module = pytest.importorskip("PIL.ImageFont")
    picture = image.new("RGB", (640, 360), (70, 90, 80))
    draw = draw_module.Draw(picture)
    draw.rectangle([150, 140, 470, 220], fill=(240, 240, 240), outline=(10, 10, 10), width=3)
    draw.text((175, 150), text, font=font_module.load_default(size=56), fill=(15, 15, 15))
    path = tmp_path / f"{text}.png"
    picture.save(path)
    return path


def test_read_prints_one_json_line_per_image(tmp_path: Path) -> None:
    first, second = _plate_png(tmp_path, "ABC1234"), _plate_png(tmp_path, "BRA2E19")
    blank = tmp_path / "blank.png"
    pytest.importorskip("PIL.Image").new("RGB", (320, 240), (128, 128, 128)).save(blank)
    result = CliRunner().invoke(
        alpr, ["read", "--country", "br", str(first), str(second), str(blank)], env=ENV
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["file"] for line in lines] == [str(first), str(second), str(blank)]
    assert lines[0]["plates"][0]["plate"] == "ABC1234"
    assert lines[1]["plates"][0]["plate"] == "BRA2E19"
    assert lines[2]["plates"] == []
    best = lines[0]["plates"][0]
    assert set(best) == {"plate", "score", "box"}
    assert 0 < best["score"] <= 1
    assert len(best["box"]) == 4
    assert all(line["ms"] > 0 for line in lines)


def test_an_unreadable_file_is_reported_and_fails_the_run(tmp_path: Path) -> None:
    good = _plate_png(tmp_path, "ABC1234")
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a picture")
    result = CliRunner().invoke(alpr, ["read", str(bad), str(good)], env=ENV)
    assert result.exit_code == 1
    assert "broken.jpg" in result.stderr
    assert "1 of 2 images could not be read" in result.stderr
    assert json.loads(result.stdout.splitlines()[0])["file"] == str(good)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["read", "--country", "zz", "x.png"], 1, "unknown plate country 'zz'"),
        (["read", "--option", "threads", "x.png"], 2, "expected KEY=VALUE"),
        (["read", "--engine", "nope", "x.png"], 1, "no ALPR engine named 'nope'"),
        (["read"], 2, "Missing argument"),
    ],
)
def test_bad_usage_and_failures(args: list[str], code: int, message: str) -> None:
    result = CliRunner().invoke(alpr, args, env=ENV)
    assert result.exit_code == code
    assert message in result.output
