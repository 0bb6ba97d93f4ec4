"""The Snapshot API service of ``seedata alpr serve``, with the fake engine behind it."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from seedata_core.alpr import PlateRead
from seedata_core.errors import AlprError
from seedata_core.frames import Frame
from seedata_core.imaging import encode_jpeg
from seedata_core.testing import FakeAlprEngine
from seedata_server.alpr_service import country_of, create_alpr_app, results_of

TOKEN = "t0ken"
PATH = "/v1/plate-reader/"


class ScriptedEngine(FakeAlprEngine):
    """Answers the given reads; remembers the country and the thread of each call."""

    version = "scripted 2.0"

    def __init__(self, reads: list[PlateRead] | None = None, error: Exception | None = None) -> None:
        super().__init__()
        self.reads = reads or []
        self.error = error
        self.countries: list[str | None] = []
        self.threads: list[str] = []

    def read(self, frame: Frame, *, country: str | None = None) -> list[PlateRead]:
        self.countries.append(country)
        self.threads.append(threading.current_thread().name)
        if self.error:
            raise self.error
        return self.reads


READS = [
    PlateRead(plate="BRA2E19", score=0.92, box=(10, 20, 40, 12), country="br"),
    PlateRead(plate="BRA2E18", score=0.61, box=(10, 20, 40, 12), country="br"),
    PlateRead(plate="ABC1234", score=0.55, box=(50, 30, 30, 10), country="br"),
]


@pytest.fixture(scope="module")
def jpeg() -> bytes:
    rgb = bytes((x * 2 + y) % 256 for y in range(60) for x in range(80) for _ in range(3))
    return encode_jpeg(Frame(width=80, height=60, rgb=rgb, captured_at=datetime.now(UTC)))


def client_for(engine: FakeAlprEngine, **options: Any) -> Iterator[TestClient[Any]]:
    with TestClient(create_alpr_app(engine, **options)) as client:
        yield client


@pytest.fixture
def engine() -> ScriptedEngine:
    return ScriptedEngine(READS)


@pytest.fixture
def client(engine: ScriptedEngine) -> Iterator[TestClient[Any]]:
    yield from client_for(engine, token=TOKEN, max_body_size=64 * 1024)


AUTH = {"Authorization": f"Token {TOKEN}"}


def test_a_multipart_upload_is_answered_in_the_snapshot_format(
    client: TestClient[Any], engine: ScriptedEngine, jpeg: bytes
) -> None:
    response = client.post(
        PATH,
        files={"upload": ("gate.jpg", jpeg, "image/jpeg")},
        data={"regions": ["xx", "br-sp", "us"], "camera_id": "gate"},
        headers=AUTH,
    )
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["results"] == [
        {
            "box": {"xmin": 10, "ymin": 20, "xmax": 50, "ymax": 32},
            "plate": "bra2e19",
            "region": {"code": "br", "score": 1.0},
            "score": 0.92,
            "candidates": [{"score": 0.92, "plate": "bra2e19"}, {"score": 0.61, "plate": "bra2e18"}],
        },
        {
            "box": {"xmin": 50, "ymin": 30, "xmax": 80, "ymax": 40},
            "plate": "abc1234",
            "region": {"code": "br", "score": 1.0},
            "score": 0.55,
            "candidates": [{"score": 0.55, "plate": "abc1234"}],
        },
    ]
    assert (answer["filename"], answer["camera_id"]) == ("gate.jpg", "gate")
    assert (answer["image_width"], answer["image_height"]) == (80, 60)
    assert answer["engine_version"] == "scripted 2.0"
    assert answer["processing_time"] > 0
    assert datetime.fromisoformat(answer["timestamp"]).tzinfo is not None
    assert engine.countries == ["br"]
    # The read ran in a worker thread, not on the event loop.
    assert engine.threads[0] != threading.main_thread().name
    assert engine.threads[0].startswith("AnyIO worker thread")


def test_base64_in_a_form_field_or_a_json_body(
    client: TestClient[Any], engine: ScriptedEngine, jpeg: bytes
) -> None:
    encoded = base64.b64encode(jpeg).decode()
    form = client.post(PATH, data={"upload": encoded}, headers=AUTH)
    body = client.post(PATH, json={"upload": encoded, "regions": "ar"}, headers=AUTH)
    assert form.status_code == body.status_code == 201
    assert form.json()["results"] == body.json()["results"]
    assert form.json()["camera_id"] is None
    assert engine.countries == [None, "ar"]


def test_no_plates_is_an_empty_result_list(jpeg: bytes) -> None:
    for client in client_for(ScriptedEngine([])):
        response = client.post(PATH, files={"upload": ("a.jpg", jpeg)})
        assert response.status_code == 201
        assert response.json()["results"] == []


def test_the_path_works_without_its_trailing_slash(client: TestClient[Any], jpeg: bytes) -> None:
    assert client.post(PATH.rstrip("/"), files={"upload": ("a.jpg", jpeg)}, headers=AUTH).status_code == 201


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "A token is required: send Authorization: Token <token>."),
        ({"Authorization": "Bearer t0ken"}, "A token is required: send Authorization: Token <token>."),
        ({"Authorization": "Token "}, "A token is required: send Authorization: Token <token>."),
        ({"Authorization": "Token t0ken2"}, "The token is not valid."),
    ],
)
def test_a_missing_or_wrong_token_is_refused(
    client: TestClient[Any], engine: ScriptedEngine, jpeg: bytes, headers: dict[str, str], detail: str
) -> None:
    response = client.post(PATH, files={"upload": ("a.jpg", jpeg)}, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": detail}
    assert response.headers["WWW-Authenticate"] == "Token"
    assert engine.countries == []


@pytest.mark.parametrize(
    ("request_args", "detail"),
    [
        ({"data": {"regions": "br"}}, "The upload field is required"),
        ({"files": {"upload": ("a.jpg", b"not a picture")}}, "The upload is not a picture that can be read"),
        ({"data": {"upload": "%%%"}}, "The upload field is neither a file nor base64 text."),
        (
            {"content": b"{", "headers": {"Content-Type": "application/json"}},
            "The body is not a valid upload",
        ),
        (
            {"json": {"regions": ["br"]}},
            "The body is not a valid upload: Object missing required field `upload`",
        ),
    ],
)
def test_bad_uploads_are_400(client: TestClient[Any], request_args: dict[str, Any], detail: str) -> None:
    headers = {**AUTH, **request_args.pop("headers", {})}
    response = client.post(PATH, headers=headers, **request_args)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)


def test_a_body_over_the_limit_is_413(client: TestClient[Any], engine: ScriptedEngine) -> None:
    big = b"\xff" * (64 * 1024 + 1)
    response = client.post(PATH, files={"upload": ("a.jpg", big)}, headers=AUTH)
    assert response.status_code == 413
    assert response.json() == {"detail": "The body is larger than the limit of 65536 bytes."}
    assert engine.countries == []


def test_an_engine_failure_is_500_with_its_message(jpeg: bytes) -> None:
    for client in client_for(ScriptedEngine(error=AlprError("ppocr engine failed: out of memory"))):
        response = client.post(PATH, files={"upload": ("a.jpg", jpeg)})
        assert response.status_code == 500
        assert response.json() == {"detail": "ppocr engine failed: out of memory"}


def test_an_unexpected_failure_is_500_without_details(jpeg: bytes) -> None:
    for client in client_for(ScriptedEngine(error=RuntimeError("secret internals"))):
        response = client.post(PATH, files={"upload": ("a.jpg", jpeg)})
        assert response.status_code == 500
        assert response.json() == {"detail": "An internal server error occurred."}


def test_unknown_paths_and_methods(client: TestClient[Any]) -> None:
    assert client.post("/v2/plate-reader/", headers=AUTH).status_code == 404
    response = client.get(PATH, headers=AUTH)
    assert response.status_code == 405
    assert "detail" in response.json()


def test_reads_of_one_box_are_one_results_candidates() -> None:
    results = results_of([*READS, PlateRead(plate="X1", score=0.1, box=(0, 0, 1, 1))])
    assert [(r.plate, [c.plate for c in r.candidates]) for r in results] == [
        ("bra2e19", ["bra2e19", "bra2e18"]),
        ("abc1234", ["abc1234"]),
        ("x1", ["x1"]),
    ]
    assert (results[2].region.code, results[2].region.score) == ("", 0.0)


@pytest.mark.parametrize(
    ("regions", "country"),
    [
        ([], None),
        (["br"], "br"),
        (["US-CA"], "us"),
        (["fr", " eu "], "eu"),
        (["xx", "ar"], "ar"),
        (["de"], None),
    ],
)
def test_country_of_regions(regions: list[str], country: str | None) -> None:
    assert country_of(regions) == country


def test_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="concurrency must be at least 1"):
        create_alpr_app(FakeAlprEngine(), concurrency=0)
