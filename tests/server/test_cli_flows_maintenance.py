"""`seedata flows reread` and `seedata flows prune`: stored flows read again, old flows deleted."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from seedata_core.filter_ast import MATCH_ALL
from seedata_core.imaging import decode_image, ffmpeg_exe
from seedata_core.models import FlowImages, NewCamera, NewFlow
from seedata_core.samplevideo import bundled_sample_video, sample_timeline
from seedata_core.service import Seedata
from seedata_core.settings import Settings
from seedata_server.cli import main

T0 = datetime(2025, 3, 30, 12, 0, tzinfo=UTC)


def sample_frame_jpeg(tmp_path: Path, at: float) -> bytes:
    out = tmp_path / f"frame-{at}.jpg"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-ss",
            f"{at}",
            "-i",
            str(bundled_sample_video()),
            "-frames:v",
            "1",
            str(out),
        ],
        check=True,
    )
    return out.read_bytes()


def test_reread_fills_in_plates_after_an_engine_failure(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=str(data), timezone="UTC")
    vehicle = sample_timeline()[0]
    with_plate = sample_frame_jpeg(tmp_path, vehicle.middle)
    empty_road = sample_frame_jpeg(tmp_path, 0.0)
    with Seedata.open(settings) as seedata:
        camera = seedata.storage.add_camera(NewCamera(alias="gate", source="rtsp://gate/1", country="br"))

        def add(image: bytes | None, plate: str | None, seconds: int) -> int:
            flow = NewFlow(
                camera_id=camera.id,
                plate=plate,
                score=0.3 if plate else 0.0,
                timestamp=T0.replace(second=seconds),
                trigger_mode="manual",
                lpr_version="old 0.1",
            )
            return seedata.storage.add_flow(flow, FlowImages(image=image, plate_image=image)).id

        failed = add(with_plate, None, 1)  # stored after an engine failure
        misread = add(with_plate, "bra2e1", 2)  # an old engine's misread
        nothing = add(empty_road, None, 3)
        no_picture = add(None, None, 4)  # imported from the original product, list form

    result = CliRunner().invoke(
        main,
        ["--data-dir", str(data), "flows", "reread", "--filter", '{"id": {"<=": 3}}'],
        env={"SEEDATA_TIMEZONE": "UTC"},
    )
    assert result.exit_code == 0, result.output
    assert "read 3 flows again: 2 changed plate, 0 without a picture, 0 failed" in result.output

    with Seedata.open(settings) as seedata:
        flows = {flow.id: flow for flow in seedata.storage.iter_flows(MATCH_ALL)}
        for flow_id in (failed, misread):
            flow = flows[flow_id]
            assert flow.plate == vehicle.plate.lower()
            assert flow.score >= 0.5
            assert flow.lpr_version.startswith("ppocr")
            assert flow.trigger_mode == "manual"
            assert flow.timestamp.second == flow_id
            images = seedata.storage.get_images(flow)
            assert images.image == with_plate
            crop = decode_image(images.plate_image or b"", captured_at=T0)
            assert crop.width < 400  # the plate, not the whole picture
        assert flows[nothing].plate is None
        assert flows[nothing].lpr_version.startswith("ppocr")
        assert seedata.storage.get_images(flows[nothing]).plate_image is None
        assert flows[no_picture].lpr_version == "old 0.1"  # outside the filter
        # No picture files left behind by the replaced crops: one whole picture and one crop per read flow.
        files = [p for p in (data / "images").rglob("*.jpg") if "staging" not in p.parts]
        assert len(files) == 3 + 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--filter", "{"], "not JSON"),
        (["--filter", '{"colour": "red"}'], 'Unknown filter attribute "colour"'),
    ],
)
def test_bad_filters_are_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path / "d"), "flows", "reread", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_prune_deletes_flows_older_than_the_cut(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=str(data), timezone="UTC")
    now = datetime.now(UTC)
    with Seedata.open(settings) as seedata:
        camera = seedata.storage.add_camera(NewCamera(alias="gate", source="rtsp://gate/1"))
        for days in (40, 31, 29, 1):
            seedata.storage.add_flow(
                NewFlow(
                    camera_id=camera.id,
                    plate="abc1234",
                    score=0.9,
                    timestamp=now - timedelta(days=days),
                    trigger_mode="auto",
                    lpr_version="v",
                ),
                FlowImages(image=b"\xff\xd8\xff" + bytes(100)),
            )
    runner = CliRunner()
    result = runner.invoke(main, ["--data-dir", str(data), "flows", "prune", "--older-than", "30"])
    assert result.exit_code == 0, result.output
    assert "deleted 2 flows and 206 bytes of pictures" in result.output
    with Seedata.open(settings) as seedata:
        assert seedata.storage.count_flows(MATCH_ALL) == 2
    assert runner.invoke(main, ["--data-dir", str(data), "flows", "prune"]).exit_code == 2
    assert (
        runner.invoke(main, ["--data-dir", str(data), "flows", "prune", "--older-than", "0"]).exit_code == 2
    )
