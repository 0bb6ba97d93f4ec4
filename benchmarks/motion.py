"""MotionGate.changed cost per frame size (best and median of 7 runs of 200 frames), pure Python.

Random pictures, so every call samples, compares and takes a new reference: its most work. No arguments."""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime, timedelta

from seedata_core.frames import Frame
from seedata_core.motion import MotionGate

T0 = datetime(2024, 1, 1, tzinfo=UTC)

for width, height in ((1280, 720), (1920, 1080)):
    pictures = [os.urandom(width * height * 3) for _ in range(2)]
    step = timedelta(milliseconds=40)
    frames = [
        Frame(width=width, height=height, rgb=pictures[i % 2], captured_at=T0 + step * i) for i in range(200)
    ]
    gate = MotionGate(keepalive=None)
    gate.changed(frames[1])  # builds the sampling layout, as a camera's first frame does
    runs = []
    for _ in range(7):
        start = time.perf_counter()
        assert all(gate.changed(frame) for frame in frames)
        runs.append((time.perf_counter() - start) / len(frames) * 1e3)
    print(f"{width}x{height}: best {min(runs):.3f} ms, median {statistics.median(runs):.3f} ms per frame")
