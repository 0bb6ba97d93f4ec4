"""GET /flows, GET /flows/{id}, POST /flows/search and GET /cameras through HTTP (SPEC §1.3-1.4)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import TestClient
from seedata_storage_sql.testing import ALL_DATABASES

from seedata_core.models import FlowImages, NewCamera, NewFlow
from seedata_core.service import Seedata

Client = TestClient  # type: ignore[type-arg]
DATABASES = ALL_DATABASES  # every test runs on SQLite, PostgreSQL and MariaDB
JPEG = b"\xff\xd8\xff\xe0fake-jpeg-bytes\xff\xd9"
T0 = datetime(2025, 2, 9, 1, 52, 46, tzinfo=UTC)  # 2025-02-08 22:52:46 in Sao Paulo


@pytest.fixture
def flows(seedata: Seedata) -> list[int]:
    """45 flows over two cameras, one a minute, every fifth without a plate; ids 1..45."""
    gate = seedata.storage.add_camera(NewCamera(alias="camera_1", source="rtsp://admin:pw@10.1.1.1/live"))
    dock = seedata.storage.add_camera(NewCamera(alias="Dock", source="/videos/dock.mp4", capture_mode="auto"))
    records = []
    for i in range(1, 46):
        no_plate = i % 5 == 0
        records.append(
            (
                NewFlow(
                    id=i,
                    camera_id=gate.id if i % 2 else dock.id,
                    plate=None if no_plate else f"aaa{i % 10}a{i:02d}",
                    score=0.0 if no_plate else round(0.9 + i / 1000, 6),
                    timestamp=T0 + timedelta(minutes=i),
                    trigger_mode="manual" if i % 3 else "auto",
                    lpr_version="1.8.0",
                ),
                FlowImages(image=JPEG, plate_image=None if no_plate else JPEG[:10]),
            )
        )
    assert seedata.storage.import_flows(records).added == 45
    return list(range(45, 0, -1))


def ids(response: object) -> list[int]:
    return [item["id"] for item in response.json()]  # type: ignore[attr-defined]


def test_list_form_and_headers(client: Client, auth: dict[str, str], flows: list[int]) -> None:
    response = client.get("/flows", headers=auth)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    assert ids(response) == flows[:20]
    first = response.json()[0]
    assert first == {
        "id": 45,
        "camera": "camera_1",
        "plate": None,
        "score": 0,
        "timestamp": "2025-02-08 23:37:46",
        "trigger_mode": "auto",
        "lpr_version": "1.8.0",
    }
    assert response.json()[1]["score"] == 0.944
    assert response.json()[1]["plate"] == "aaa4a44"
    assert b'"score":0,' in response.content  # 0 as the original shows it, compact JSON
    assert response.headers["x-pagination-current-page"] == "1"
    assert response.headers["x-pagination-page-count"] == "3"
    assert response.headers["x-pagination-per-page"] == "20"
    assert response.headers["x-pagination-total-count"] == "45"
    assert response.headers["link"] == (
        "<http://testserver.local/flows?page=1>; rel=self, "
        "<http://testserver.local/flows?page=1>; rel=first, "
        "<http://testserver.local/flows?page=3>; rel=last, <http://testserver.local/flows?page=2>; rel=next"
    )


@pytest.mark.parametrize(
    ("query", "page", "expected"),
    [
        ("?page=2", "2", slice(20, 40)),
        ("?page=3", "3", slice(40, 45)),
        ("?page=4", "3", slice(40, 45)),
        ("?page=" + "9" * 40, "3", slice(40, 45)),
        ("?page=0", "1", slice(0, 20)),
        ("?page=-2", "1", slice(0, 20)),
        ("?page=abc", "1", slice(0, 20)),
        ("?page=2&per-page=7", "2", slice(7, 14)),
        ("?per-page=500", "1", slice(0, 45)),
    ],
)
def test_pages(
    client: Client, auth: dict[str, str], flows: list[int], query: str, page: str, expected: slice
) -> None:
    response = client.get(f"/flows{query}", headers=auth)
    assert response.status_code == 200
    assert ids(response) == flows[expected]
    assert response.headers["x-pagination-current-page"] == page


def test_order_is_timestamp_then_id(
    client: Client, auth: dict[str, str], seedata: Seedata, flows: list[int]
) -> None:
    camera = seedata.storage.list_cameras()[0]
    same_time = T0 + timedelta(minutes=100)
    for flow_id in (100, 101):
        seedata.storage.add_flow(
            NewFlow(
                id=flow_id,
                camera_id=camera.id,
                plate="zzz",
                score=0.5,
                timestamp=same_time,
                trigger_mode="manual",
                lpr_version="x",
            ),
            FlowImages(),
        )
    seedata.storage.add_flow(
        NewFlow(
            camera_id=camera.id,
            plate="old",
            score=0.5,
            timestamp=T0 - timedelta(days=1),
            trigger_mode="manual",
            lpr_version="x",
        ),
        FlowImages(),
    )
    listed = ids(client.get("/flows?per-page=50", headers=auth))
    assert listed[:3] == [101, 100, 45]
    assert listed[-1] > 101  # newest id, oldest time: last


def test_single_form(client: Client, auth: dict[str, str], flows: list[int]) -> None:
    response = client.get("/flows/44", headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == [
        "id",
        "camera",
        "plate",
        "score",
        "timestamp",
        "trigger_mode",
        "lpr_version",
        "image",
        "plate_image",
    ]
    assert base64.b64decode(body["image"]) == JPEG
    assert base64.b64decode(body["plate_image"]) == JPEG[:10]
    assert client.get("/flows/45", headers=auth).json()["plate_image"] is None


def test_empty(client: Client, auth: dict[str, str]) -> None:
    response = client.get("/flows?page=3", headers=auth)
    assert response.json() == []
    assert response.headers["x-pagination-total-count"] == "0"
    assert response.headers["x-pagination-page-count"] == "0"
    assert response.headers["x-pagination-current-page"] == "1"
    assert response.headers["link"] == "<http://testserver.local/flows?page=1>; rel=self"


def test_seed_javascript_get_with_a_json_false_body(
    client: Client, auth: dict[str, str], flows: list[int]
) -> None:
    response = client.request("GET", "/flows", content=b"false", headers=auth)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"filter": {"timestamp": {">=": "2025-02-08 23:30:00"}, "camera": {"like": "camera_1"}}},
            [45, 43, 41, 39],
        ),
        ({"filter": {"plate": {"like": "AAA4"}, "camera": {"like": "amera_"}}}, []),
        ({"filter": {"plate": {"like": "AAA4"}, "camera": {"like": "OCK"}}}, [44, 34, 24, 14, 4]),
        ({"filter": {"trigger_mode": "auto"}, "per-page": 3}, [45, 42, 39]),
        ({"filter": {"id": {"in": [1, 2]}}, "page": 2}, [2, 1]),
        ({"filter": {"id": {"in": [1, 2]}, "id2": 1}}, None),
        ({"filter": {"camera": "dock", "id": {"<": 10}}}, [8, 6, 4, 2]),
        ({"filter": {"plate": {"!=": "aaa4a44"}, "id": {">=": 43}}}, [43]),
        ({"filter": {"id": {"nin": list(range(3, 46))}}}, [2, 1]),
        ({"filter": {"id": {"in": []}}}, []),
        ({"filter": {}}, list(range(45, 25, -1))),
        ({}, list(range(45, 25, -1))),
        ({"filter": {"or": [{"id": 1}, {"id": 2}]}}, [2, 1]),
        ({"filter": {"plate": {"similar": "AAA3A03"}}}, [43, 33, 23, 13, 3]),
        ({"filter": {"plate": {"similar": "AAA3AO3"}, "id": {"<": 10}}}, [3]),
        ({"filter": {"score": {">": 0.94}}}, [44, 43, 42, 41]),
    ],
)
def test_search(
    client: Client,
    auth: dict[str, str],
    flows: list[int],
    body: dict[str, object],
    expected: list[int] | None,
) -> None:
    response = client.post("/flows/search", json=body, headers=auth)
    if expected is None:
        assert response.status_code == 422
        return
    assert response.status_code == 200, response.text
    assert ids(response) == expected


def test_search_page_past_the_end_and_links(client: Client, auth: dict[str, str], flows: list[int]) -> None:
    response = client.post("/flows/search", json={"filter": {"camera": "dock"}, "page": 99}, headers=auth)
    assert response.headers["x-pagination-total-count"] == "22"
    assert response.headers["x-pagination-current-page"] == "2"
    assert ids(response) == [4, 2]
    assert "<http://testserver.local/flows/search?page=1>; rel=prev" in response.headers["link"]


@pytest.mark.parametrize(
    ("filter_", "message"),
    [
        ({"foo": 1}, 'Unknown filter attribute "foo"'),
        ("plate", "The format of Filter is invalid."),
        ({"id": {"in": 5}}, 'Operator "in" requires multiple operands.'),
        ({"id": {"like": 5}}, '"id" does not support operator "like".'),
        ({"id": {"foo": 5}}, 'Condition for "id" should be either a value or valid operator specification.'),
        ({"id": "abc"}, "Id must be an integer."),
        ({"timestamp": {">": "yesterday"}}, "The format of Timestamp is invalid."),
        ({"id": {"in": list(range(10_000))}}, 'Operator "in" accepts at most 1000 operands.'),
    ],
)
def test_filter_errors(client: Client, auth: dict[str, str], filter_: object, message: str) -> None:
    response = client.post("/flows/search", json={"filter": filter_}, headers=auth)
    assert response.status_code == 422
    assert response.json() == [{"field": "filter", "message": message}]


def test_huge_ids_are_answered(client: Client, auth: dict[str, str], flows: list[int]) -> None:
    for value in (10**30, -(10**30), "9" * 5000):
        response = client.post("/flows/search", json={"filter": {"id": {"<": value}}}, headers=auth)
        assert response.status_code == 200


def test_cameras(client: Client, auth: dict[str, str], flows: list[int]) -> None:
    response = client.get("/cameras", headers=auth)
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": 1,
            "alias": "camera_1",
            "rtsp": "rtsp://admin:***@10.1.1.1/live",
            "keep_alive": None,
            "capture_mode": "both",
            "enabled": True,
            "status": "offline",
            "manual_trigger_delay": 0,
            "snapshot_url": None,
        },
        {
            "id": 2,
            "alias": "Dock",
            "rtsp": "/videos/dock.mp4",
            "keep_alive": None,
            "capture_mode": "auto",
            "enabled": True,
            "status": "offline",
            "manual_trigger_delay": 0,
            "snapshot_url": None,
        },
    ]
