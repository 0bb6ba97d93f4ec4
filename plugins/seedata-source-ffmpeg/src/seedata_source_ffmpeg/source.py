"""A frame source that runs ffmpeg as a subprocess and keeps its newest decoded frame.

Three threads per source while ffmpeg runs:

- the *supervisor* starts ffmpeg, watches it and, whenever it exits or stalls, waits out the backoff
  and starts it again, until :meth:`FfmpegSource.close`;
- the *reader* learns the frame size (from the options, or from ffmpeg's log of its output stream),
  then reads raw RGB24 frames from stdout and keeps only the newest, so a slow consumer never sees a
  stale picture;
- the *log drain* reads the rest of stderr, so ffmpeg never blocks on a full pipe, and keeps its last
  lines to explain a disconnect.

Any exit of ffmpeg is a disconnect: it exits with code 0 when a live server goes away.
"""

from __future__ import annotations

import collections
import logging
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import IO

from seedata_core.cameras import mask_url
from seedata_core.frames import Frame

from .command import build_command, output_size
from .options import FfmpegOptions

log = logging.getLogger(__name__)

# How often the supervisor looks at ffmpeg; bounds how late a stall or an exit is noticed.
WATCH_INTERVAL = 0.1
LOG_TAIL_LINES = 20


def _default_ffmpeg() -> str:
    import imageio_ffmpeg

    exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    return exe


class _Run:
    """One ffmpeg process and its reader threads; the frames it reads go to ``on_frame``.

    ``last_activity`` is the monotonic time of its start or of its newest frame.
    """

    def __init__(
        self, args: list[str], size: tuple[int, int] | None, on_frame: Callable[[Frame], None]
    ) -> None:
        self.last_activity = time.monotonic()
        self.frames = 0
        self.log_tail: collections.deque[str] = collections.deque(maxlen=LOG_TAIL_LINES)
        self._on_frame = on_frame
        self._size = size
        self.process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        # Popen with PIPE always sets both; typed here once instead of asserted at each use.
        self._stdout: IO[bytes] = self.process.stdout  # type: ignore[assignment]
        self._stderr: IO[bytes] = self.process.stderr  # type: ignore[assignment]
        self._reader = threading.Thread(target=self._read, name="ffmpeg-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        lines = (line.decode("utf-8", "replace").rstrip() for line in self._stderr)
        size = self._size or self._size_from_log(lines)
        drain = threading.Thread(target=self._drain, args=(lines,), name="ffmpeg-log", daemon=True)
        drain.start()
        try:
            if size is not None:
                self._read_frames(self._stdout, *size)
        finally:
            drain.join()

    def _size_from_log(self, lines: Iterable[str]) -> tuple[int, int] | None:
        # Only the output section counts: an input that is itself raw video logs a rawvideo line too.
        in_output = False
        for line in lines:
            self.log_tail.append(line)
            in_output = in_output or line.startswith("Output #0")
            size = output_size(line) if in_output else None
            if size is not None:
                return size
        return None

    def _drain(self, lines: Iterable[str]) -> None:
        self.log_tail.extend(lines)

    def _read_frames(self, stdout: IO[bytes], width: int, height: int) -> None:
        frame_bytes = width * height * 3
        while True:
            data = stdout.read(frame_bytes)
            if len(data) < frame_bytes:
                return
            self._on_frame(Frame(width=width, height=height, rgb=data, captured_at=datetime.now(UTC)))
            self.last_activity = time.monotonic()
            self.frames += 1

    def stop(self) -> int:
        """Kill ffmpeg if it still runs, reap it, join the readers; its exit code."""
        if self.process.poll() is None:
            self.process.kill()
        code = self.process.wait()
        self._reader.join()
        self._stdout.close()
        self._stderr.close()
        return code


class FfmpegSource:
    """A camera (RTSP/HTTP stream or video file) decoded by an ffmpeg subprocess; see the module doc.

    Construction starts the supervisor and returns at once, without waiting for a frame. Failures to
    connect never raise: :meth:`latest` stays ``None`` (or keeps the last frame, whose
    :attr:`last_frame_at` ages) while the source retries with capped exponential backoff.
    """

    def __init__(self, source: str, options: FfmpegOptions | None = None) -> None:
        self.source = source
        self.options = options or FfmpegOptions()
        self._args = build_command(self.options.ffmpeg or _default_ffmpeg(), source, self.options)
        self._lock = threading.Lock()
        self._latest: Frame | None = None
        self._closed = threading.Event()
        self._run: _Run | None = None
        self._runs = 0
        self._frames = 0
        self._supervisor = threading.Thread(
            target=self._supervise, name=f"ffmpeg-source {mask_url(source)}", daemon=True
        )
        self._supervisor.start()

    @property
    def last_frame_at(self) -> datetime | None:
        frame = self._latest
        return None if frame is None else frame.captured_at

    @property
    def runs(self) -> int:
        """How many times ffmpeg has been started: 1 plus the reconnects so far."""
        return self._runs

    @property
    def frames(self) -> int:
        """How many frames have been decoded so far, over all runs."""
        return self._frames

    @property
    def pid(self) -> int | None:
        """The process id of the running ffmpeg, or ``None`` between runs and after :meth:`close`."""
        run = self._run
        return None if run is None or run.process.poll() is not None else run.process.pid

    def latest(self) -> Frame | None:
        return self._latest

    def close(self) -> None:
        """Stop ffmpeg and every thread of this source. Idempotent; returns when all have ended."""
        with self._lock:
            self._closed.set()
            run = self._run
        if run is not None and run.process.poll() is None:
            run.process.kill()
        if self._supervisor is not threading.current_thread():
            self._supervisor.join()

    def __enter__(self) -> FfmpegSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _publish(self, frame: Frame) -> None:
        # One reader thread at a time writes these; readers of one attribute need no lock.
        self._latest = frame
        self._frames += 1

    def _supervise(self) -> None:
        backoff = self.options.backoff
        failures = 0
        while True:
            with self._lock:
                if self._closed.is_set():
                    return
                self._runs += 1
                try:
                    self._run = _Run(self._args, self.options.forced_size, self._publish)
                except OSError as exc:
                    # Out of processes or file descriptors, say: a failed attempt like any other.
                    self._run = None
                    reason = f"cannot start {self._args[0]}: {exc}"
            run = self._run
            frames = 0
            if run is not None:
                reason = self._watch(run)
                code = run.stop()
                frames = run.frames
                reason += f", ffmpeg exit {code}, {frames} frames"
                if run.log_tail:
                    reason += f": {mask_url(run.log_tail[-1])}"
                with self._lock:
                    self._run = None
            if self._closed.is_set():
                return
            failures = 0 if frames else failures + 1
            delay = backoff.delay(failures)
            log.log(
                logging.WARNING if failures <= 1 else logging.DEBUG,
                "camera %s disconnected (%s); reconnecting in %.2f s",
                mask_url(self.source),
                reason,
                delay,
            )
            self._closed.wait(delay)

    def _watch(self, run: _Run) -> str:
        """Wait until ffmpeg exits, stalls, or the source is closed; why it ended."""
        while not self._closed.wait(WATCH_INTERVAL):
            if run.process.poll() is not None:
                return "ffmpeg exited"
            limit = self.options.stall_timeout if run.frames else self.options.open_timeout
            if time.monotonic() - run.last_activity > limit:
                return f"no frame for {limit:g} s"
        return "closed"
