"""Flow pictures as files under ``<data_dir>/images``, written so that a crash strands nothing.

Final layout: ``YYYY/MM/DD/<hex>.jpg`` and ``YYYY/MM/DD/<hex>.plate.jpg``, the date being the flow's
UTC day; these relative paths are the keys stored in the ``flows`` rows.

Writing a flow (or a batch of them):

1. :meth:`ImageStore.stage` writes each picture into this store's own staging directory and fsyncs
   it; :meth:`ImageStore.sync` then fsyncs that directory once;
2. the caller inserts the rows, which name the final keys, and commits;
3. :meth:`ImageStore.publish` renames the staged files to their final places, or
   :meth:`ImageStore.discard` deletes them if the transaction failed.

A crash before step 2 commits leaves staged files that no row names; a crash after it leaves staged
files that rows name. :meth:`ImageStore.recover` asks which keys rows name, publishes those files and
deletes the others: it runs when a storage opens, over the staging directories of stores that are
gone, and when a store closes, over its own. Reads fall back to the staging directories when a final
file is missing, which also covers another process caught between steps 2 and 3.

Each open store holds an exclusive lock (``flock``) on ``staging/<instance>.lock`` for its lifetime, so
a lock that can be taken belongs to a store that is gone. ``staging/.lock`` serialises creating and
recovering instances, so a recoverer never meets an instance whose lock is not held yet.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from seedata_core.models import FlowImages

log = logging.getLogger(__name__)

STAGING = "staging"
_KEY = re.compile(r"\A(\d{4})/(\d{2})/(\d{2})/[0-9a-f]{32}(\.plate)?\.jpg\Z")
_INSTANCE = re.compile(r"\A[0-9a-f]{32}\Z")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Referenced = Callable[[Collection[str]], set[str]]
"""Given image keys, the ones that a stored flow names."""


class StagedImages(NamedTuple):
    """The keys a flow's staged pictures will have once published (``None``: no such picture)."""

    image_key: str | None
    plate_image_key: str | None

    def present(self) -> list[str]:
        """The keys of the pictures there are."""
        return [key for key in self if key is not None]


NO_IMAGES = StagedImages(None, None)


def key_day(key: str) -> int:
    """The UTC epoch second at which the day of an image key starts (that of its flow's timestamp)."""
    match = _KEY.match(key)
    if match is None:
        raise ValueError(f"not an image key: {key!r}")
    year, month, day = (int(part) for part in match.group(1, 2, 3))
    return (datetime(year, month, day, tzinfo=UTC) - _EPOCH) // timedelta(seconds=1)


def _staged_name(key: str) -> str:
    return key.replace("/", "_")


def _key_of_staged(name: str) -> str | None:
    key = name.replace("_", "/")
    return key if _KEY.match(key) else None


def _write_durably(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ImageStore:
    """The pictures of one open storage; thread-safe (every writer stages under names of its own)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging = root / STAGING
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.staging.mkdir(mode=0o700, exist_ok=True)
        self._made_dirs: set[Path] = set()
        with self._staging_lock():
            self.instance = uuid.uuid4().hex
            self._lock_fd = os.open(
                self.staging / f"{self.instance}.lock", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600
            )
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.own = self.staging / self.instance
            self.own.mkdir(mode=0o700)

    # -- writing ---------------------------------------------------------------------------------
    def stage(self, epoch: int, images: FlowImages) -> StagedImages:
        """Write a flow's pictures (taken at ``epoch``) durably into staging; return their keys."""
        if images.image is None and images.plate_image is None:
            return NO_IMAGES
        day = (_EPOCH + timedelta(seconds=epoch)).date()
        stem = f"{day.year:04d}/{day.month:02d}/{day.day:02d}/{uuid.uuid4().hex}"
        staged = StagedImages(
            f"{stem}.jpg" if images.image is not None else None,
            f"{stem}.plate.jpg" if images.plate_image is not None else None,
        )
        written: list[str] = []
        try:
            for key, data in zip(staged, (images.image, images.plate_image), strict=True):
                if key is not None and data is not None:
                    written.append(key)
                    _write_durably(self.own / _staged_name(key), data)
        except BaseException:
            self.discard(written)
            raise
        return staged

    def sync(self) -> None:
        """Make the staged files' names durable: call once after staging, before the commit."""
        _fsync_dir(self.own)

    def publish(self, keys: Iterable[str]) -> None:
        """Move staged files to their final places; a failure is logged and left to recovery."""
        for key in keys:
            target = self.root / key
            try:
                if target.parent not in self._made_dirs:
                    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                    self._made_dirs.add(target.parent)
                os.replace(self.own / _staged_name(key), target)
            except OSError as exc:
                # The row is committed: reads find the staged file, and recovery moves it later.
                log.warning("could not publish image %s: %s", key, exc)

    def discard(self, keys: Iterable[str]) -> None:
        """Delete staged files whose rows were not stored."""
        for key in keys:
            with suppress(FileNotFoundError):
                (self.own / _staged_name(key)).unlink()

    def remove(self, keys: Iterable[str]) -> None:
        """Delete published pictures that no row names any more (a replaced plate picture)."""
        for key in keys:
            if _KEY.match(key) is None:
                continue
            with suppress(FileNotFoundError):
                (self.root / key).unlink()

    # -- reading ---------------------------------------------------------------------------------
    def read(self, key: str | None) -> bytes | None:
        """The picture stored under ``key``; ``None`` for no key, or a file that is gone."""
        if key is None:
            return None
        if _KEY.match(key) is None:
            log.warning("ignoring malformed image key %r", key)
            return None
        # Final, staged, final again: a writer may publish between the first two looks.
        for path in (self.root / key, *self._staged_paths(key), self.root / key):
            with suppress(FileNotFoundError):
                return path.read_bytes()
        log.warning("image %s is missing", key)
        return None

    def _staged_paths(self, key: str) -> Iterator[Path]:
        name = _staged_name(key)
        with suppress(FileNotFoundError):
            for entry in os.scandir(self.staging):
                if entry.is_dir():
                    yield Path(entry.path) / name

    # -- recovery --------------------------------------------------------------------------------
    def recover(self, referenced: Referenced) -> int:
        """Finish or undo the writes of stores that are gone; return how many files were handled."""
        handled = 0
        with self._staging_lock():
            for lock_path in self.staging.glob("*.lock"):
                instance = lock_path.name.removesuffix(".lock")
                if instance == self.instance or not _INSTANCE.match(instance):
                    continue
                try:
                    fd = os.open(lock_path, os.O_RDWR)
                except FileNotFoundError:
                    continue
                try:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # its store is alive
                    handled += self._recover_dir(self.staging / instance, referenced)
                    lock_path.unlink(missing_ok=True)
                finally:
                    os.close(fd)
        return handled

    def close(self, referenced: Referenced) -> None:
        """Settle this store's own staged files (left by failed publishes) and release its lock."""
        try:
            self._recover_dir(self.own, referenced)
            (self.staging / f"{self.instance}.lock").unlink(missing_ok=True)
        finally:
            os.close(self._lock_fd)

    def _recover_dir(self, directory: Path, referenced: Referenced) -> int:
        try:
            entries = list(directory.iterdir())
        except FileNotFoundError:
            return 0
        keys = {path: _key_of_staged(path.name) for path in entries}
        named = referenced({key for key in keys.values() if key is not None})
        for path, key in keys.items():
            if key is not None and key in named:
                target = self.root / key
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.replace(path, target)
                log.info("recovered image %s", key)
            else:
                path.unlink(missing_ok=True)
                log.info("deleted unreferenced staged image %s", path.name)
        directory.rmdir()
        return len(entries)

    @contextmanager
    def _staging_lock(self) -> Iterator[None]:
        fd = os.open(self.staging / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)
