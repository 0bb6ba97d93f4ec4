"""Schema migrations: the revisions build what the code expects, and an old database is upgraded."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from seedata_storage_sql import SqlStorage, migrate, open_storage
from seedata_storage_sql.engine import create_sql_engine
from seedata_storage_sql.images import ImageStore
from seedata_storage_sql.schema import metadata
from seedata_storage_sql.storage import DEEP_OFFSET
from sqlalchemy import inspect, text

from seedata_core.errors import StorageUnavailable
from seedata_core.filter_ast import MATCH_ALL, Cond
from seedata_core.models import FlowImages, NewCamera, NewFlow
from seedata_core.settings import Settings

FlowMaker = Callable[..., NewFlow]
PACKAGE_MIGRATIONS = Path(migrate.__file__).parent / "migrations"

ADD_CAMERA = text(
    "INSERT INTO cameras (alias, source, capture_mode, manual_trigger_delay, enabled) "
    "VALUES (:alias, 'a', 'auto', 0, true)"
)
"""A camera as every revision's ``cameras`` table takes it (no storage code: it knows only the newest)."""

NEXT_REVISION = '''"""A revision shipped after the package's last, for the upgrade test."""

import sqlalchemy as sa
from alembic import op

revision = "0099"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.add_column(sa.Column("notes", sa.Text(), nullable=False, server_default="none"))


def downgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("notes")
'''


def test_revisions_build_exactly_the_declared_schema(empty_settings: Settings) -> None:
    engine = create_sql_engine(empty_settings)
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()


def test_opening_twice_changes_nothing(empty_settings: Settings) -> None:
    settings = empty_settings
    first = open_storage(settings)
    gate = first.add_camera(NewCamera(alias="Gate", source="a"))
    first.close()
    second = open_storage(settings)
    try:
        assert migrate.current_revision(second.engine) == migrate.head_revision() == "0008"
        assert second.list_cameras() == [gate]
        with second.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        second.close()


def test_an_old_database_is_upgraded_with_its_data(
    tmp_path: Path, empty_settings: Settings, make_flow: FlowMaker
) -> None:
    scripts = tmp_path / "migrations"
    shutil.copytree(PACKAGE_MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "0099_notes.py").write_text(NEXT_REVISION)
    settings = empty_settings
    # A data directory as the released package leaves it.
    old = open_storage(settings)
    gate = old.add_camera(NewCamera(alias="Gate", source="a"))
    flow = old.add_flow(make_flow(gate.id), FlowImages(image=b"frame"))
    old.close()

    engine = create_sql_engine(settings)
    assert migrate.current_revision(engine) == "0008"
    migrate.upgrade(engine, script_location=str(scripts))
    assert migrate.current_revision(engine) == "0099"
    assert "notes" in {column["name"] for column in inspect(engine).get_columns("cameras")}
    migrate.upgrade(engine, script_location=str(scripts))  # at head: nothing to do
    assert migrate.current_revision(engine) == "0099"
    upgraded = SqlStorage(engine, ImageStore(settings.data_path / "images"), statement_timeout_ms=1000)
    try:
        assert upgraded.list_cameras() == [gate]
        assert upgraded.get_flow(flow.id) == flow
        assert upgraded.get_images(flow) == FlowImages(image=b"frame")
        assert upgraded.count_flows(MATCH_ALL) == 1
        assert upgraded.add_camera(NewCamera(alias="Back", source="b")).id == gate.id + 1
        with engine.connect() as conn:
            assert conn.execute(text("SELECT notes FROM cameras")).scalars().all() == ["none", "none"]
    finally:
        upgraded.close()

    # The released package does not know revision 0099: it refuses rather than guess.
    with pytest.raises(StorageUnavailable, match="newer version"):
        open_storage(settings)


def test_an_empty_database_is_migrated_from_nothing(empty_settings: Settings) -> None:
    engine = create_sql_engine(empty_settings)
    try:
        assert migrate.current_revision(engine) is None
        migrate.upgrade(engine, revision="0001")
        assert migrate.current_revision(engine) == "0001"
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name, value FROM counters")).all() == [("flows", 0)]
    finally:
        engine.dispose()


def test_a_first_release_database_gets_camera_leases(empty_settings: Settings) -> None:
    engine = create_sql_engine(empty_settings)
    try:
        migrate.upgrade(engine, revision="0001")
        assert "camera_leases" not in inspect(engine).get_table_names()
        with engine.begin() as conn:
            conn.execute(ADD_CAMERA, {"alias": "Gate"})
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM camera_leases")).scalar() == 0
    finally:
        engine.dispose()


def test_stored_plates_get_their_grams(empty_settings: Settings) -> None:
    engine = create_sql_engine(empty_settings)
    plates = {1: "ab12cd", 2: "aaaa", 3: None, 4: "xy", 5: "ÄÖü9"}
    try:
        migrate.upgrade(engine, revision="0002")
        with engine.begin() as conn:
            conn.execute(ADD_CAMERA, {"alias": "Gate"})
            for flow_id, plate in plates.items():
                conn.execute(
                    text(
                        "INSERT INTO flows (id, camera_id, ts, plate, score, trigger_mode, lpr_version) "
                        "VALUES (:id, 1, :id, :plate, 0.5, 'auto', 'v')"
                    ),
                    {"id": flow_id * 40_000, "plate": plate},  # ids in two backfill batches
                )
        migrate.upgrade(engine)
        # Grams are deleted by their key since 0005 (see grams.py): 0003's foreign key and index went.
        assert inspect(engine).get_foreign_keys("plate_grams") == []
        assert inspect(engine).get_indexes("plate_grams") == []
        with engine.connect() as conn:
            found = {tuple(row) for row in conn.execute(text("SELECT flow_id, ts, gram FROM plate_grams"))}
        expected = {
            (flow_id * 40_000, flow_id * 40_000, plate[i : i + 3])
            for flow_id, plate in plates.items()
            if plate is not None
            for i in range(len(plate) - 2)
        }
        assert found == expected
    finally:
        engine.dispose()
    upgraded = open_storage(empty_settings)
    try:
        (gate,) = upgraded.list_cameras()
        assert upgraded.claim_cameras("me", [gate.id], ttl=5, now=datetime.now(UTC)) == {gate.id}
    finally:
        upgraded.close()


def test_stored_flows_get_their_hour_counts(empty_settings: Settings) -> None:
    engine = create_sql_engine(empty_settings)
    hour = 3600
    # Negative times (before 1970) and hour boundaries, where truncating division would be wrong;
    # hours far apart and many in a row, across several backfill statements.
    times = [-3 * hour - 1, -hour - 1, -hour, -hour + 1, -1, 0, 1, hour - 1, hour, 1_714_564_799]
    times += [1_714_564_800 + 97 * i for i in range(3000)]
    flows = [(i + 1, 1 + i % 3 % 2, ts) for i, ts in enumerate(times)]  # cameras 1 and 2, unevenly
    try:
        migrate.upgrade(engine, revision="0003")
        with engine.begin() as conn:
            for alias in ("Gate", "Back"):
                conn.execute(ADD_CAMERA, {"alias": alias})
            conn.execute(
                text(
                    "INSERT INTO flows (id, camera_id, ts, plate, score, trigger_mode, lpr_version) "
                    "VALUES (:id, :camera, :ts, NULL, 0.5, 'auto', 'v')"
                ),
                [{"id": i, "camera": camera, "ts": ts} for i, camera, ts in flows],
            )
            # The counters as the storage would have kept them.
            conn.execute(text("UPDATE counters SET value = :n WHERE name = 'flows'"), {"n": len(flows)})
            conn.execute(
                text("INSERT INTO counters (name, value) VALUES (:name, :n)"),
                [
                    {"name": f"flows:camera:{camera}", "n": n}
                    for camera, n in Counter(camera for _, camera, _ in flows).items()
                ],
            )
        migrate.upgrade(engine)
        with engine.connect() as conn:
            hours: dict[int, int] = dict(conn.execute(text("SELECT hour, flows FROM flow_hours")).all())
            camera_hours = {
                (camera, h): n
                for camera, h, n in conn.execute(text("SELECT camera_id, hour, flows FROM camera_flow_hours"))
            }
    finally:
        engine.dispose()
    assert hours == dict(Counter(ts // hour for _, _, ts in flows))
    assert camera_hours == dict(Counter((camera, ts // hour) for _, camera, ts in flows))
    # Floored, not truncated toward zero: -1 s and -3600 s are hour -1, and -3601 s is hour -2.
    assert {h: hours[h] for h in (-4, -2, -1, 0, 1)} == {-4: 1, -2: 1, -1: 3, 0: 3, 1: 1}
    upgraded = open_storage(empty_settings)
    try:
        newest_first = sorted(flows, key=lambda flow: (flow[2], flow[0]), reverse=True)
        for offset in (DEEP_OFFSET, len(flows) - 25):  # from either end
            page = upgraded.search_flows(MATCH_ALL, offset=offset, limit=20)
            assert [flow.id for flow in page] == [flow[0] for flow in newest_first[offset : offset + 20]]
    finally:
        upgraded.close()


def test_grams_are_keyed_by_time_and_pieces_counted_and_back(empty_settings: Settings) -> None:
    engine = create_sql_engine(empty_settings)
    try:
        migrate.upgrade(engine, revision="0005")
        with engine.begin() as conn:
            conn.execute(ADD_CAMERA, {"alias": "Gate"})
            conn.execute(
                text(
                    "INSERT INTO flows (id, camera_id, ts, plate, score, trigger_mode, lpr_version) "
                    "VALUES (7, 1, -5, 'abcd', 0.5, 'auto', 'v'), (8, 1, 1700000000, 'bcd', 0.5, 'auto', 'v')"
                )
            )
            grams = [("abc", 7), ("bcd", 7), ("bcd", 8), ("zzz", 9)]  # flow 9 is gone: its gram goes too
            for gram, flow_id in grams:
                conn.execute(text("INSERT INTO plate_grams VALUES (:g, :f)"), {"g": gram, "f": flow_id})
        migrate.upgrade(engine, revision="0007")
        assert [c["name"] for c in inspect(engine).get_columns("plate_grams")] == ["gram", "ts", "flow_id"]
        assert inspect(engine).get_pk_constraint("plate_grams")["constrained_columns"] == [
            "gram",
            "ts",
            "flow_id",
        ]
        with engine.connect() as conn:
            keyed = conn.execute(text("SELECT gram, ts, flow_id FROM plate_grams ORDER BY gram, ts")).all()
        assert [tuple(row) for row in keyed] == [("abc", -5, 7), ("bcd", -5, 7), ("bcd", 1700000000, 8)]
        with engine.connect() as conn:
            counted = dict(conn.execute(text("SELECT piece, flows FROM plate_pieces")).all())
        assert counted == {"a": 1, "b": 2, "c": 2, "d": 2, "ab": 1, "bc": 2, "cd": 2}

    finally:
        engine.dispose()
    storage = open_storage(empty_settings)
    try:
        holding_bcd = Cond("plate", "like", "bcd")
        assert [flow.id for flow in storage.search_flows(holding_bcd, offset=0, limit=5)] == [8, 7]
        assert storage.count_flows(holding_bcd) == 2
    finally:
        storage.close()

    engine = create_sql_engine(empty_settings)
    try:
        with engine.begin() as conn:
            command.downgrade(migrate.alembic_config(conn), "0005")
        assert inspect(engine).get_pk_constraint("plate_grams")["constrained_columns"] == ["gram", "flow_id"]
        assert "plate_pieces" not in inspect(engine).get_table_names()
        with engine.connect() as conn:
            back = conn.execute(text("SELECT gram, flow_id FROM plate_grams ORDER BY gram, flow_id")).all()
        assert [tuple(row) for row in back] == [("abc", 7), ("bcd", 7), ("bcd", 8)]
    finally:
        engine.dispose()


def test_pieces_are_counted_per_day_and_summed_back(empty_settings: Settings) -> None:
    engine = create_sql_engine(empty_settings)
    try:
        migrate.upgrade(engine, revision="0007")
        with engine.begin() as conn:
            conn.execute(ADD_CAMERA, {"alias": "Gate"})
            # Days -1, 0 (twice) and 19675; flow 4 has no plate.
            conn.execute(
                text(
                    "INSERT INTO flows (id, camera_id, ts, plate, score, trigger_mode, lpr_version) VALUES "
                    "(1, 1, -5, 'aba', 0.5, 'auto', 'v'), (2, 1, 0, 'ab', 0.5, 'auto', 'v'), "
                    "(3, 1, 86399, 'b', 0.5, 'auto', 'v'), (4, 1, 86400, NULL, 0.0, 'auto', 'v'), "
                    "(5, 1, 1700000000, 'ab', 0.5, 'auto', 'v')"
                )
            )
        migrate.upgrade(engine, revision="0008")
        assert "plate_pieces" not in inspect(engine).get_table_names()
        with engine.connect() as conn:
            days = conn.execute(text("SELECT piece, day, flows FROM plate_piece_days")).all()
        assert sorted(tuple(row) for row in days) == [
            ("a", -1, 1),
            ("a", 0, 1),
            ("a", 19675, 1),
            ("ab", -1, 1),
            ("ab", 0, 1),
            ("ab", 19675, 1),
            ("b", -1, 1),
            ("b", 0, 2),
            ("b", 19675, 1),
            ("ba", -1, 1),
        ]
        with engine.begin() as conn:
            command.downgrade(migrate.alembic_config(conn), "0007")
        assert "plate_piece_days" not in inspect(engine).get_table_names()
        with engine.connect() as conn:
            back = dict(conn.execute(text("SELECT piece, flows FROM plate_pieces")).all())
        assert back == {"a": 3, "ab": 3, "b": 4, "ba": 1}
    finally:
        engine.dispose()
