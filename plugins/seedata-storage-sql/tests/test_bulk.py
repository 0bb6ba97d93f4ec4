"""Rows written out for the bulk paths: cut into pieces of a bounded size, and stored whole."""

from __future__ import annotations

import pytest
from seedata_storage_sql import SqlStorage, bulk
from seedata_storage_sql.schema import plate_grams
from sqlalchemy.dialects import mysql, postgresql

from seedata_core.filter_ast import MATCH_ALL
from seedata_core.models import FlowImages

from .conftest import FlowMaker
from .test_flows import assert_stored_exactly

ROWS = [(f"g{n % 7}x", 1_700_000_000 + n, n) for n in range(500)]


@pytest.mark.parametrize("limit", [1, 40, 1000, 10**9])
def test_mariadb_statements_stay_near_the_limit_and_hold_every_row(
    monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    monkeypatch.setattr(bulk, "STATEMENT_CHARS", limit)
    written = bulk.bulk_rows(mysql.dialect(), plate_grams, ROWS)
    head = "INSERT INTO plate_grams (gram, ts, flow_id) VALUES "
    values = []
    for statement in written.text:
        assert statement.startswith(head)
        body = statement.removeprefix(head)
        row_size = len("('g0x',1700000000,0)") + 3  # the longest row, with its separator
        assert len(body) < max(limit, 1) + row_size
        values += body.split("),(")
    assert len(values) == len(ROWS)
    statements = {1: len(ROWS), 10**9: 1}.get(limit)
    if statements is None:
        assert 1 < len(written.text) < len(ROWS)
    else:
        assert len(written.text) == statements


@pytest.mark.parametrize("limit", [1, 40, 10**9])
def test_copy_pieces_end_with_whole_lines(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    monkeypatch.setattr(bulk, "STATEMENT_CHARS", limit)
    written = bulk.bulk_rows(postgresql.dialect(), plate_grams, ROWS)
    assert all(piece.endswith("\n") for piece in written.text)
    lines = "".join(written.text).splitlines()
    assert lines == [f"{gram}\t{ts}\t{flow_id}" for gram, ts, flow_id in ROWS]


def test_values_of_other_kinds_are_refused() -> None:
    with pytest.raises(TypeError, match="bytes"):
        bulk.bulk_rows(mysql.dialect(), plate_grams, [(b"abc", 1, 1)])
    with pytest.raises(TypeError, match="bytes"):
        bulk.bulk_rows(postgresql.dialect(), plate_grams, [(b"abc", 1, 1)] * bulk.COPY_FROM)


def test_an_import_in_many_small_statements_stores_every_flow(
    storage: SqlStorage, camera_id: int, make_flow: FlowMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "STATEMENT_CHARS", 300)
    batch = [(make_flow(camera_id, n, id=n + 1, plate=f"abc{n}"), FlowImages()) for n in range(250)]
    assert storage.import_flows(batch).added == 250
    stored = list(storage.iter_flows(MATCH_ALL))
    assert [flow.plate for flow in stored] == [f"abc{n}" for n in range(250)]
    assert_stored_exactly(storage, stored)
