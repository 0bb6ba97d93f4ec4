"""Embed Seedata's core in another program: open a storage, add flows, search them. No server.

python docs/examples/embed_search.py [DATA_DIR]
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime, timedelta

from seedata_core import FlowImages, NewCamera, NewFlow, Settings
from seedata_core.pagination import PageRequest
from seedata_core.service import Seedata


def main(data_dir: str) -> None:
    settings = Settings(data_dir=data_dir, timezone="UTC")
    with Seedata.open(settings) as seedata:
        gate = seedata.storage.add_camera(NewCamera(alias="gate", source="rtsp://10.0.0.5/live"))
        start = datetime(2025, 3, 30, 12, 0, tzinfo=UTC)
        for minute, plate in enumerate(["dvi3a22", "abc1234", "dvi3a23", None]):
            seedata.storage.add_flow(
                NewFlow(
                    camera_id=gate.id,
                    plate=plate,
                    score=0.97 if plate else 0.0,
                    timestamp=start + timedelta(minutes=minute),
                    trigger_mode="auto",
                    lpr_version="example 1.0",
                ),
                FlowImages(),
            )

        # The same filter objects the HTTP API takes (SPEC §1.3).
        page, flows = seedata.search_flows({"plate": {"like": "dvi"}}, PageRequest(per_page=10))
        print(f"{page.total} flows match")
        for flow in flows:
            print(flow.id, flow.camera, flow.plate, seedata.zone.format(flow.timestamp))


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(tmp)
