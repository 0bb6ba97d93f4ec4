"""Seedata's state in the Prometheus text format (``GET /metrics``), with no client library needed.

Figures from storage (flows, cameras by status) hold for the whole installation; those of engine reads,
triggers and auto flows count what this process did since it started.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from .cameras import camera_status
from .filter_ast import MATCH_ALL
from .models import CameraStatus
from .service import Seedata

# UTF-8; the HTTP layer adds the charset parameter.
CONTENT_TYPE = "text/plain; version=0.0.4"
STATUSES: tuple[CameraStatus, ...] = ("online", "offline", "disabled")


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _family(name: str, kind: str, help_text: str, samples: Iterable[tuple[str, float]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{labels} {value:g}" for labels, value in samples]
    return lines


def render_metrics(seedata: Seedata, now: datetime) -> str:
    """The exposition text: one family per line group, a trailing newline."""
    cameras = seedata.cameras()
    statuses = {camera.id: camera_status(camera, now) for camera in cameras}
    lines = _family("seedata_flows", "gauge", "Flows stored.", [("", seedata.storage.count_flows(MATCH_ALL))])
    lines += _family(
        "seedata_cameras",
        "gauge",
        "Cameras by status (online: a frame within the last 5 s).",
        [(f'{{status="{status}"}}', list(statuses.values()).count(status)) for status in STATUSES],
    )
    lines += _family(
        "seedata_camera_up",
        "gauge",
        "1 when an enabled camera is online.",
        [
            (f'{{camera="{_label(camera.alias)}"}}', statuses[camera.id] == "online")
            for camera in cameras
            if camera.enabled
        ],
    )
    workers = seedata.workers
    watched = workers.watched() if workers is not None else []
    lines += _family(
        "seedata_camera_frame_age_seconds",
        "gauge",
        "Age of the newest frame of each camera this process watches.",
        [
            (f'{{camera="{_label(camera.alias)}"}}', (now - seen).total_seconds())
            for camera in watched
            if workers is not None and (seen := workers.last_frame_at(camera.id)) is not None
        ],
    )
    lines += _family(
        "seedata_auto_flows_total",
        "counter",
        "Flows made by auto mode in this process, by camera.",
        [
            (f'{{camera="{_label(camera.alias)}"}}', worker.flows_made)
            for camera in watched
            if workers is not None and (worker := workers.worker(camera.id)) is not None
        ],
    )
    # Only an engine that was asked to read has counts: metrics never load a model.
    stats = seedata.read_stats()
    if stats is not None:
        lines += _family("seedata_alpr_reads_total", "counter", "Engine reads.", [("", stats.reads)])
        lines += _family(
            "seedata_alpr_plates_total", "counter", "Engine reads that found a plate.", [("", stats.plates)]
        )
        lines += _family("seedata_alpr_failures_total", "counter", "Engine failures.", [("", stats.failures)])
        lines += _family(
            "seedata_alpr_read_seconds_total", "counter", "Time spent in engine reads.", [("", stats.seconds)]
        )
    lines += _family(
        "seedata_triggers_total",
        "counter",
        "Manual triggers (POST /flows) by outcome.",
        [(f'{{outcome="{outcome}"}}', count) for outcome, count in sorted(seedata.trigger_outcomes.items())],
    )
    return "\n".join(lines) + "\n"
