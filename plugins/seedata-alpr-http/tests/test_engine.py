"""The http engine against real servers on loopback: Seedata's service, and ones that fail in every way."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import msgspec
import pytest
from seedata_alpr_http import VERSION, create
from seedata_alpr_http.engine import MAX_ANSWER_BYTES

from seedata_core.alpr import AlprEngine, PlateRead
from seedata_core.errors import AlprError
from seedata_core.frames import Frame
from seedata_core.plugins import Plugins, make_plugin_manager
from seedata_core.testing import FakeAlprEngine
from seedata_server.alpr_service import create_alpr_app

from .conftest import Answering, make_frame, serving

TOKEN = "s3cret-token"


class RecordingEngine(FakeAlprEngine):
    """The fake engine, remembering the country each read was asked for."""

    def __init__(self, plates: list[str]) -> None:
        super().__init__(plates)
        self.countries: list[str | None] = []
        self.lock = threading.Lock()

    def read(self, frame: Frame, *, country: str | None = None) -> list[PlateRead]:
        with self.lock:
            self.countries.append(country)
        return super().read(frame, country=country)


class BrokenEngine(FakeAlprEngine):
    def read(self, frame: Frame, *, country: str | None = None) -> list[PlateRead]:
        raise AlprError("the model file is gone")


@pytest.fixture(scope="module")
def fake() -> RecordingEngine:
    return RecordingEngine(["ABC1234", "BRA2E19"])


@pytest.fixture(scope="module")
def service_url(fake: RecordingEngine) -> Iterator[str]:
    with serving(create_alpr_app(fake, token=TOKEN, concurrency=2)) as url:
        yield url


def http_engine(url: str, **options: object) -> AlprEngine:
    return create({"url": url, "token": TOKEN, **options})


def test_reads_what_the_remote_engine_reads(service_url: str, fake: RecordingEngine) -> None:
    frame = make_frame()
    engine = http_engine(service_url)
    assert engine.read(frame, country="br") == fake.read(frame, country="br")
    assert fake.countries[-1] == "br"


def test_without_a_country_no_region_is_sent(service_url: str, fake: RecordingEngine) -> None:
    reads = http_engine(service_url).read(make_frame())
    assert [r.plate for r in reads] == ["ABC1234", "BRA2E19"]
    assert all(r.country is None for r in reads)
    assert fake.countries[-1] is None


def test_the_regions_option_replaces_the_country(service_url: str, fake: RecordingEngine) -> None:
    http_engine(service_url, regions="xx, us-ca").read(make_frame(), country="br")
    assert fake.countries[-1] == "us"


def test_version_names_the_remote_engine_once_it_answered(service_url: str) -> None:
    engine = http_engine(service_url + "/v1/plate-reader/")
    assert engine.version == f"{VERSION} ({service_url}/v1/plate-reader/)"
    engine.read(make_frame())
    assert engine.version == f"fake 1.0 via {service_url}/v1/plate-reader/"


def test_no_plates_is_an_empty_list() -> None:
    with serving(create_alpr_app(FakeAlprEngine([]))) as url:
        assert create({"url": url}).read(make_frame()) == []


def test_reads_from_several_threads_at_once(service_url: str) -> None:
    engine = http_engine(service_url)
    frames = [make_frame(64 + 8 * i, 48) for i in range(8)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(engine.read, frames))
    for frame, reads in zip(frames, results, strict=True):
        assert [r.box for r in reads] == [(0, 0, frame.width, frame.height)] * 2


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("wrong", "answered 401 Unauthorized: The token is not valid."),
        (None, "answered 401 Unauthorized: A token is required"),
    ],
)
def test_a_refused_token_is_an_alpr_error(service_url: str, token: str | None, message: str) -> None:
    engine = create({"url": service_url, "token": token} if token else {"url": service_url})
    with pytest.raises(AlprError, match=message) as caught:
        engine.read(make_frame())
    assert TOKEN not in str(caught.value)


def test_an_engine_failure_on_the_service_is_an_alpr_error() -> None:
    refused = pytest.raises(AlprError, match="answered 500 Internal Server Error: the model file is gone")
    with serving(create_alpr_app(BrokenEngine())) as url, refused:
        create({"url": url}).read(make_frame())


def test_connection_refused(refused_url: str) -> None:
    with pytest.raises(AlprError, match=f"cannot reach the ALPR service at {refused_url}/v1/plate-reader/"):
        create({"url": refused_url}).read(make_frame())


def test_a_service_that_never_answers_times_out(silent_url: str) -> None:
    engine = create({"url": silent_url, "timeout": "0.3"})
    start = time.monotonic()
    with pytest.raises(AlprError, match=r"did not answer within 0\.3 s"):
        engine.read(make_frame())
    assert time.monotonic() - start < 3


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (500, b"<html>oops</html>", "answered 500 Internal Server Error$"),
        (503, b'{"detail": "Try later."}', "answered 503 Service Unavailable: Try later."),
        (413, b'{"detail": "Too big."}', "answered 413 Request Entity Too Large: Too big."),
        (400, b'{"regions": ["Unknown eu."]}', r'answered 400 Bad Request: \{"regions":\["Unknown eu."\]\}$'),
        (302, b"", "answered 302 Found"),
        (200, b"<html>a login page</html>", "answered something that is not JSON"),
        (201, b'{"results": "none"}', "answered JSON of the wrong shape: Expected `array`"),
        (201, b'{"results": [{"plate": "abc1234", "score": 0.9}]}', "missing required field `box`"),
        (201, b'{"error": "no results key"}', "missing required field `results`"),
        (
            201,
            b'{"results": [{"plate": "a", "score": 1.7, '
            b'"box": {"xmin": 0, "ymin": 0, "xmax": 9, "ymax": 9}}]}',
            "Expected `float` <= 1",
        ),
        (
            201,
            b'{"results": [{"plate": "a", "score": 1, '
            b'"box": {"xmin": 500, "ymin": 0, "xmax": 600, "ymax": 9}}]}',
            "lies outside the 96x64 picture",
        ),
    ],
)
def test_error_answers_are_alpr_errors(answering: Answering, status: int, body: bytes, message: str) -> None:
    with (
        answering(status, body, headers={"Location": "/elsewhere"}) as url,
        pytest.raises(AlprError, match=message),
    ):
        create({"url": url}).read(make_frame())


def test_an_endless_answer_is_cut_off(answering: Answering) -> None:
    body = b'{"results": [], "padding": "' + b"x" * MAX_ANSWER_BYTES + b'"}'
    with answering(201, body) as url, pytest.raises(AlprError, match="an answer of more than"):
        create({"url": url}).read(make_frame())


def test_reads_a_plate_recognizer_answer(answering: Answering) -> None:
    answer = {
        "processing_time": 88.2,
        "results": [
            {
                "box": {"xmin": 10, "ymin": 20, "xmax": 70, "ymax": 40},
                "plate": "nzj6581",
                "region": {"code": "br", "score": 0.93},
                "score": 0.91,
                "candidates": [{"score": 0.91, "plate": "nzj6581"}, {"score": 0.74, "plate": "nzj6s81"}],
                "dscore": 0.88,
                "vehicle": {
                    "score": 0.8,
                    "type": "Sedan",
                    "box": {"xmin": 0, "ymin": 0, "xmax": 96, "ymax": 64},
                },
            }
        ],
        "filename": "0001_frame.jpg",
        "version": 1,
        "camera_id": None,
        "timestamp": "2026-11-25T12:00:00.000000Z",
    }
    with answering(201, msgspec.json.encode(answer)) as url:
        engine = create({"url": url})
        reads = engine.read(make_frame(), country="br")
    assert reads == [
        PlateRead(plate="NZJ6581", score=0.91, box=(10, 20, 60, 20), country="br"),
        PlateRead(plate="NZJ6S81", score=0.74, box=(10, 20, 60, 20), country="br"),
    ]
    assert engine.version == f"{VERSION} ({url}/v1/plate-reader/)"


def test_the_engine_is_found_through_its_entry_point() -> None:
    spec = Plugins(make_plugin_manager()).alpr_engine("http")
    assert spec.version == VERSION
    assert spec.create is create
