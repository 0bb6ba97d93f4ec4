"""API throughput and latency on a database of N flows, driven by wrk over loopback.

    python benchmarks/api.py [--flows 1000000] [--data-dir DIR] [--duration 10] [--connections 16]

Builds (or reuses) a data directory holding N flows made through the bulk import path, starts
`seedata serve` (one worker) on a free port, logs in, and measures with wrk (Debian package `wrk`):
GET /flows page 1 and a deep page, GET /flows/{id}, POST /flows/search by plate `like` and by
camera + time range. Prints req/s, p50 and p99 for each, with the conditions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from common import START, bench_flows

from seedata_core.auth import hash_password
from seedata_core.models import FlowImages, NewCamera, NewFlow
from seedata_core.service import Seedata
from seedata_core.settings import Settings

EMAIL, PASSWORD = "bench@example.com", "bench-password"
CAMERAS = 10


def build(data_dir: Path, n: int) -> None:
    marker = data_dir / f"bench-{n}.done"
    if marker.exists():
        print(f"reusing {data_dir} ({n:,} flows)", file=sys.stderr)
        return
    if data_dir.exists():
        shutil.rmtree(data_dir)
    settings = Settings(data_dir=str(data_dir), timezone="UTC")
    started = time.perf_counter()
    with Seedata.open(settings) as seedata:
        ids = [
            seedata.storage.add_camera(NewCamera(alias=f"cam_{i}", source=f"/v/{i}.mp4")).id
            for i in range(CAMERAS)
        ]
        seedata.storage.add_user(EMAIL, hash_password(PASSWORD))

        def flows() -> Iterator[tuple[NewFlow, FlowImages]]:
            for i, flow in enumerate(bench_flows(n, ids), 1):
                yield flow
                if i % 100_000 == 0:
                    print(f"  {i:,} flows", file=sys.stderr)

        result = seedata.storage.import_flows(flows(), batch_size=5000)
    elapsed = time.perf_counter() - started
    print(
        f"built {result.added:,} flows in {elapsed:.1f} s ({result.added / elapsed:,.0f} flows/s)",
        file=sys.stderr,
    )
    marker.touch()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(url: str, body: dict[str, object], token: str | None = None) -> object:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def wait_up(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/health", timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def to_ms(text: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    raise ValueError(text)


def wrk(url: str, token: str, duration: int, connections: int, script: str | None) -> dict[str, float]:
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "-H",
        f"Authorization: Bearer {token}",
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script or "")
    if script:
        command += ["-s", lua.name]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    os.unlink(lua.name)
    figures: dict[str, float] = {"non2xx": 0.0}
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            figures["rps"] = float(parts[1])
        elif len(parts) == 2 and parts[0] in ("50%", "99%"):
            figures[parts[0]] = to_ms(parts[1])
        elif "Non-2xx" in line:
            figures["non2xx"] = float(parts[-1])
    return figures


def post_script(body: dict[str, object]) -> str:
    return (
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = [[{json.dumps(body)}]]\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--flows", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, default=Path("bench-data"))
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")

    build(args.data_dir, args.flows)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SEEDATA_TIMEZONE": "UTC", "SEEDATA_LOG_LEVEL": "warning"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seedata_server",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(args.data_dir),
        ],
        env=env,
    )
    try:
        wait_up(base)
        token = post(f"{base}/authenticate", {"email": EMAIL, "password": PASSWORD})["data"]["token"]  # type: ignore[index]
        deep = max(1, args.flows // 20 // 2)
        mid = START + timedelta(days=180)
        cases = [
            ("GET /flows page 1", f"{base}/flows", None),
            (f"GET /flows page {deep:,}", f"{base}/flows?page={deep}", None),
            (
                "GET /flows/{id} (random id)",
                base,
                "request = function() return wrk.format(nil, "
                f'"/flows/" .. math.random(1, {args.flows})) end\n',
            ),
            (
                "POST /flows/search plate like",
                f"{base}/flows/search",
                post_script({"filter": {"plate": {"like": "abc"}}}),
            ),
            (
                "POST /flows/search camera + 1 day",
                f"{base}/flows/search",
                post_script(
                    {
                        "filter": {
                            "camera": "cam_3",
                            "timestamp": {
                                ">=": mid.strftime("%Y-%m-%d"),
                                "<": (mid + timedelta(days=1)).strftime("%Y-%m-%d"),
                            },
                        }
                    }
                ),
            ),
        ]
        print(
            f"\n{args.flows:,} flows, SQLite, one server worker, "
            f"wrk 1 thread x {args.connections} connections, "
            f"{args.duration} s each; {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}\n"
        )
        print(f"{'case':<36} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
        for name, url, script in cases:
            figures = wrk(url, token, args.duration, args.connections, script)
            print(
                f"{name:<36} {figures.get('rps', 0):>9,.0f} {figures.get('50%', 0):>8.2f} "
                f"{figures.get('99%', 0):>8.2f} {figures['non2xx']:>8.0f}"
            )
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
