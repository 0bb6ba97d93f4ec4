"""Watch a camera and trigger a capture from your own program, without the HTTP server.

    python docs/examples/embed_capture.py DATA_DIR [VIDEO]

Adds a camera playing VIDEO (default: the sample video that ships with Seedata), triggers a capture
the way POST /flows does, then lets the camera workers make automatic flows for a few seconds.
"""

from __future__ import annotations

import sys
import time

from seedata_core import NewCamera, Settings
from seedata_core.samplevideo import bundled_sample_video
from seedata_core.service import Seedata
from seedata_core.trigger import TriggerRequest


def main(data_dir: str, video: str) -> None:
    with Seedata.open(Settings(data_dir=data_dir, timezone="UTC")) as seedata:
        camera = seedata.storage.add_camera(NewCamera(alias="gate", source=video, country="br"))

        # Without running workers, a trigger opens the camera's stream for itself.
        result = seedata.trigger(TriggerRequest(camera_id=camera.id, capture_delay=0, max_retries=5))
        print(f"manual: plate {result.flow.plate} after {result.retries} retries ({result.image_source})")

        # Workers watch every enabled camera: keep-alive, and flows from passing vehicles.
        seedata.start_workers()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            page, flows = seedata.search_flows({"trigger_mode": "auto"})
            if page.total >= 2:
                break
            time.sleep(0.5)
        for flow in reversed(flows):
            print(f"auto: plate {flow.plate} score {flow.score:.2f}")
        # Leaving the with block stops the workers and closes the storage.


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else str(bundled_sample_video()))
