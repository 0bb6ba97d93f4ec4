"""Camera leases: which server process watches each camera, on every database.

``claim_cameras`` takes a free or expired lease, renews its own, and never takes one another owner
holds unexpired; ``release_cameras`` frees its own at once; a removed camera's lease goes with it.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
from seedata_storage_sql import SqlStorage, open_storage
from seedata_storage_sql import storage as storage_module
from sqlalchemy import exc as sa_exc

from seedata_core.errors import StorageUnavailable
from seedata_core.models import NewCamera
from seedata_core.settings import Settings

from .conftest import T0

TTL = 15.0
A, B = "host-a:11:aaaa", "host-b:22:bbbb"


def _cameras(storage: SqlStorage, count: int) -> list[int]:
    return [storage.add_camera(NewCamera(alias=f"cam{n}", source=f"rtsp://cam{n}")).id for n in range(count)]


def test_a_free_camera_is_claimed_and_renewed(storage: SqlStorage) -> None:
    ids = _cameras(storage, 3)
    assert storage.claim_cameras(A, ids, ttl=TTL, now=T0) == set(ids)
    # Renewed before and after it would have expired: still ours.
    assert storage.claim_cameras(A, ids, ttl=TTL, now=T0 + timedelta(seconds=10)) == set(ids)
    assert storage.claim_cameras(A, ids, ttl=TTL, now=T0 + timedelta(seconds=60)) == set(ids)


def test_nothing_to_claim(storage: SqlStorage) -> None:
    assert storage.claim_cameras(A, [], ttl=TTL, now=T0) == set()
    storage.release_cameras(A, [])


def test_an_unknown_camera_is_not_claimed(storage: SqlStorage, camera_id: int) -> None:
    assert storage.claim_cameras(A, [camera_id, camera_id + 100], ttl=TTL, now=T0) == {camera_id}


def test_a_held_lease_is_taken_over_only_after_it_expires(storage: SqlStorage) -> None:
    first, second = _cameras(storage, 2)
    assert storage.claim_cameras(A, [first], ttl=TTL, now=T0) == {first}
    # B wants both: it gets the free one, not A's.
    assert storage.claim_cameras(B, [first, second], ttl=TTL, now=T0) == {second}
    # A, renewing what it watches, does not get B's either.
    assert storage.claim_cameras(A, [first, second], ttl=TTL, now=T0 + timedelta(seconds=5)) == {first}
    # A renewed at T0+5 until T0+20: at T0+19.9 it still holds; B keeps renewing its own.
    assert storage.claim_cameras(B, [first, second], ttl=TTL, now=T0 + timedelta(seconds=19.9)) == {second}
    # A stopped renewing (its process died): after expiry B takes it over, and A has lost it.
    assert storage.claim_cameras(B, [first, second], ttl=TTL, now=T0 + timedelta(seconds=20.1)) == {
        first,
        second,
    }
    assert storage.claim_cameras(A, [first], ttl=TTL, now=T0 + timedelta(seconds=21)) == set()


def test_a_released_lease_is_free_at_once(storage: SqlStorage) -> None:
    first, second = _cameras(storage, 2)
    assert storage.claim_cameras(A, [first, second], ttl=TTL, now=T0) == {first, second}
    storage.release_cameras(B, [first, second])  # not B's: changes nothing
    assert storage.claim_cameras(B, [first, second], ttl=TTL, now=T0) == set()
    storage.release_cameras(A, [first])
    assert storage.claim_cameras(B, [first, second], ttl=TTL, now=T0) == {first}
    assert storage.claim_cameras(A, [first, second], ttl=TTL, now=T0) == {second}


def test_a_removed_camera_takes_its_lease_along(storage: SqlStorage) -> None:
    gone, kept = _cameras(storage, 2)
    assert storage.claim_cameras(A, [gone, kept], ttl=TTL, now=T0) == {gone, kept}
    storage.remove_camera(gone)
    with storage.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT camera_id, owner FROM camera_leases").all()
    assert [tuple(row) for row in rows] == [(kept, A)]
    # A new camera never inherits a lease (ids are not reused, and the row is gone anyway).
    new = _cameras(storage, 1)[0]
    assert storage.claim_cameras(B, [new], ttl=TTL, now=T0) == {new}


def test_concurrent_claims_give_each_camera_one_owner(storage: SqlStorage, settings: Settings) -> None:
    """Eight storages (as eight processes would) claim the same free cameras at once, many rounds."""
    ids = _cameras(storage, 6)
    others = [open_storage(settings) for _ in range(8)]
    try:
        for round_ in range(5):
            now = T0 + timedelta(seconds=100 * round_)  # every lease of the last round has expired

            def claim(n: int, now: datetime = now) -> set[int]:
                return others[n].claim_cameras(f"owner-{n}", ids, ttl=TTL, now=now)

            with ThreadPoolExecutor(len(others)) as pool:
                won = list(pool.map(claim, range(len(others))))
            owned = [camera for claimed in won for camera in claimed]
            assert sorted(owned) == ids, f"round {round_}: {won}"
    finally:
        for other in others:
            other.close()


def test_leases_follow_the_database_servers_clock(
    storage: SqlStorage, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Machines sharing a server database agree on when a lease ends although their clocks do not:
    the lease times are the server's, so a claimer whose clock runs an hour ahead takes nothing."""
    ids = _cameras(storage, 2)
    assert storage.claim_cameras(A, ids, ttl=TTL) == set(ids)
    ahead = time.time_ns() + 3600 * 10**9
    monkeypatch.setattr(storage_module.time, "time_ns", lambda: ahead)
    if db == "sqlite":
        # One machine, one clock: an hour later by it, the lease has expired.
        assert storage.claim_cameras(B, ids, ttl=TTL) == set(ids)
    else:
        assert storage.claim_cameras(B, ids, ttl=TTL) == set()
        assert storage.claim_cameras(A, ids, ttl=TTL) == set(ids)


def test_a_claim_chosen_as_a_deadlock_victim_is_made_again(
    storage: SqlStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """InnoDB may roll back one of several concurrent claims to break a deadlock; that claim runs again."""
    camera = storage.add_camera(NewCamera(alias="Gate", source="s")).id
    real_claim = storage._claim
    failures = [1213, 1213]

    def claim(*args: Any) -> set[int]:
        if failures:
            code = failures.pop(0)
            orig = Exception(code, "Deadlock found when trying to get lock")
            raise StorageUnavailable("the database is unavailable") from sa_exc.OperationalError(
                "x", {}, orig
            )
        return real_claim(*args)

    monkeypatch.setattr(storage, "_claim", claim)
    assert storage.claim_cameras("me", [camera], ttl=5) == {camera}
    failures.extend([1213, 1213, 1213])  # the third in a row is let through
    with pytest.raises(StorageUnavailable):
        storage.claim_cameras("me", [camera], ttl=5)
    failures[:] = [2013]  # not a deadlock: no second try
    with pytest.raises(StorageUnavailable):
        storage.claim_cameras("me", [camera], ttl=5)
    assert failures == []
