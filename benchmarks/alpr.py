"""Accuracy and speed of an ALPR engine on labelled plate photos.

    python benchmarks/alpr.py ../shared/datasets/plates/{br,eu,us}

Each folder holds pictures ``X.jpg`` with a label ``X.txt``: one tab-separated line
``FILE x y width height PLATE``. Per folder it prints the share of pictures whose best candidate is
the labelled plate (top-1), whose candidates include it (any), and where a returned box covers the
labelled plate (detected), and the engine's read time per picture (median, 95th percentile;
decoding the file is timed apart). The CPU column is the process's CPU time per read, all threads
added: unlike the wall-clock figures it barely moves when other programs share the cores; on a busy
machine, ``--repeat N`` reads each picture N times and keeps the fastest read. The
country format pack is the folder's name when a pack has that code (``br``, ``eu``, ``us``), else
none; ``--country`` overrides it. Plates are compared upper-cased with only A-Z and 0-9 kept. The
conditions (CPU, threads, versions, load) come first, because the figures mean little without them.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from common import cpu_model

from seedata_core.alpr import AlprEngine, PlateRead
from seedata_core.imaging import read_image
from seedata_core.plates import PACKS, normalise
from seedata_core.plugins import Plugins, make_plugin_manager


@dataclass(frozen=True)
class Sample:
    image: Path
    box: tuple[int, int, int, int]
    plate: str


@dataclass
class SetResult:
    name: str
    country: str | None
    total: int = 0
    top1: int = 0
    any: int = 0
    detected: int = 0
    read_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    decode_ms: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)


def load_samples(folder: Path) -> list[Sample]:
    """The labelled pictures of ``folder``, in name order."""
    samples = []
    for label in sorted(folder.glob("*.txt")):
        fields = label.read_text().strip().split("\t")
        if len(fields) != 6:
            continue
        name, x, y, w, h, plate = fields
        samples.append(Sample(folder / name, (int(x), int(y), int(w), int(h)), normalise(plate)))
    return samples


def covers(read: PlateRead, box: tuple[int, int, int, int]) -> bool:
    """Whether the read's box and the labelled box share at least half of the smaller one."""
    ax, ay, aw, ah = read.box
    bx, by, bw, bh = box
    w = min(ax + aw, bx + bw) - max(ax, bx)
    h = min(ay + ah, by + bh) - max(ay, by)
    return w > 0 and h > 0 and w * h >= 0.5 * min(aw * ah, bw * bh)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_set(engine: AlprEngine, folder: Path, country: str | None, repeat: int = 1) -> SetResult:
    result = SetResult(name=folder.name, country=country)
    for sample in load_samples(folder):
        start = time.perf_counter()
        frame = read_image(sample.image)
        result.decode_ms.append((time.perf_counter() - start) * 1000)
        wall, cpu = [], []
        for _ in range(repeat):
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            reads = engine.read(frame, country=country)
            wall.append((time.perf_counter() - wall_start) * 1000)
            cpu.append((time.process_time() - cpu_start) * 1000)
        result.read_ms.append(min(wall))
        result.cpu_ms.append(min(cpu))
        result.total += 1
        plates = [r.plate for r in reads]
        result.top1 += bool(plates) and plates[0] == sample.plate
        result.any += sample.plate in plates
        result.detected += any(covers(r, sample.box) for r in reads)
        if not plates or plates[0] != sample.plate:
            result.misses.append(f"{sample.image.name}: {sample.plate} read {' '.join(plates[:3]) or '-'}")
    return result


def package(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "-"


def conditions(spec_version: str, options: dict[str, str]) -> list[str]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = ", ".join(f"{n} {package(n)}" for n in ("onnxruntime", "opencv-python-headless", "numpy"))
    return [
        f"engine: {spec_version}",
        f"options: {options or 'defaults'}",
        f"cpu: {cpu_model()}, {cores} cores usable; load average {os.getloadavg()[0]:.2f} at start",
        f"python {platform.python_version()} on {platform.system()} {platform.release()}; {versions}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, metavar="DATASET_DIR")
    parser.add_argument("--engine", default="ppocr", help="registered engine name (default: ppocr)")
    parser.add_argument(
        "--country", help="format pack for every folder (default: the folder's name if a pack)"
    )
    parser.add_argument("--no-country", action="store_true", help="read without any format pack")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="engine option")
    parser.add_argument("--misses", action="store_true", help="list the pictures whose top-1 is wrong")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="read each picture N times and keep the fastest (a busy machine)",
    )
    args = parser.parse_args(argv)

    options = dict(item.split("=", 1) for item in args.option)
    spec = Plugins(make_plugin_manager()).alpr_engine(args.engine)
    engine = spec.create(options)
    for line in conditions(spec.version, options):
        print(line)
    print(f"timing: engine.read only, decoding apart; fastest of {max(1, args.repeat)} read(s) per picture")

    results = []
    for folder in args.folders:
        samples = load_samples(folder)
        if not samples:
            print(f"{folder}: no labelled pictures", file=sys.stderr)
            return 1
        country = None if args.no_country else args.country or (folder.name if folder.name in PACKS else None)
        engine.read(read_image(samples[0].image), country=country)  # warm-up: first runs allocate
        results.append(run_set(engine, folder, country, max(1, args.repeat)))

    print()
    columns = ["set", "country", "images", "top-1", "any", "detected"]
    columns += ["read ms median", "read ms p95", "CPU ms median", "decode ms median"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for r in results:
        print(
            f"| {r.name} | {r.country or '-'} | {r.total} | {100 * r.top1 / r.total:.1f} % "
            f"| {100 * r.any / r.total:.1f} % | {100 * r.detected / r.total:.1f} % "
            f"| {statistics.median(r.read_ms):.0f} | {percentile(r.read_ms, 0.95):.0f} "
            f"| {statistics.median(r.cpu_ms):.0f} | {statistics.median(r.decode_ms):.0f} |"
        )
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")
    if args.misses:
        for r in results:
            print(f"\n{r.name} misses:")
            for miss in r.misses:
                print(f"  {miss}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
