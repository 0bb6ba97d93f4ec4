"""The SQL of a filter selects exactly the flows :func:`seedata_core.filters.matches` selects.

For random flows and random filter trees (built directly from the AST, over every field and operator
the parser produces, with look-alike plates, case variants, ``%``/``_``/``\\`` and missing plates),
the pages of ``search_flows`` put together, ``iter_flows`` and ``count_flows`` all agree with the
reference evaluator applied to the flows in Python.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seedata_storage_sql import open_storage

from seedata_core.filter_ast import And, Cond, Node, Not, Or
from seedata_core.filters import HAS_PLATE, NO_PLATE, FlowFacts, fold_case, matches
from seedata_core.lookalike import canonical
from seedata_core.models import FlowImages, NewCamera, NewFlow
from seedata_core.settings import Settings

T0 = datetime(2024, 5, 1, tzinfo=UTC)
ALIASES = ("Gate", "GATE", "back_door", "Yard%1", "pátio")
PLATES = ("abc1234", "ABC1234", "a8c1234", "abcl234", "abc123", "abc12345", "xbc1234", "8bc1z34", "b", "")
ODD_PLATES = ("Ó0%_\\", "%", "_")
SCORES = (0.0, 0.25, 0.5, 0.9, 1.0)
TEXT = st.text(alphabet="abcABC0128oOsS%_\\é", max_size=5)


@st.composite
def flows(draw: st.DrawFn) -> list[tuple[NewFlow, str]]:
    """Flows with distinct ids in no particular order, each with its camera's alias."""
    ids = draw(st.lists(st.integers(1, 60), unique=True, min_size=8, max_size=30))
    made = []
    for flow_id in ids:
        camera = draw(st.integers(0, len(ALIASES) - 1))
        plate = draw(st.one_of(st.none(), st.sampled_from(PLATES + ODD_PLATES), TEXT))
        flow = NewFlow(
            id=flow_id,
            camera_id=camera + 1,
            plate=plate,
            score=draw(st.sampled_from(SCORES)),
            # Few distinct seconds, so equal timestamps are ordered by id.
            timestamp=T0 + timedelta(seconds=draw(st.integers(0, 6))),
            trigger_mode=draw(st.sampled_from(("auto", "manual"))),
            lpr_version="v1",
        )
        made.append((flow, ALIASES[camera]))
    return made


def _text_value(draw: st.DrawFn) -> str:
    source = draw(st.one_of(st.sampled_from(PLATES + ODD_PLATES + ALIASES), TEXT))
    start = draw(st.integers(0, len(source)))
    end = draw(st.integers(start, len(source)))
    return fold_case(draw(st.sampled_from((source, source[start:end]))))


@st.composite
def conditions(draw: st.DrawFn) -> Node:
    field = draw(
        st.sampled_from(("id", "timestamp", "camera", "plate", "plate", "trigger_mode", "score", "other"))
    )
    if field == "other":
        empty_sets = (Cond("id", "in", ()), Cond("id", "nin", ()))
        return draw(st.sampled_from((NO_PLATE, HAS_PLATE, And(()), Or(()), *empty_sets)))
    if field == "id":
        op = draw(st.sampled_from(("=", "!=", ">", ">=", "<", "<=", "in", "nin")))
        if op in ("in", "nin"):
            return Cond("id", op, tuple(draw(st.lists(st.integers(0, 61), max_size=6))))
        return Cond("id", op, draw(st.integers(0, 61)))
    if field == "timestamp":
        op = draw(st.sampled_from(("=", "!=", ">", ">=", "<", "<=")))
        return Cond("timestamp", op, int(T0.timestamp()) + draw(st.integers(-1, 7)))
    if field == "score":
        op = draw(st.sampled_from(("=", "!=", ">", ">=", "<", "<=")))
        return Cond("score", op, draw(st.sampled_from((*SCORES, 0.3, -1.0, 2))))
    if field == "trigger_mode":
        return Cond("trigger_mode", "=", draw(st.sampled_from(("auto", "manual", "AUTO", ""))))
    if field == "camera":
        return Cond("camera", draw(st.sampled_from(("=", "!=", "like"))), _text_value(draw))
    op = draw(st.sampled_from(("=", "!=", "like", "similar")))
    if op == "similar":
        return Cond("plate", op, canonical(_one_edit_away(draw, draw(st.sampled_from(PLATES)))))
    return Cond("plate", op, _text_value(draw))


def _one_edit_away(draw: st.DrawFn, text: str) -> str:
    """``text``, or ``text`` with a character deleted, inserted or replaced somewhere."""
    at = draw(st.integers(0, len(text)))
    char = draw(st.sampled_from("a0o8x"))
    edit = draw(st.sampled_from(("none", "delete", "insert", "replace")))
    if edit == "delete":
        return text[:at] + text[at + 1 :]
    if edit == "insert":
        return text[:at] + char + text[at:]
    if edit == "replace":
        return text[:at] + char + text[at + 1 :]
    return text


FILTERS = st.recursive(
    conditions(),
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=3).map(lambda items: And(tuple(items))),
        st.lists(children, min_size=1, max_size=3).map(lambda items: Or(tuple(items))),
        children.map(Not),
    ),
    max_leaves=4,
)


@pytest.fixture(scope="module")
def template(
    db: str, tmp_path_factory: pytest.TempPathFactory, server_databases: Any
) -> tuple[Path, str | None]:
    """A data directory, and a database unless SQLite's file is in it, with the cameras every example uses."""
    data = tmp_path_factory.mktemp("filters") / "data"
    url = None if db == "sqlite" else server_databases.create(db)
    storage = open_storage(Settings(data_dir=str(data), database_url=url))
    for alias in ALIASES:
        storage.add_camera(NewCamera(alias=alias, source="s"))
    storage.close()
    return data, url


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(made=flows(), filters=st.lists(FILTERS, min_size=4, max_size=8), per_page=st.integers(2, 9))
def test_sql_selects_what_matches_selects(
    template: tuple[Path, str | None],
    empty_database: Callable[..., None],
    made: list[tuple[NewFlow, str]],
    filters: list[Node],
    per_page: int,
) -> None:
    template_dir, url = template
    if url is not None:
        empty_database(url, keep_cameras=True)
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch) / "data"
        shutil.copytree(template_dir, data)
        storage = open_storage(Settings(data_dir=str(data), database_url=url))
        try:
            storage.import_flows((flow, FlowImages()) for flow, _ in made)
            newest_first = sorted(made, key=lambda pair: (pair[0].timestamp, pair[0].id), reverse=True)
            for node in filters:
                expected = [
                    flow.id
                    for flow, alias in newest_first
                    if matches(
                        node,
                        FlowFacts(
                            id=flow.id or 0,
                            epoch=int(flow.timestamp.timestamp()),
                            camera=alias,
                            plate=flow.plate,
                            trigger_mode=flow.trigger_mode,
                            score=flow.score,
                        ),
                    )
                ]
                pages: list[int] = []
                while page := storage.search_flows(node, offset=len(pages), limit=per_page):
                    pages.extend(flow.id for flow in page)
                assert pages == expected, node
                assert storage.count_flows(node) == len(expected), node
                assert [f.id for f in storage.iter_flows(node, batch_size=per_page)] == expected[::-1], node
        finally:
            storage.close()
