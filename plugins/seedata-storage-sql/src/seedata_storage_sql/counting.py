"""The flow counts that writers keep in the transaction that adds or deletes flows: the ``counters``
rows (all flows, and each camera's) and the hour counts (:mod:`.hours`).

Every writer changes them in one order: the total first (on PostgreSQL and MariaDB its row lock
serialises the writers of flows, see :mod:`.storage`), then the cameras' counters in camera order,
then the hours in key order, so concurrent writers never wait for each other in a circle.
"""

from __future__ import annotations

from collections import Counter
from typing import Final

from sqlalchemy import Connection, Table, select, update

from . import tallies
from .hours import CameraHours, hour_changes, subtract_hours
from .schema import TOTAL_FLOWS, camera_flows_counter, counters

LOCK_FLOW_WRITES: Final = select(counters.c.value).where(counters.c.name == TOTAL_FLOWS).with_for_update()
"""Takes the total's row lock first, for a writer that must hold it before it counts (an import
checking which ids exist, retention choosing what to delete)."""


def count_added(conn: Connection, added: CameraHours) -> None:
    """Count flows in, by (camera id, hour), in the caller's transaction."""
    for table, rows in added_changes(added):
        tallies.add(conn, table, rows)


def added_changes(added: CameraHours) -> list[tuple[Table, tallies.Changes]]:
    """The counts that flows in add to, by table, in the lock order: the counters (one upsert,
    which takes their row locks in the order given), then the hours."""
    by_counter: tallies.Changes = [{"k_name": name, "n": n} for name, n in _by_counter(added).items()]
    return [(counters, by_counter), *hour_changes(added)]


def count_removed(conn: Connection, removed: CameraHours) -> None:
    """Count deleted flows off, by (camera id, hour), in the caller's transaction."""
    for name, n in _by_counter(removed).items():
        conn.execute(update(counters).where(counters.c.name == name).values(value=counters.c.value - n))
    subtract_hours(conn, removed)


def _by_counter(changes: CameraHours) -> dict[str, int]:
    """Flows per counter name, the total first and then the cameras in order (the lock order)."""
    by_camera: Counter[int] = Counter()
    for (camera_id, _), n in changes.items():
        by_camera[camera_id] += n
    steps = {TOTAL_FLOWS: sum(changes.values())}
    steps.update((camera_flows_counter(camera_id), n) for camera_id, n in sorted(by_camera.items()))
    return steps
