"""Cameras, users, signing keys, the storage's life cycle and its plugin registration."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from seedata_storage_sql import SqlStorage, open_storage
from seedata_storage_sql.plugin import SCHEMES

from seedata_core.errors import Conflict, NotFound, StorageUnavailable
from seedata_core.models import FlowImages, NewCamera, NewFlow, SigningKey
from seedata_core.plugins import Plugins, make_plugin_manager
from seedata_core.settings import Settings
from seedata_core.storage import Storage

FlowMaker = Callable[..., NewFlow]


def test_is_a_storage(storage: SqlStorage) -> None:
    assert isinstance(storage, Storage)


def test_plugin_registers_the_sql_storage_through_its_entry_point(settings: Settings) -> None:
    spec = Plugins(make_plugin_manager()).storage_for_url(settings.resolved_database_url)
    assert spec.name == "sql"
    assert spec.schemes == SCHEMES
    opened = spec.open(settings)
    try:
        assert opened.ping()
    finally:
        opened.close()


# -- cameras -------------------------------------------------------------------------------------
def test_add_and_read_cameras(storage: SqlStorage) -> None:
    gate = storage.add_camera(
        NewCamera(
            alias="Gate",
            source="rtsp://u:p@gate/1",
            snapshot_url="http://gate/snap.jpg",
            capture_mode="manual",
            manual_trigger_delay=250,
            country="br",
        )
    )
    back = storage.add_camera(NewCamera(alias="back", source="/videos/back.mp4", enabled=False))
    assert gate.id < back.id
    assert storage.list_cameras() == [gate, back]
    assert storage.get_camera(gate.id) == gate
    assert storage.get_camera(back.id + 1) is None
    assert storage.get_camera_by_alias("back") == back
    assert storage.get_camera_by_alias("BACK") is None  # exact
    assert gate.capture_mode == "manual"
    assert gate.manual_trigger_delay == 250
    assert gate.keep_alive is None
    assert back.enabled is False


def test_camera_alias_is_unique(storage: SqlStorage) -> None:
    storage.add_camera(NewCamera(alias="Gate", source="a"))
    with pytest.raises(Conflict):
        storage.add_camera(NewCamera(alias="Gate", source="b"))
    assert len(storage.list_cameras()) == 1


def test_camera_fields_are_validated(storage: SqlStorage) -> None:
    with pytest.raises(msgspec.ValidationError):
        storage.add_camera(NewCamera(alias="x", source="a", capture_mode="sometimes"))  # type: ignore[arg-type]
    assert storage.list_cameras() == []


def test_update_camera(storage: SqlStorage) -> None:
    gate = storage.add_camera(NewCamera(alias="Gate", source="a"))
    other = storage.add_camera(NewCamera(alias="Other", source="b"))
    changed = storage.update_camera(gate.id, alias="Front", enabled=False, manual_trigger_delay=100)
    assert changed == msgspec.structs.replace(gate, alias="Front", enabled=False, manual_trigger_delay=100)
    assert storage.get_camera(gate.id) == changed
    with pytest.raises(Conflict):
        storage.update_camera(gate.id, alias=other.alias)
    with pytest.raises(NotFound):
        storage.update_camera(other.id + 1, alias="nobody")
    with pytest.raises(TypeError, match="keep_alive"):
        storage.update_camera(gate.id, keep_alive=None)
    with pytest.raises(msgspec.ValidationError):
        storage.update_camera(gate.id, manual_trigger_delay="soon")
    assert storage.get_camera(gate.id) == changed


def test_remove_camera_without_flows_deletes_it(storage: SqlStorage) -> None:
    gate = storage.add_camera(NewCamera(alias="Gate", source="a"))
    storage.remove_camera(gate.id)
    assert storage.list_cameras() == []
    with pytest.raises(NotFound):
        storage.remove_camera(gate.id)
    # Ids are never reused.
    assert storage.add_camera(NewCamera(alias="Gate", source="a")).id == gate.id + 1


def test_remove_camera_with_flows_disables_it(storage: SqlStorage, make_flow: FlowMaker) -> None:
    gate = storage.add_camera(NewCamera(alias="Gate", source="rtsp://gate", snapshot_url="http://gate/snap"))
    flow = storage.add_flow(make_flow(gate.id), FlowImages())
    storage.remove_camera(gate.id)
    kept = storage.get_camera(gate.id)
    assert kept is not None
    assert (kept.enabled, kept.source, kept.snapshot_url) == (False, "", None)
    assert storage.get_flow(flow.id) == flow


def test_touch_camera(storage: SqlStorage) -> None:
    gate = storage.add_camera(NewCamera(alias="Gate", source="a"))
    moment = datetime(2024, 5, 1, 12, 0, 7, 250_000, tzinfo=UTC)
    storage.touch_camera(gate.id, moment)
    assert storage.get_camera(gate.id) == msgspec.structs.replace(
        gate, keep_alive=moment.replace(microsecond=0)
    )
    storage.touch_camera(gate.id, moment + timedelta(seconds=3))
    camera = storage.get_camera(gate.id)
    assert camera is not None
    assert camera.keep_alive == datetime(2024, 5, 1, 12, 0, 10, tzinfo=UTC)


# -- users ---------------------------------------------------------------------------------------
def test_users(storage: SqlStorage) -> None:
    before = datetime.now(UTC)
    ana = storage.add_user("Ana@Example.com", "$argon2id$ana")
    bo = storage.add_user("bo@example.com", "$argon2id$bo")
    assert ana.enabled
    assert ana.created_at is not None
    assert before <= ana.created_at <= datetime.now(UTC)
    assert storage.list_users() == [ana, bo]
    assert storage.get_user(ana.id) == ana
    assert storage.get_user(bo.id + 1) is None
    assert storage.get_user_by_email("ana@EXAMPLE.com") == ana
    assert storage.get_user_by_email("nobody@example.com") is None
    with pytest.raises(Conflict):
        storage.add_user("ANA@example.com", "$argon2id$other")


def test_update_user(storage: SqlStorage) -> None:
    ana = storage.add_user("ana@example.com", "$argon2id$ana")
    disabled = storage.update_user(ana.id, enabled=False)
    assert disabled == msgspec.structs.replace(ana, enabled=False)
    changed = storage.update_user(ana.id, enabled=True, password_hash="$argon2id$new")
    assert changed == msgspec.structs.replace(ana, password_hash="$argon2id$new")
    assert storage.get_user(ana.id) == changed
    with pytest.raises(NotFound):
        storage.update_user(ana.id + 1, enabled=False)


# -- signing keys --------------------------------------------------------------------------------
def _key(kid: str, minutes: int) -> SigningKey:
    created = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes, microseconds=17)
    return SigningKey(kid=kid, private_pem=f"-----PEM {kid}-----", created_at=created)


def test_signing_keys_keep_the_newest(storage: SqlStorage) -> None:
    assert storage.signing_keys() == []
    storage.add_signing_key(_key("a", 1))
    storage.add_signing_key(_key("b", 2))
    assert storage.signing_keys() == [_key("b", 2), _key("a", 1)]
    storage.add_signing_key(_key("c", 3))
    assert storage.signing_keys() == [_key("c", 3), _key("b", 2)]
    storage.add_signing_key(_key("d", 4), keep=1)
    assert storage.signing_keys() == [_key("d", 4)]
    with pytest.raises(Conflict):
        storage.add_signing_key(_key("d", 5))
    with pytest.raises(ValueError, match="keep"):
        storage.add_signing_key(_key("e", 6), keep=0)
    assert storage.signing_keys() == [_key("d", 4)]


# -- life cycle ----------------------------------------------------------------------------------
def test_ping_and_close(settings: Settings) -> None:
    opened = open_storage(settings)
    assert opened.ping()
    opened.close()
    opened.close()  # idempotent
    assert not opened.ping()
    with pytest.raises(StorageUnavailable, match="closed"):
        opened.list_cameras()


def test_data_survives_reopening(settings: Settings) -> None:
    first = open_storage(settings)
    gate = first.add_camera(NewCamera(alias="Gate", source="a"))
    first.close()
    second = open_storage(settings)
    try:
        assert second.list_cameras() == [gate]
    finally:
        second.close()
