"""What a watched camera costs, how fresh its newest frame is, and what a manual trigger adds.

    python benchmarks/capture.py [--seconds 20] [--fresh-seconds 10] [--sizes 720p,1080p] [--triggers 50]

Every camera is real: GStreamer's RTSP server (``seedata_core.testing.rtsp``, under the system
python3) loops a generated H.264 video over loopback, and Seedata's camera workers watch it through
the ffmpeg frame-source plugin, in auto mode with the ppocr engine, country ``br``. Two scenes:

- *idle*: a static grey scene with mild sensor noise (``noise=alls=4:allf=t``) at an IP camera's
  steady 2 Mbit/s (720p; scaled by area), a key frame a second, no B-frames: the motion gate should
  let through nothing after the first frame;
- *traffic*: ``make_sample_video`` (vehicles with plates passing, one every 4 s; the encoder's
  default B-frames).

Per camera it prints the CPU of the ffmpeg child and of the Python process (all its threads: the
source's reader, the worker's motion gate and keep-alive writes, the ppocr/ONNX reads of the frames
the gate lets through), as % of one core over ``--seconds``, their sum, the engine reads and flows
made in that window, and the busiest Python threads. "of which engine" is the process's CPU while
engine reads ran (ONNX threads included): the Python CPU less it is the cost of receiving frames and
of the motion gate. The RTSP server's CPU is the camera's and is left out. Then it samples
``source.latest()`` at random moments for ``--fresh-seconds`` (no CPU is measured meanwhile) and
prints p50/p95/p99 of ``now - frame.captured_at``: the age of the newest frame since it arrived in
this process, not the camera-to-us latency.

The trigger overhead runs ``seedata serve``'s app (uvicorn, one worker, the camera workers) in a
subprocess of this script, which adds one thing: an engine wrapper that logs each read's duration to
a file. ``--triggers`` POST /flows (``capture_delay`` 0, ``max_retries`` 0, one read each) come from
this process over loopback, one at a time, on a manual camera showing the traffic video; overhead =
request time - that request's engine read time. It runs with the real ppocr engine and again with an
engine that answers at once (``instant``: one plate, a plate-sized box), which shows the overhead
without ONNX threads competing for the cores. Last, the parts of a flow's recording are timed alone
in this process on one frame: the JPEG of the picture, the JPEG of the plate crop, the storage write.

Targets (issue 4, 2 cores): an idle 720p25 camera <= 3 % of one core; freshness p95 <= 100 ms;
trigger overhead p50 <= 20 ms. Progress goes to stderr, the tables to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import cpu_model

from seedata_core import hookimpl
from seedata_core.alpr import AlprEngine, AlprEngineSpec, PlateRead
from seedata_core.auth import hash_password
from seedata_core.frames import Frame
from seedata_core.imaging import encode_jpeg, ffmpeg_exe
from seedata_core.models import NewCamera
from seedata_core.plugins import Plugins, make_plugin_manager
from seedata_core.recording import flow_pictures, new_flow
from seedata_core.samplevideo import make_sample_video
from seedata_core.service import Seedata
from seedata_core.settings import Settings
from seedata_core.testing.rtsp import SYSTEM_PYTHON, RtspServer

SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}
FPS = 25
PLATES = ["BRA2E19", "ABC1234", "QRS4T56", "XYZ9876"]
EMAIL, PASSWORD = "bench@example.com", "bench-password"
TIMED_ENGINE = "bench-timed"
TICKS = os.sysconf("SC_CLK_TCK")


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- videos ---------------------------------------------------------------------------------------
def make_idle_video(path: Path, size: tuple[int, int], seconds: int = 10) -> Path:
    """A static scene with mild temporal noise, encoded as an IP camera does: a steady bit rate
    (2 Mbit/s at 720p, scaled by area), a key frame a second, no B-frames."""
    width, height = size
    source = f"color=c=0x55606b:s={width}x{height}:r={FPS},noise=alls=4:allf=t,format=yuv420p"
    rate = f"{round(2000 * width * height / (1280 * 720))}k"
    subprocess.run(
        [
            ffmpeg_exe(),
            *("-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i", source),
            *("-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-bf", "0"),
            # A fixed rate, or x264 drops the noise (crf 28) or spends 15 Mbit/s on it (crf 18); no
            # scene-cut key frames, or the frame-to-frame noise makes every frame one.
            *("-b:v", rate, "-maxrate", rate, "-bufsize", f"{2 * int(rate[:-1])}k"),
            *("-g", str(FPS), "-keyint_min", str(FPS), "-sc_threshold", "0"),
            *("-pix_fmt", "yuv420p", str(path)),
        ],
        check=True,
        timeout=300,
    )
    return path


def video(folder: Path, scene: str, size_name: str) -> Path:
    """The cached video of this scene and size, made on first use."""
    path = folder / f"{scene}-{size_name}.mp4"
    if not path.exists():
        say(f"making {path.name}")
        partial = path.with_suffix(".part.mp4")
        if scene == "idle":
            make_idle_video(partial, SIZES[size_name])
        else:
            make_sample_video(partial, plates=PLATES, size=SIZES[size_name], fps=FPS)
        partial.rename(path)
    return path


# -- CPU accounting -------------------------------------------------------------------------------
def cpu_of(stat_path: str) -> float:
    """User + system CPU seconds from a /proc ``stat`` file (process or thread)."""
    with open(stat_path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime: fields 14 and 15 of stat


def own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def thread_cpu() -> dict[str, float]:
    """CPU seconds of this process's threads by Python thread name; threads not started by Python
    (ONNX's) are summed under one name."""
    names = {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}
    result: dict[str, float] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            seconds = cpu_of(f"/proc/self/task/{tid}/stat")
        except OSError:
            continue  # the thread ended meanwhile
        name = names.get(int(tid), "native (ONNX, ...)")
        # Per-camera names carry the URL or alias: one label per kind of thread.
        name = name.split(" ", 1)[0] if name.startswith(("ffmpeg-source", "camera ")) else name
        name = "camera worker" if name == "camera" else name
        result[name] = result.get(name, 0.0) + seconds
    return result


# -- the timed engine wrapper ---------------------------------------------------------------------
class TimedEngine:
    """An engine that delegates to another and appends each read's wall time (ms) to a list and a file."""

    def __init__(self, inner: AlprEngine, log_path: str | None) -> None:
        self.inner = inner
        self.name = inner.name
        self.version = inner.version
        self.read_ms: list[float] = []
        self.cpu_s: list[float] = []
        self._log = open(log_path, "a", buffering=1) if log_path else None  # noqa: SIM115 -- process-long

    def read(self, frame: Frame, *, country: str | None = None) -> list[PlateRead]:
        start, cpu_start = time.perf_counter(), own_cpu()
        try:
            return self.inner.read(frame, country=country)
        finally:
            elapsed = (time.perf_counter() - start) * 1000
            self.read_ms.append(elapsed)
            # Whole-process CPU while the read ran: its ONNX threads too, plus whatever else ran meanwhile.
            self.cpu_s.append(own_cpu() - cpu_start)
            if self._log is not None:
                self._log.write(f"{elapsed:.3f}\n")


class InstantEngine:
    """Answers one plate at once, with a plate-sized box in the middle of the frame (so the flow's plate
    image is a plate's crop, as with a real engine, not the whole frame as ``FakeAlprEngine`` gives)."""

    name = "instant"
    version = "instant 1.0"

    def read(self, frame: Frame, *, country: str | None = None) -> list[PlateRead]:
        width, height = frame.width // 6, frame.width // 18
        box = ((frame.width - width) // 2, (frame.height - height) // 2, width, height)
        return [PlateRead(plate="ABC1234", score=0.9, box=box, country=country)]


class TimedEnginePlugin:
    """Registers :data:`TIMED_ENGINE`: engine ``inner`` (or ``instant``) wrapped in :class:`TimedEngine`."""

    def __init__(self, inner: str, log_path: str | None = None) -> None:
        self.inner = inner
        self.log_path = log_path
        self.engine: TimedEngine | None = None

    def create(self, options: Mapping[str, Any]) -> AlprEngine:
        if self.inner == "instant":
            inner: AlprEngine = InstantEngine()
        else:
            inner = Plugins(make_plugin_manager()).alpr_engine(self.inner).create(options)
        self.engine = TimedEngine(inner, self.log_path)
        return self.engine

    @hookimpl
    def seedata_register_alpr_engines(self, register: Callable[[AlprEngineSpec], None]) -> None:
        register(AlprEngineSpec(name=TIMED_ENGINE, version="timed", create=self.create))


# -- one camera in auto mode ----------------------------------------------------------------------
@dataclass
class CameraRow:
    name: str
    ffmpeg_pct: float = 0.0
    python_pct: float = 0.0
    fps: float = 0.0
    engine_pct: float = 0.0
    reads: int = 0
    read_ms_median: float = 0.0
    flows: int = 0
    reconnects: int = 0
    fresh_ms: list[float] = field(default_factory=list)
    threads: dict[str, float] = field(default_factory=dict)

    @property
    def total_pct(self) -> float:
        return self.ffmpeg_pct + self.python_pct


@contextmanager
def rtsp_camera(path: Path) -> Iterator[RtspServer]:
    server = RtspServer(path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def measure_camera(
    name: str, path: Path, work: Path, args: argparse.Namespace, ffmpeg_options: dict[str, Any]
) -> CameraRow:
    row = CameraRow(name)
    plugin = TimedEnginePlugin("ppocr")
    settings = Settings(
        data_dir=str(work / name.replace(" ", "-")),
        timezone="UTC",
        alpr_engine=TIMED_ENGINE,
        source_options={"ffmpeg": ffmpeg_options} if ffmpeg_options else {},
        log_level="warning",
    )
    with (
        rtsp_camera(path) as server,
        Seedata.open(settings, Plugins(make_plugin_manager(extra=[plugin]))) as sd,
    ):
        sd.reader.engine()  # load the model before measuring: a server does it at startup
        camera = sd.storage.add_camera(
            NewCamera(alias="bench", source=server.url, capture_mode="auto", country="br")
        )
        workers = sd.start_workers()
        worker = workers.worker(camera.id)
        assert worker is not None
        source: Any = worker.source
        wait_for(lambda: source.latest() is not None, 30, f"{name}: the first frame")
        time.sleep(args.warm_up)
        engine = plugin.engine
        assert engine is not None

        say(f"{name}: CPU for {args.seconds:g} s")
        pid, runs = source.pid, source.runs
        if pid is None:
            raise SystemExit(f"{name}: ffmpeg is not running (reconnecting?)")
        reads_before, flows_before, frames_before = len(engine.read_ms), worker.flows_made, source.frames
        threads_before = thread_cpu()
        ffmpeg_before, own_before, wall_before = cpu_of(f"/proc/{pid}/stat"), own_cpu(), time.monotonic()
        time.sleep(args.seconds)
        ffmpeg_after, own_after, wall = cpu_of(f"/proc/{pid}/stat"), own_cpu(), time.monotonic() - wall_before
        threads_after = thread_cpu()
        if source.pid != pid or source.runs != runs:
            say(f"{name}: ffmpeg reconnected during the window; its CPU covers the first run only")
        row.fps = (source.frames - frames_before) / wall
        row.ffmpeg_pct = 100 * (ffmpeg_after - ffmpeg_before) / wall
        row.python_pct = 100 * (own_after - own_before) / wall
        new_reads = engine.read_ms[reads_before:]
        row.reads = len(new_reads)
        row.read_ms_median = statistics.median(new_reads) if new_reads else 0.0
        row.engine_pct = 100 * sum(engine.cpu_s[reads_before:]) / wall
        row.flows = worker.flows_made - flows_before
        row.threads = {k: 100 * (v - threads_before.get(k, 0.0)) / wall for k, v in threads_after.items()}

        say(f"{name}: freshness for {args.fresh_seconds:g} s")
        samples = max(1, round(args.fresh_seconds * args.fresh_rate))
        rng = random.Random(4)
        end = time.monotonic() + args.fresh_seconds
        for _ in range(samples):
            # Random gaps of mean 1/rate: the samples fall at moments unrelated to the frame clock.
            time.sleep(rng.uniform(0, 2 / args.fresh_rate))
            frame = source.latest()
            row.fresh_ms.append((datetime.now(UTC) - frame.captured_at).total_seconds() * 1000)
            if time.monotonic() > end:
                break
        row.reconnects = source.runs - 1
    return row


# -- the trigger overhead -------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(url: str, body: dict[str, object], token: str | None = None) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def serve(data_dir: str, port: int, inner: str, log_path: str) -> None:
    """The ``--serve`` mode: ``seedata serve``'s app and uvicorn call, with the timed engine registered."""
    import uvicorn

    from seedata_server.app import create_app

    settings = Settings(
        data_dir=data_dir, port=port, timezone="UTC", alpr_engine=TIMED_ENGINE, log_level="warning"
    )
    plugins = Plugins(make_plugin_manager(extra=[TimedEnginePlugin(inner, log_path)]))
    app = create_app(settings, plugins, watch_cameras=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, log_config=None)


@dataclass
class TriggerRow:
    engine: str
    request_ms: list[float]
    engine_ms: list[float]
    health_ms: list[float]
    plates: int

    @property
    def overhead_ms(self) -> list[float]:
        return [r - e for r, e in zip(self.request_ms, self.engine_ms, strict=True)]


@contextmanager
def seedata_server(data_dir: Path, inner: str, log_path: Path) -> Iterator[str]:
    """The ``--serve`` subprocess on a free port, up and answering; its base URL. Stopped after."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, __file__, "--serve", str(data_dir), str(port), inner, str(log_path)]
    with tempfile.TemporaryFile("w+") as server_log:
        server = subprocess.Popen(command, stdout=server_log, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(base + "/health", timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        server_log.seek(0)
                        raise SystemExit(f"the server did not start: {server_log.read()}") from None
                    time.sleep(0.2)
            yield base
        finally:
            server.terminate()
            server.wait(15)


def timed(call: Callable[[], object], count: int, pause: float = 0.0) -> list[float]:
    """Milliseconds of each of ``count`` calls, one after another, ``pause`` seconds apart."""
    elapsed = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        elapsed.append((time.perf_counter() - start) * 1000)
        time.sleep(pause)
    return elapsed


def measure_triggers(inner: str, path: Path, work: Path, count: int) -> TriggerRow:
    data_dir = work / f"trigger-{inner}"
    log_path = work / f"reads-{inner}.txt"
    with rtsp_camera(path) as camera_server:
        with Seedata.open(Settings(data_dir=str(data_dir), timezone="UTC")) as sd:
            camera_id = sd.storage.add_camera(
                NewCamera(alias="gate", source=camera_server.url, capture_mode="manual", country="br")
            ).id
            sd.storage.add_user(EMAIL, hash_password(PASSWORD))
        with seedata_server(data_dir, inner, log_path) as base:
            _, answer = post(f"{base}/authenticate", {"email": EMAIL, "password": PASSWORD})
            token = json.loads(answer)["data"]["token"]
            body: dict[str, object] = {"camera_id": camera_id, "capture_delay": 0, "max_retries": 0}
            # Until the camera's first frame (422 before it) and the engine are in: warm-up triggers.
            deadline = time.monotonic() + 60
            while post(f"{base}/flows", body, token)[0] != 200:
                if time.monotonic() > deadline:
                    raise SystemExit("no trigger succeeded within 60 s")
                time.sleep(0.5)
            for _ in range(3):
                post(f"{base}/flows", body, token)
            warm_reads = len(log_path.read_text().split())

            plates = 0

            def trigger() -> None:
                nonlocal plates
                status, answer = post(f"{base}/flows", body, token)
                if status != 200:
                    raise SystemExit(f"trigger answered {status}: {answer[:200]!r}")
                # A flow with a plate costs a second JPEG (the crop): count them.
                plates += json.loads(answer).get("plate") is not None

            say(f"triggers ({inner} engine): {count} requests")
            # A gate is not a load test: triggers come one at a time, a little apart.
            request_ms = timed(trigger, count, pause=0.05)
            health_ms = timed(lambda: urllib.request.urlopen(base + "/health", timeout=10).close(), count)
            engine_ms = [float(v) for v in log_path.read_text().split()[warm_reads:]]
            if len(engine_ms) != count:
                raise SystemExit(f"{count} triggers but {len(engine_ms)} engine reads")
    return TriggerRow(inner, request_ms, engine_ms, health_ms, plates)


def first_frame(path: Path) -> Frame:
    width, height = 1280, 720
    raw = subprocess.run(
        [
            *(ffmpeg_exe(), "-v", "error", "-i", str(path), "-frames:v", "1", "-s", f"{width}x{height}"),
            *("-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"),
        ],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    return Frame(width=width, height=height, rgb=raw, captured_at=datetime.now(UTC))


def measure_recording(path: Path, work: Path, repeat: int = 20) -> dict[str, float]:
    """Median ms of each part of recording a flow, alone, in this process."""
    frame = first_frame(path)
    read = InstantEngine().read(frame)[0]
    parts: dict[str, list[float]] = {"picture JPEG": [], "plate JPEG": [], "storage add_flow": []}
    with Seedata.open(Settings(data_dir=str(work / "recording"), timezone="UTC")) as sd:
        camera = sd.storage.add_camera(NewCamera(alias="parts", source="rtsp://127.0.0.1/none"))
        for _ in range(repeat):
            start = time.perf_counter()
            encode_jpeg(frame)
            parts["picture JPEG"].append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            encode_jpeg(frame, box=read.box)
            parts["plate JPEG"].append((time.perf_counter() - start) * 1000)
            images = flow_pictures(frame, read)
            record = new_flow(camera, read, at=frame.captured_at, trigger_mode="manual", lpr_version="x")
            start = time.perf_counter()
            sd.storage.add_flow(record, images)
            parts["storage add_flow"].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in parts.items()}


# -- conditions and tables ------------------------------------------------------------------------
def first_line(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False).stdout
    except OSError:
        return "-"
    return out.splitlines()[0] if out else "-"


def conditions() -> list[str]:
    gst = first_line(
        [
            SYSTEM_PYTHON,
            "-c",
            "import gi; gi.require_version('Gst','1.0'); from gi.repository import Gst; "
            "Gst.init(None); print(Gst.version_string())",
        ]
    )
    return [
        f"cpu: {cpu_model()}, {len(os.sched_getaffinity(0))} cores usable; "
        f"load average {os.getloadavg()[0]:.2f} at start",
        f"python {platform.python_version()} on {platform.system()} {platform.release()}",
        f"ffmpeg (imageio-ffmpeg): {first_line([ffmpeg_exe(), '-version'])}",
        f"camera: {gst} RTSP server on loopback (its CPU is not counted), RTSP over TCP",
    ]


def print_cameras(rows: list[CameraRow], seconds: float) -> None:
    print(
        f"\nCPU per camera, auto mode at 5 fps, % of one core over {seconds:g} s; "
        "freshness = now - captured_at"
    )
    columns = ["camera", "frames/s", "ffmpeg %", "python %", "of which engine %", "total %", "reads"]
    columns += ["read ms p50", "flows", "reconnects"]
    columns += ["fresh p50 ms", "p95 ms", "p99 ms"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for r in rows:
        print(
            f"| {r.name} | {r.fps:.1f} | {r.ffmpeg_pct:.1f} | {r.python_pct:.1f} | {r.engine_pct:.1f} "
            f"| {r.total_pct:.1f} | {r.reads} "
            f"| {r.read_ms_median:.0f} | {r.flows} | {r.reconnects} | {percentile(r.fresh_ms, 0.5):.0f} "
            f"| {percentile(r.fresh_ms, 0.95):.0f} | {percentile(r.fresh_ms, 0.99):.0f} |"
        )
    print("\nPython threads, % of one core (threads under 0.1 % left out)")
    for r in rows:
        busy = sorted(((v, k) for k, v in r.threads.items() if v >= 0.1), reverse=True)
        print(f"  {r.name}: " + (", ".join(f"{k} {v:.1f}" for v, k in busy) or "-"))


def print_triggers(rows: list[TriggerRow], parts: dict[str, float]) -> None:
    print("\nPOST /flows, capture_delay 0, max_retries 0, sequential, new connection each; ms")
    columns = ["engine", "requests", "with plate", "request p50", "request p95", "engine p50"]
    columns += ["overhead p50", "overhead p95", "GET /health p50"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for r in rows:
        print(
            f"| {r.engine} | {len(r.request_ms)} | {r.plates} | {percentile(r.request_ms, 0.5):.1f} "
            f"| {percentile(r.request_ms, 0.95):.1f} | {percentile(r.engine_ms, 0.5):.1f} "
            f"| {percentile(r.overhead_ms, 0.5):.1f} | {percentile(r.overhead_ms, 0.95):.1f} "
            f"| {percentile(r.health_ms, 0.5):.1f} |"
        )
    if parts:
        print(
            "recording a 720p flow, parts timed alone (median ms): "
            + ", ".join(f"{name} {ms:.1f}" for name, ms in parts.items())
        )


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) == 6 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20, help="CPU window per camera (default 20)")
    parser.add_argument("--fresh-seconds", type=float, default=10, help="freshness window per camera (10)")
    parser.add_argument("--fresh-rate", type=float, default=100, help="freshness samples a second (100)")
    parser.add_argument("--warm-up", type=float, default=3, help="seconds after the first frame (3)")
    parser.add_argument("--sizes", default="720p,1080p", help="comma-separated: 720p, 1080p")
    parser.add_argument("--triggers", type=int, default=50, help="POST /flows per engine; 0 skips (50)")
    parser.add_argument(
        "--trigger-engines", default="ppocr,instant", help="engines for the trigger runs (ppocr,instant)"
    )
    parser.add_argument("--no-cameras", action="store_true", help="skip the CPU and freshness runs")
    parser.add_argument(
        "--video-dir", type=Path, default=Path("bench-data/capture"), help="generated videos, kept"
    )
    args = parser.parse_args(argv)
    sizes = [s for s in args.sizes.split(",") if s]
    for size in sizes:
        if size not in SIZES:
            parser.error(f"unknown size {size!r}; known: {', '.join(SIZES)}")
    args.video_dir.mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    lines = conditions()
    camera_rows: list[CameraRow] = []
    trigger_rows: list[TriggerRow] = []
    parts: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="seedata-bench-") as tmp:
        work = Path(tmp)
        if not args.no_cameras:
            for size in sizes:
                for scene in ("idle", "traffic"):
                    path = video(args.video_dir, scene, size)
                    camera_rows.append(measure_camera(f"{size}25 {scene}", path, work, args, {}))
            if "720p" in sizes:
                path = video(args.video_dir, "idle", "720p")
                options = {"keyframes_only": True}
                camera_rows.append(measure_camera("720p25 idle keyframes_only", path, work, args, options))
        if args.triggers > 0:
            path = video(args.video_dir, "traffic", "720p")
            for engine in (e for e in args.trigger_engines.split(",") if e):
                trigger_rows.append(measure_triggers(engine, path, work, args.triggers))
            say("recording parts")
            parts = measure_recording(path, work)

    for line in lines:
        print(line)
    if camera_rows:
        print_cameras(camera_rows, args.seconds)
    if trigger_rows:
        print_triggers(trigger_rows, parts)
    print(
        f"\nload average {os.getloadavg()[0]:.2f} at the end; {time.monotonic() - started:.0f} s in all. "
        "Targets (2 cores): idle 720p25 <= 3 % of one core; freshness p95 <= 100 ms; overhead p50 <= 20 ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
