"""What the benchmark scripts share: the machine's description and the synthetic flows they store."""

from __future__ import annotations

import platform
import random
import string
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from seedata_core.models import FlowImages, NewFlow

START = datetime(2025, 1, 1, tzinfo=UTC)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def plate(rng: random.Random) -> str:
    """A Brazilian plate, lower case: the old format (a digit fourth) or Mercosul's (a letter)."""
    letters = "".join(rng.choices(string.ascii_lowercase, k=3))
    fourth = rng.choice(string.ascii_lowercase + string.digits)
    return f"{letters}{rng.randrange(10)}{fourth}{rng.randrange(100):02d}"


def bench_flows(n: int, camera_ids: list[int], *, days: int = 365) -> Iterator[tuple[NewFlow, FlowImages]]:
    """``n`` flows with ids 1..n spread over ``days`` from :data:`START`, oldest first, 10 % without a
    plate, no pictures; the same flows on every run."""
    rng = random.Random(42)
    step = days * 86400 / n
    for i in range(1, n + 1):
        read = rng.random() < 0.9
        yield (
            NewFlow(
                id=i,
                camera_id=rng.choice(camera_ids),
                plate=plate(rng) if read else None,
                score=round(rng.uniform(0.5, 1), 6) if read else 0.0,
                timestamp=START + timedelta(seconds=int(i * step)),
                trigger_mode=rng.choice(("manual", "auto")),
                lpr_version="bench 1.0",
            ),
            FlowImages(),
        )
