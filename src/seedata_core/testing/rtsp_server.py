"""A real RTSP camera for the tests: serves an H.264 video file, looped forever, over RTSP on loopback.

Run by the *system* python3, which has GStreamer's introspection bindings (Debian packages
``python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-{base,good,bad}``); the virtualenv has not::

    /usr/bin/python3 rtsp_server.py VIDEO.mp4 --port 0 --name cam

serves ``rtsp://127.0.0.1:PORT/cam`` and prints ``ready PORT`` on stdout once it listens (``--port 0``
lets the system pick a free port; pass that port again to restart the camera on the same address).
It runs until killed.

Looping: the file's access units are read once, then fed to each client's pipeline through an
``appsrc`` with their timestamps shifted by one file duration per loop. Timestamps that jump back
at a loop would make the payloader's RTP times jump back too, and readers (ffmpeg among them) would
stall or drop everything after the first loop.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


@dataclass(frozen=True)
class AccessUnit:
    """One H.264 access unit (Annex B byte stream, parameter sets in band) and its times from the start."""

    data: bytes
    pts: int
    dts: int
    duration: int
    key: bool


@dataclass(frozen=True)
class Clip:
    """The whole file in memory: its caps, its access units in decoding order and its length in ns."""

    caps: Gst.Caps
    units: list[AccessUnit]
    duration: int


def read_clip(path: str) -> Clip:
    """Demux ``path`` (MP4/MKV/...) to H.264 access units, with parameter sets before every key frame."""
    pipeline = Gst.parse_launch(
        "filesrc name=file ! parsebin ! h264parse config-interval=-1 "
        "! video/x-h264,stream-format=byte-stream,alignment=au ! appsink name=sink sync=false"
    )
    pipeline.get_by_name("file").set_property("location", path)
    sink = pipeline.get_by_name("sink")
    pipeline.set_state(Gst.State.PLAYING)
    raw: list[tuple[bytes, int, int, int, bool]] = []
    caps = None
    while (sample := sink.emit("pull-sample")) is not None:
        caps = sample.get_caps()
        buffer = sample.get_buffer()
        ok, info = buffer.map(Gst.MapFlags.READ)
        assert ok, "cannot map a demuxed buffer"
        data = bytes(info.data)
        buffer.unmap(info)
        pts = buffer.pts
        dts = buffer.dts if buffer.dts != Gst.CLOCK_TIME_NONE else pts
        key = not buffer.has_flags(Gst.BufferFlags.DELTA_UNIT)
        raw.append((data, pts, dts, buffer.duration, key))
    bus = pipeline.get_bus()
    error = bus.pop_filtered(Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    if error is not None:
        raise SystemExit(f"cannot read {path}: {error.parse_error()[0].message}")
    if not raw or caps is None:
        raise SystemExit(f"no H.264 video in {path}")
    start = min(min(pts, dts) for _, pts, dts, _, _ in raw)
    units = [
        AccessUnit(data, pts - start, dts - start, duration, key) for data, pts, dts, duration, key in raw
    ]
    duration = max(unit.pts + unit.duration for unit in units)
    return Clip(caps=caps, units=units, duration=duration)


class Feeder:
    """Pushes the clip into one client's ``appsrc`` whenever it asks, loop after loop."""

    def __init__(self, clip: Clip, appsrc: Any) -> None:
        self._clip = clip
        self._next = 0  # index of the next access unit over all loops
        appsrc.set_property("caps", clip.caps)
        appsrc.set_property("format", Gst.Format.TIME)
        appsrc.connect("need-data", self._need_data)

    def _need_data(self, appsrc: Any, _length: int) -> None:
        # A few units per call: the appsrc queue then asks again, paced by the sinks' clock sync.
        for _ in range(5):
            loop, index = divmod(self._next, len(self._clip.units))
            unit = self._clip.units[index]
            offset = loop * self._clip.duration
            buffer = Gst.Buffer.new_wrapped(unit.data)
            buffer.pts = unit.pts + offset
            buffer.dts = unit.dts + offset
            buffer.duration = unit.duration
            if not unit.key:
                buffer.set_flags(Gst.BufferFlags.DELTA_UNIT)
            self._next += 1
            if appsrc.emit("push-buffer", buffer) != Gst.FlowReturn.OK:
                return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", help="a video file with an H.264 stream")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one (default)")
    parser.add_argument("--name", default="cam", help="the stream's path: rtsp://127.0.0.1:PORT/NAME")
    args = parser.parse_args()

    Gst.init(None)
    clip = read_clip(args.video)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch("( appsrc name=src ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )")
    # One pipeline per client, each with its own feeder starting at the clip's first key frame.
    factory.set_shared(False)

    def configure(_factory: Any, media: Any) -> None:
        # The signal handler the feeder connects keeps it alive as long as the client's pipeline.
        Feeder(clip, media.get_element().get_by_name("src"))

    factory.connect("media-configure", configure)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    server.get_mount_points().add_factory(f"/{args.name}", factory)
    if server.attach(None) == 0:
        raise SystemExit(f"cannot listen on 127.0.0.1:{args.port}")
    print(f"ready {server.get_bound_port()}", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
