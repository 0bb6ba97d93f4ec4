"""A Seedata frame-source plugin in one module: the ``images`` source.

A camera whose source is ``images:///path/to/folder`` sees the JPEG and PNG pictures of that folder,
one after another in name order, round and round, so Seedata can run on photos you already have.
The folder is listed again before each picture: drop a photo in and the camera sees it soon after.
Its one option, from the settings of the ``images`` kind of source::

    interval = 1.0   # seconds each picture stays the newest frame (more than 0)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote

import msgspec

from seedata_core import hookimpl
from seedata_core.errors import ConfigError
from seedata_core.frames import Frame
from seedata_core.imaging import ImageError, read_image
from seedata_core.models import Camera
from seedata_core.sources import FrameSourceSpec

NAME = "images"
PREFIX = "images://"
SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})

log = logging.getLogger(__name__)


class ImagesOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What an ``images`` camera may be told; see the module doc."""

    interval: Annotated[float, msgspec.Meta(gt=0)] = 1.0

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> ImagesOptions:
        """The options, with ``"0.5"`` as good as ``0.5``; a typo or a bad value is a ConfigError."""
        try:
            return msgspec.convert(dict(options), cls, strict=False)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"bad {NAME} frame-source option: {exc}") from exc


def accepts(source: str) -> bool:
    """Our own scheme and nothing else. Called for every camera, so it touches no disk or network."""
    return source.startswith(PREFIX)


def folder_of(source: str) -> Path:
    """``images:///srv/plates`` is ``/srv/plates``; ``images://plates`` is ``plates``, relative."""
    return Path(unquote(source.removeprefix(PREFIX)))


class ImageFolderSource:
    """A :class:`~seedata_core.sources.FrameSource` over a folder of pictures; see the module doc.

    One background thread lists the folder, decodes the next picture and publishes it as the newest
    frame, then waits ``interval``. A missing or empty folder, or a picture that does not decode, is
    a camera that is offline for a while: logged, retried, never raised.
    """

    def __init__(self, folder: Path, options: ImagesOptions) -> None:
        self.folder = folder
        self.options = options
        self._latest: Frame | None = None
        self._closed = threading.Event()
        self._problem: str | None = None
        self._thread = threading.Thread(target=self._run, name=f"{NAME}-source {folder}", daemon=True)
        self._thread.start()

    @property
    def last_frame_at(self) -> datetime | None:
        frame = self._latest
        return None if frame is None else frame.captured_at

    def latest(self) -> Frame | None:
        # Only the thread writes _latest, and replacing one attribute is atomic: no lock, no wait.
        return self._latest

    def close(self) -> None:
        """Stop the thread and wait for it: at most one picture's decoding. Idempotent."""
        self._closed.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        shown = 0
        while not self._closed.is_set():
            pictures = self._pictures()
            if pictures:
                self._show(pictures[shown % len(pictures)])
                shown += 1
            # Not time.sleep: close() sets the event and the thread ends at once.
            self._closed.wait(self.options.interval)

    def _pictures(self) -> list[Path]:
        try:
            pictures = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in SUFFIXES)
        except OSError as exc:
            self._complain(f"cannot list {self.folder}: {exc.strerror or exc}")
            return []
        if not pictures:
            self._complain(f"no JPEG or PNG pictures in {self.folder}")
        return pictures

    def _show(self, path: Path) -> None:
        try:
            frame = read_image(path)
        except ImageError as exc:
            self._complain(f"skipping a picture: {exc}")
            return
        # read_image dates a frame by its file's modification time, but a camera's frame is dated
        # when it was seen; otherwise every photo would be older than the 5 s freshness limit.
        self._latest = msgspec.structs.replace(frame, captured_at=datetime.now(UTC))
        self._problem = None

    def _complain(self, problem: str) -> None:
        # Once per problem, not once per interval: an operator's log should not fill up.
        if problem != self._problem:
            log.warning("%s source %s: %s", NAME, self.folder, problem)
            self._problem = problem


def open_camera(camera: Camera, options: Mapping[str, Any]) -> ImageFolderSource:
    """Check the options, then start the thread; returns at once, before the first frame."""
    return ImageFolderSource(folder_of(camera.source), ImagesOptions.from_mapping(options))


@hookimpl
def seedata_register_frame_sources(register: Callable[[FrameSourceSpec], None]) -> None:
    # Registering must be cheap: Seedata loads every plugin for every command.
    register(
        FrameSourceSpec(
            name=NAME,
            accepts=accepts,
            open=open_camera,
            description="images:///folder shows its JPEG and PNG pictures in turn (documentation example)",
        )
    )
