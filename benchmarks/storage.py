"""Throughput of the SQL storage on SQLite: bulk import, then the reads behind GET /flows.

    python benchmarks/storage.py [--flows N] [--images N] [--dir DIR]

Imports ``--flows`` flows without pictures (random 7-character plates over 4 cameras, 2% manual, 10%
without a plate; built in memory first) in batches of 1000 into a fresh data directory, then
``--images`` more flows with a 2 KiB frame and a 512-byte crop each, then the first flows again (all
skipped), and times single-threaded calls of the reads the API makes.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy
from seedata_storage_sql import SqlStorage, open_storage

from seedata_core.filter_ast import MATCH_ALL, And, Cond
from seedata_core.lookalike import canonical
from seedata_core.models import FlowImages, NewCamera, NewFlow
from seedata_core.settings import Settings

ALPHABET = "abcdefghjklmnprstuvwxyz0123456789"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def generate(
    count: int, first_id: int, cameras: list[int], images: bool
) -> Iterator[tuple[NewFlow, FlowImages]]:
    rnd = random.Random(first_id)
    frame, crop = os.urandom(2048), os.urandom(512)
    for flow_id in range(first_id, first_id + count):
        plate = None if rnd.random() < 0.1 else "".join(rnd.choices(ALPHABET, k=7))
        flow = NewFlow(
            id=flow_id,
            camera_id=rnd.choice(cameras),
            plate=plate,
            score=0.0 if plate is None else rnd.random(),
            timestamp=T0 + timedelta(seconds=flow_id * 3),
            trigger_mode="manual" if rnd.random() < 0.02 else "auto",
            lpr_version="rapidocr 1.3.0",
        )
        yield flow, (FlowImages(image=frame, plate_image=crop) if images else FlowImages())


def per_call(call: Callable[[], object], seconds: float = 2.0) -> float:
    """Microseconds per call, averaged over about ``seconds``."""
    call()
    calls, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        call()
        calls += 1
    return elapsed / calls * 1e6


def reads(storage: SqlStorage, total: int) -> None:
    middle = storage.get_flow(total // 2)
    plate = middle.plate if middle and middle.plate else "abc1234"
    camera, manual = Cond("camera", "=", "cam1"), Cond("trigger_mode", "=", "manual")
    same, similar = Cond("plate", "=", plate), Cond("plate", "similar", canonical(plate))
    cases: dict[str, Callable[[], object]] = {
        "count_flows(all)": lambda: storage.count_flows(MATCH_ALL),
        "search_flows(all, page 1)": lambda: storage.search_flows(MATCH_ALL, offset=0, limit=20),
        "search_flows(all, page 1000)": lambda: storage.search_flows(MATCH_ALL, offset=19_980, limit=20),
        "get_flow": lambda: storage.get_flow(total // 3),
        "count_flows(camera =)": lambda: storage.count_flows(camera),
        "search_flows(camera =, page 1)": lambda: storage.search_flows(camera, offset=0, limit=20),
        "search_flows(plate =)": lambda: storage.search_flows(same, offset=0, limit=20),
        "search_flows(plate similar)": lambda: storage.search_flows(similar, offset=0, limit=20),
        "count_flows(plate similar)": lambda: storage.count_flows(similar),
        "search_flows(manual, page 1)": lambda: storage.search_flows(manual, offset=0, limit=20),
        "count_flows(camera = and manual)": lambda: storage.count_flows(And((camera, manual))),
    }
    for name, call in cases.items():
        print(f"  {name:34} {per_call(call):9.1f} us/call")
    started = time.perf_counter()
    exported = sum(1 for _ in storage.iter_flows(MATCH_ALL))
    print(f"  iter_flows(all): {exported} flows in {time.perf_counter() - started:.1f} s")


def timed_import(storage: SqlStorage, label: str, flows: Iterable[tuple[NewFlow, FlowImages]]) -> None:
    started = time.perf_counter()
    result = storage.import_flows(flows)
    elapsed = time.perf_counter() - started
    rate = (result.added + result.skipped) / elapsed
    print(f"{label}: {result.added} added, {result.skipped} skipped in {elapsed:.1f} s = {rate:,.0f}/s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--flows", type=int, default=200_000)
    parser.add_argument("--images", type=int, default=5_000)
    parser.add_argument("--dir", type=Path, default=None, help="parent of the data directory (default: temp)")
    args = parser.parse_args()
    parent = Path(tempfile.mkdtemp(dir=args.dir))
    versions = f"SQLite {sqlite3.sqlite_version}, SQLAlchemy {sqlalchemy.__version__}"
    print(f"Python {platform.python_version()}, {versions}, {os.cpu_count()} CPUs, data in {parent}")
    try:
        storage = open_storage(Settings(data_dir=str(parent / "data")))
        try:
            cameras = [storage.add_camera(NewCamera(alias=f"cam{i}", source="s")).id for i in range(4)]
            # Built beforehand, so the figure is the storage's alone.
            batch = list(generate(args.flows, 1, cameras, images=False))
            timed_import(storage, "import without pictures", batch)
            if args.images:
                timed_import(
                    storage, "import with pictures", generate(args.images, args.flows + 1, cameras, True)
                )
            timed_import(storage, "import again (all skipped)", batch)
            print(f"reads at {args.flows + args.images} flows, one thread:")
            reads(storage, args.flows + args.images)
        finally:
            storage.close()
    finally:
        shutil.rmtree(parent)


if __name__ == "__main__":
    main()
