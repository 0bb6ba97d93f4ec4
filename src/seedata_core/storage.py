"""The contract of a storage backend: cameras, users, flows with their images, and signing keys.

A storage plugin registers a :class:`StorageSpec` (see
:func:`seedata_core.hookspecs.seedata_register_storages`); Seedata picks the spec whose ``schemes``
include the scheme of the ``database_url`` setting and calls ``spec.open(settings)``.

Every method is synchronous and thread-safe; the HTTP server calls them from worker threads.
Times are aware UTC ``datetime`` objects.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import msgspec

from .filter_ast import Node
from .models import Camera, Flow, FlowImages, NewCamera, NewFlow, SigningKey, User

if TYPE_CHECKING:
    from .settings import Settings


class ImportResult(msgspec.Struct):
    """What a bulk import did: flows added, and flows skipped because their id existed."""

    added: int = 0
    skipped: int = 0


class Pruned(msgspec.Struct):
    """What a retention delete did: flows deleted, and the bytes of the picture files it removed."""

    flows: int = 0
    image_bytes: int = 0

    def __add__(self, other: Pruned) -> Pruned:
        return Pruned(self.flows + other.flows, self.image_bytes + other.image_bytes)


@runtime_checkable
class Storage(Protocol):
    """A place that keeps Seedata's records. Write methods commit before they return."""

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        """Release connections and files. Idempotent."""
        ...

    def ping(self) -> bool:
        """True when the backend answers right now."""
        ...

    # -- cameras ---------------------------------------------------------------------------------
    def add_camera(self, camera: NewCamera) -> Camera:
        """Add a camera; raise :class:`~seedata_core.errors.Conflict` if the alias is taken."""
        ...

    def update_camera(self, camera_id: int, **changes: Any) -> Camera:
        """Change the named fields of a camera (those of :class:`NewCamera`); ``NotFound`` if absent."""
        ...

    def remove_camera(self, camera_id: int) -> None:
        """Remove a camera that has no flows, or disable it and drop its source if it has some."""
        ...

    def list_cameras(self) -> list[Camera]:
        """All cameras, ordered by id."""
        ...

    def get_camera(self, camera_id: int) -> Camera | None:
        """The camera with this id, or ``None``."""
        ...

    def get_camera_by_alias(self, alias: str) -> Camera | None:
        """The camera with this alias (exact match), or ``None``."""
        ...

    def touch_camera(self, camera_id: int, keep_alive: datetime) -> None:
        """Record that a frame arrived from the camera at ``keep_alive``."""
        ...

    def claim_cameras(
        self, owner: str, camera_ids: Collection[int], *, ttl: float, now: datetime | None = None
    ) -> set[int]:
        """Take or renew the leases of these cameras for ``owner``; the ids whose lease it holds after.

        A lease says which server process watches a camera, so that several processes on one database
        watch each camera exactly once. Atomically, for each id of an existing camera: the lease is
        taken, or renewed, until ``now + ttl`` (seconds) when the camera has none, when its lease
        expired before ``now``, or when ``owner`` holds it already; a lease another owner holds
        unexpired is left alone. Owners call this again well within ``ttl`` to keep their cameras.
        ``now`` defaults to the storage's own clock, one that every process sharing the storage
        reads alike (a database server's), so that machines whose clocks disagree still agree on
        when a lease ends; a given ``now`` is for tests. ``owner`` is at most 64 characters.
        """
        ...

    def release_cameras(self, owner: str, camera_ids: Collection[int]) -> None:
        """Give up ``owner``'s leases of these cameras (on a clean stop), so another process may take
        them over at once instead of after they expire; leases of other owners are left alone."""
        ...

    # -- users -----------------------------------------------------------------------------------
    def add_user(self, email: str, password_hash: str) -> User:
        """Add an enabled user; ``Conflict`` if the email (compared case-insensitively) exists."""
        ...

    def get_user(self, user_id: int) -> User | None:
        """The user with this id, or ``None``."""
        ...

    def get_user_by_email(self, email: str) -> User | None:
        """The user with this email, compared case-insensitively, or ``None``."""
        ...

    def list_users(self) -> list[User]:
        """All users, ordered by id."""
        ...

    def update_user(
        self, user_id: int, *, enabled: bool | None = None, password_hash: str | None = None
    ) -> User:
        """Enable or disable a user, or set a new password hash; ``NotFound`` if absent."""
        ...

    # -- flows -----------------------------------------------------------------------------------
    def add_flow(self, flow: NewFlow, images: FlowImages) -> Flow:
        """Store one flow with its images, atomically: after a crash either both exist or neither."""
        ...

    def import_flows(
        self, flows: Iterable[tuple[NewFlow, FlowImages]], *, batch_size: int = 40_000
    ) -> ImportResult:
        """Store many flows that carry their ids; a flow whose id exists is skipped (idempotent)."""
        ...

    def update_flow_read(
        self, flow_id: int, *, plate: str | None, score: float, lpr_version: str, plate_image: bytes | None
    ) -> Flow:
        """Replace what was read in a stored flow (``seedata flows reread``): its plate (normalised, or
        ``None`` with score 0), score, ``lpr_version`` and plate picture; the whole picture stays.
        Atomic like :meth:`add_flow`; ``NotFound`` if the flow is absent."""
        ...

    def get_flow(self, flow_id: int) -> Flow | None:
        """The flow with this id, or ``None``."""
        ...

    def get_images(self, flow: Flow) -> FlowImages:
        """The stored pictures of a flow (``None`` for each one it lacks)."""
        ...

    def count_flows(self, where: Node) -> int:
        """How many flows match; without a condition, from a counter, never by scanning."""
        ...

    def search_flows(self, where: Node, *, offset: int, limit: int) -> list[Flow]:
        """The matching flows, newest first (timestamp then id, both descending)."""
        ...

    def iter_flows(self, where: Node, *, batch_size: int = 1000) -> Iterator[Flow]:
        """Every matching flow, oldest first (timestamp then id ascending), in constant memory."""
        ...

    # -- retention -------------------------------------------------------------------------------
    def delete_flows_before(self, before: datetime, *, limit: int) -> Pruned:
        """Delete the oldest flows whose timestamp is before ``before``, at most ``limit`` of them, and
        their pictures. One short transaction that keeps the counters exact; safe to run in several
        processes at once (a flow is deleted, and counted off, once)."""
        ...

    def delete_oldest_flows(self, *, limit: int) -> Pruned:
        """Delete the ``limit`` oldest flows (timestamp, then id) and their pictures, like
        :meth:`delete_flows_before` (for a disk budget)."""
        ...

    def images_bytes(self) -> int:
        """How many bytes the stored pictures take; may be cached, and so lag a little behind."""
        ...

    # -- signing keys ----------------------------------------------------------------------------
    def signing_keys(self) -> list[SigningKey]:
        """All kept signing keys, newest first."""
        ...

    def add_signing_key(self, key: SigningKey, *, keep: int = 2) -> None:
        """Store a new key and delete all but the ``keep`` newest."""
        ...


class StorageSpec(msgspec.Struct, frozen=True, kw_only=True):
    """How to open storages of one kind: for these ``database_url`` schemes, call ``open(settings)``.

    ``schemes`` are URL scheme names before any ``+driver`` part (``sqlite``, ``postgresql``, ...).
    ``open`` creates or upgrades the schema as needed and returns a ready :class:`Storage`.
    """

    name: str
    schemes: tuple[str, ...]
    open: Callable[[Settings], Storage]
    description: str = ""
