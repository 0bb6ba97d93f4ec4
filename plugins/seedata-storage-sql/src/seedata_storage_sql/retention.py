"""Retention: deleting the oldest flows in small batches, and measuring what the pictures take.

One batch is one short write transaction (:func:`delete_oldest`), in the same lock order as the
inserts of :mod:`.storage`: the row lock of the total counter first (SQLite's write lock does the
same), then the doomed flow rows (``FOR UPDATE``, so a concurrent re-read of one of them waits and
the picture keys read are the ones the row names when it goes), then the per-camera counters in
camera order, then the hour counts in key order (:mod:`.hours`). Writers of flows are thus
serialised where they meet: two processes pruning at once delete, and count off, each flow once, and
an insert never sees a half-made count. Rows are deleted by primary key, and their plate grams with
them (:mod:`.grams`).

Picture files are removed after the commit (:func:`remove_pictures`): a crash in between leaves
files that no row names, never a row without its files' data. The pictures' total size comes from
:class:`ImageUsage`, which re-sums only the day directories that changed since it last looked.
"""

from __future__ import annotations

import os
import re
import threading
from collections import Counter
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path

from sqlalchemy import Connection, delete, select

from .counting import LOCK_FLOW_WRITES, count_removed
from .grams import unindex_plates
from .hours import HOUR
from .images import ImageStore
from .schema import flows

_YEAR = re.compile(r"\A\d{4}\Z")
_MONTH_OR_DAY = re.compile(r"\A\d{2}\Z")


def delete_oldest(conn: Connection, *, limit: int, before: int | None = None) -> tuple[int, list[str]]:
    """Delete the ``limit`` oldest flows (only those with ``ts < before`` when given) in the caller's
    write transaction, and count them off; return how many were deleted and their picture keys."""
    if limit < 1:
        raise ValueError("limit must be positive")
    conn.execute(LOCK_FLOW_WRITES)
    doomed = (
        select(
            flows.c.id,
            flows.c.camera_id,
            flows.c.ts,
            flows.c.plate,
            flows.c.image_key,
            flows.c.plate_image_key,
        )
        .order_by(flows.c.ts, flows.c.id)
        .limit(limit)
        .with_for_update()
    )
    if before is not None:
        doomed = doomed.where(flows.c.ts < before)
    rows = conn.execute(doomed).all()
    if not rows:
        return 0, []
    deleted = conn.execute(delete(flows).where(flows.c.id.in_([row.id for row in rows]))).rowcount
    if deleted != len(rows):
        # The rows were locked, so this is a bug, not a race: undo rather than miscount.
        raise RuntimeError(f"deleted {deleted} flows of {len(rows)} locked ones")
    unindex_plates(conn, [(row.id, row.ts, row.plate) for row in rows])
    count_removed(conn, Counter((row.camera_id, row.ts // HOUR) for row in rows))
    return len(rows), [key for row in rows for key in (row.image_key, row.plate_image_key) if key is not None]


def remove_pictures(images: ImageStore, keys: Iterable[str]) -> int:
    """Delete the published picture files of deleted flows; return the bytes they took."""
    freed = 0
    for key in keys:
        with suppress(FileNotFoundError):
            freed += (images.root / key).stat().st_size
        images.remove([key])
    return freed


class ImageUsage:
    """The bytes of the published pictures under an image root (``YYYY/MM/DD/*.jpg``).

    Each call stats the day directories and re-sums the files of those whose modification time
    changed (a file added or removed changes it), so a steady state costs one stat per day plus the
    files of the days being written. Thread-safe.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._days: dict[str, tuple[int, int]] = {}  # day directory -> (mtime_ns, bytes)
        self._lock = threading.Lock()

    def total(self) -> int:
        with self._lock:
            seen: dict[str, tuple[int, int]] = {}
            for day in _day_dirs(self.root):
                try:
                    mtime = os.stat(day).st_mtime_ns
                except FileNotFoundError:
                    continue
                cached = self._days.get(day)
                # The time is read before the files: a change made while summing is seen next time.
                seen[day] = cached if cached and cached[0] == mtime else (mtime, _dir_bytes(day))
            self._days = seen
            return sum(size for _, size in seen.values())


def _subdirs(path: str, name: re.Pattern[str]) -> list[str]:
    with suppress(FileNotFoundError, NotADirectoryError), os.scandir(path) as entries:
        return [e.path for e in entries if name.match(e.name) and e.is_dir(follow_symlinks=False)]
    return []


def _day_dirs(root: Path) -> list[str]:
    return [
        day
        for year in _subdirs(str(root), _YEAR)
        for month in _subdirs(year, _MONTH_OR_DAY)
        for day in _subdirs(month, _MONTH_OR_DAY)
    ]


def _dir_bytes(path: str) -> int:
    total = 0
    with suppress(FileNotFoundError), os.scandir(path) as entries:
        for entry in entries:
            with suppress(FileNotFoundError):
                if entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
    return total
