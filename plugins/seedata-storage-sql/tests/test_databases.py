"""What must not differ between SQLite, PostgreSQL and MariaDB: drivers, text, numbers, ids, times,
and several storages (as several server processes) writing to one database at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from seedata_storage_sql import SqlStorage, open_storage
from seedata_storage_sql.engine import database_url
from seedata_storage_sql.schema import counters, flows
from sqlalchemy import func, select

from seedata_core.errors import ConfigError, StorageUnavailable
from seedata_core.filter_ast import MATCH_ALL, Cond
from seedata_core.models import FlowImages, NewCamera, NewFlow
from seedata_core.settings import Settings

FlowMaker = Callable[..., NewFlow]


@pytest.mark.parametrize(
    ("raw", "driver"),
    [
        ("sqlite:////var/lib/seedata/seedata.db", "sqlite+pysqlite"),
        ("postgresql://seedata@db/seedata", "postgresql+psycopg"),
        ("postgres://seedata@db/seedata", "postgresql+psycopg"),
        ("postgresql+psycopg://seedata@db/seedata", "postgresql+psycopg"),
        ("mysql://seedata@db/seedata", "mysql+pymysql"),
        ("mariadb://seedata@db/seedata", "mariadb+pymysql"),
        ("mariadb+pymysql://seedata@db/seedata", "mariadb+pymysql"),
    ],
)
def test_each_database_gets_its_driver(raw: str, driver: str) -> None:
    url = database_url(raw)
    assert url.drivername == driver
    if driver.startswith(("mysql", "mariadb")):
        assert url.query["charset"] == "utf8mb4"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("postgresql+psycopg2://db/x", "unsupported driver 'postgresql\\+psycopg2'"),
        ("mysql+mysqldb://db/x", "unsupported driver"),
        ("oracle://db/x", "unsupported database 'oracle'"),
        ("not a url", "not a database URL"),
    ],
)
def test_other_drivers_and_databases_are_refused(raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        database_url(raw)


@pytest.mark.parametrize("raw", ["postgresql://postgres@127.0.0.1:1/x", "mariadb://root@127.0.0.1:1/x"])
def test_a_server_that_does_not_answer_is_unavailable(tmp_path: pytest.TempPathFactory, raw: str) -> None:
    with pytest.raises(StorageUnavailable, match="cannot open the database"):
        open_storage(Settings(data_dir=str(tmp_path), database_url=raw))


def test_text_compares_exactly(storage: SqlStorage, make_flow: FlowMaker) -> None:
    # MariaDB's default collation would make all three one alias, and "abc" equal to "abc ".
    cams = [storage.add_camera(NewCamera(alias=alias, source="s")) for alias in ("Gate", "GATE", "Gate ")]
    assert [c.alias for c in storage.list_cameras()] == ["Gate", "GATE", "Gate "]
    assert storage.get_camera_by_alias("gate") is None
    assert storage.get_camera_by_alias("GATE") == cams[1]
    for plate in ("abc", "abc ", "ábc", "Ábc"):
        storage.add_flow(make_flow(cams[0].id, plate=plate), FlowImages())
    assert storage.count_flows(Cond("plate", "=", "abc")) == 1
    assert storage.count_flows(Cond("plate", "=", "abc ")) == 1
    assert storage.count_flows(Cond("plate", "=", "ábc")) == 1  # only ASCII is folded
    assert storage.count_flows(Cond("plate", "like", "bc")) == 4
    assert storage.count_flows(Cond("plate", "like", "Áb")) == 1
    assert storage.count_flows(Cond("plate", "!=", "abc")) == 3


def test_flow_ids_are_64_bit_and_new_ids_follow_given_ones(
    storage: SqlStorage, camera_id: int, make_flow: FlowMaker
) -> None:
    big = 2**53 + 5  # beyond a double's exact integers, and far beyond 32 bits
    storage.import_flows([(make_flow(camera_id, id=big), FlowImages())])
    assert storage.get_flow(big) is not None
    assert storage.add_flow(make_flow(camera_id), FlowImages()).id == big + 1
    # An id given to add_flow moves the next ones past it too (PostgreSQL's sequence does not by itself).
    top = 2**62
    assert storage.add_flow(make_flow(camera_id, id=top), FlowImages()).id == top
    assert storage.add_flow(make_flow(camera_id), FlowImages()).id == top + 1
    # An import below the highest id leaves the next id where it was.
    storage.import_flows([(make_flow(camera_id, id=10), FlowImages())])
    assert storage.add_flow(make_flow(camera_id), FlowImages()).id == top + 2
    assert [f.id for f in storage.search_flows(Cond("id", ">", big), offset=0, limit=10)] == [
        top + 2,
        top + 1,
        top,
        big + 1,
    ]


def test_scores_keep_double_precision(storage: SqlStorage, camera_id: int, make_flow: FlowMaker) -> None:
    score = 0.1234567890123  # MariaDB's FLOAT would keep about 7 digits
    flow = storage.add_flow(make_flow(camera_id, score=score), FlowImages())
    assert storage.get_flow(flow.id) == flow
    assert flow.score == score
    assert storage.count_flows(Cond("score", "=", score)) == 1


def test_times_are_stored_as_utc_instants(storage: SqlStorage, camera_id: int, make_flow: FlowMaker) -> None:
    zone = timezone(timedelta(hours=-5))
    moment = datetime(2024, 3, 10, 1, 30, 15, tzinfo=zone)
    flow = storage.add_flow(make_flow(camera_id, timestamp=moment), FlowImages())
    stored = storage.get_flow(flow.id)
    assert stored is not None
    assert stored.timestamp == moment
    assert stored.timestamp.utcoffset() == timedelta(0)
    storage.touch_camera(camera_id, moment)
    camera = storage.get_camera(camera_id)
    assert camera is not None
    assert camera.keep_alive == moment
    user = storage.add_user("t@example.com", "hash")
    assert storage.get_user(user.id) == user  # created_at to the microsecond, in UTC


def test_several_storages_write_one_database_at_once(settings: Settings, make_flow: FlowMaker) -> None:
    """As several server processes would: inserts and imports from three storages, four threads each."""
    storages = [open_storage(settings) for _ in range(3)]
    try:
        cams = [storages[0].add_camera(NewCamera(alias=f"cam{i}", source="s")).id for i in range(3)]
        errors: list[BaseException] = []

        added: list[int] = []

        def work(worker: int) -> None:
            storage = storages[worker % 3]
            try:
                for i in range(6):
                    storage.add_flow(make_flow(cams[(worker + i) % 3], i), FlowImages())
                    # Every worker imports the same flows, so imports meet, and each lies far above
                    # the last: the ids that inserts draw after one (fewer than 100) never reach the next.
                    first = 10**12 * (1 + i)
                    result = storage.import_flows(
                        (make_flow(cams[n % 3], n, id=first + n), FlowImages()) for n in range(5)
                    )
                    added.append(result.added)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        total = 12 * 6 + 6 * 5
        assert sum(added) == 6 * 5  # each imported flow was added once, and skipped by the others
        storage = storages[0]
        assert storage.count_flows(MATCH_ALL) == total
        with storage.engine.connect() as conn:
            values = dict(conn.execute(select(counters.c.name, counters.c.value)).all())
            per_camera = dict(
                conn.execute(select(flows.c.camera_id, func.count()).group_by(flows.c.camera_id)).all()
            )
            top = conn.execute(select(func.max(flows.c.id))).scalar()
        assert values == {"flows": total, **{f"flows:camera:{c}": per_camera[c] for c in cams}}
        assert storage.add_flow(make_flow(cams[0]), FlowImages()).id == top + 1
    finally:
        for opened in storages:
            opened.close()
