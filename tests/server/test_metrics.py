"""GET /metrics: Prometheus text without authentication."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from litestar.testing import TestClient

from seedata_core.models import FlowImages, NewCamera, NewFlow
from seedata_core.service import Seedata

# One sample line of the text format: name, optional labels, a number.
SAMPLE = re.compile(r'[a-z_]+(\{[a-z_]+="(?:[^"\\]|\\.)*"\})? -?[0-9.e+]+')


def samples(text: str) -> dict[str, float]:
    found = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        assert SAMPLE.fullmatch(line), line
        name, value = line.rsplit(" ", 1)
        found[name] = float(value)
    return found


def test_metrics_need_no_token_and_count_what_storage_holds(client: TestClient, seedata: Seedata) -> None:  # type: ignore[type-arg]
    gate = seedata.storage.add_camera(NewCamera(alias='gate "north"', source="rtsp://gate/1"))
    seedata.storage.add_camera(NewCamera(alias="dock", source="rtsp://dock/1", enabled=False))
    for second in range(3):
        seedata.storage.add_flow(
            NewFlow(
                camera_id=gate.id,
                plate="abc1234",
                score=0.9,
                timestamp=datetime(2025, 1, 1, 0, 0, second, tzinfo=UTC),
                trigger_mode="auto",
                lpr_version="x",
            ),
            FlowImages(),
        )
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    found = samples(answer.text)
    assert found["seedata_flows"] == 3
    assert found['seedata_cameras{status="offline"}'] == 1
    assert found['seedata_cameras{status="disabled"}'] == 1
    assert found['seedata_cameras{status="online"}'] == 0
    assert found['seedata_camera_up{camera="gate \\"north\\""}'] == 0
    assert not any(name.startswith("seedata_alpr_") for name in found)  # no engine was loaded for this
    assert "# TYPE seedata_triggers_total counter" in answer.text
