"""Live cameras end to end: the API with its camera workers, real ffmpeg, real cameras, the real engine.

Cameras are generated videos of vehicles with readable plates (``make_sample_video``), played as a file,
served by GStreamer's RTSP server, or offered as JPEG snapshots by a stdlib HTTP server. The engine is
the default ``ppocr``.
"""

from __future__ import annotations

import base64
import http.server
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from seedata_core.auth import hash_password
from seedata_core.imaging import ffmpeg_exe
from seedata_core.models import Camera, NewCamera
from seedata_core.plugins import Plugins, make_plugin_manager
from seedata_core.samplevideo import make_sample_video, sample_timeline
from seedata_core.service import Seedata
from seedata_core.settings import Settings
from seedata_core.testing import RtspServer
from seedata_server import create_app

EMAIL = "gate@example.com"
PASSWORD = "open sesame, please"
PLATES = ("BRA2E19", "QWE4R56", "ABC1234")
SECONDS_PER_VEHICLE = 3.0
TRIGGER_FIELDS = [
    "id", "camera", "plate", "score", "timestamp", "trigger_mode", "lpr_version", "image", "plate_image",
    "image_source", "request_received_at", "retries", "capture_delay", "interval_between_retries",
]  # fmt: skip

Client = TestClient  # type: ignore[type-arg]


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three vehicles pass, one every 3 s; the video loops."""
    path = tmp_path_factory.mktemp("videos") / "traffic.mp4"
    return make_sample_video(path, plates=PLATES, seconds_per_vehicle=SECONDS_PER_VEHICLE)


@pytest.fixture(scope="module")
def plate_jpeg(traffic: Path, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A JPEG of the first vehicle with its plate in the middle of the picture."""
    middle = sample_timeline(PLATES, SECONDS_PER_VEHICLE)[0].middle
    out = tmp_path_factory.mktemp("snap") / "snap.jpg"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-ss",
            f"{middle}",
            "-i",
            str(traffic),
            "-frames:v",
            "1",
            "-y",
            str(out),
        ],
        check=True,
    )
    return out.read_bytes()


class SnapshotCamera:
    """A stdlib HTTP server answering GET /snap.jpg with ``jpeg``, or ``status`` when it is set."""

    def __init__(self, jpeg: bytes) -> None:
        self.jpeg = jpeg
        self.status = 200
        self.requests = 0
        camera = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                camera.requests += 1
                body = camera.jpeg if camera.status == 200 else b"busy"
                self.send_response(camera.status)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/snap.jpg"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def snapshot_camera(plate_jpeg: bytes) -> Iterator[SnapshotCamera]:
    camera = SnapshotCamera(plate_jpeg)
    yield camera
    camera.close()


def free_port() -> int:
    """A port that was free a moment ago: nothing listens on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_client(settings: Settings) -> Client:
    return TestClient(create_app(settings, Plugins(make_plugin_manager()), watch_cameras=True))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=str(tmp_path / "data"), timezone="UTC", camera_sync_interval=0.2)


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    with make_client(settings) as test_client:
        yield test_client


def seedata_of(client: Client) -> Seedata:
    found: Seedata = client.app.state.seedata
    return found


def login(client: Client) -> dict[str, str]:
    seedata_of(client).storage.add_user(EMAIL, hash_password(PASSWORD))
    answer = client.post("/authenticate", json={"email": EMAIL, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['data']['token']}"}


@pytest.fixture
def auth(client: Client) -> dict[str, str]:
    return login(client)


def add_camera(client: Client, alias: str, source: str, **fields: Any) -> Camera:
    fields.setdefault("country", "br")
    return seedata_of(client).storage.add_camera(NewCamera(alias=alias, source=source, **fields))


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"{what}: not within {timeout:g} s")


def camera_row(client: Client, auth: dict[str, str], camera_id: int) -> dict[str, Any]:
    rows = client.get("/cameras", headers=auth).json()
    row: dict[str, Any] = next(row for row in rows if row["id"] == camera_id)
    return row


def wait_online(client: Client, auth: dict[str, str], camera: Camera, timeout: float = 15) -> None:
    wait_for(
        lambda: camera_row(client, auth, camera.id)["status"] == "online", timeout, f"{camera.alias} online"
    )


def trigger_until_read(client: Client, auth: dict[str, str], camera_id: int) -> dict[str, Any]:
    """Trigger (with retries) until a plate is read: a vehicle is in view about two seconds in three."""
    for _ in range(6):
        answer = client.post("/flows", json={"camera_id": camera_id, "capture_delay": 0}, headers=auth)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        if body["plate"] is not None:
            return body
    pytest.fail("no plate read in six triggers with retries")


def test_trigger_on_a_video_file_camera(client: Client, auth: dict[str, str], traffic: Path) -> None:
    camera = add_camera(client, "file-cam", str(traffic), capture_mode="manual")
    wait_online(client, auth, camera)
    body = trigger_until_read(client, auth, camera.id)
    assert list(body) == TRIGGER_FIELDS
    assert body["plate"] in {p.lower() for p in PLATES}
    assert body["camera"] == "file-cam"
    assert body["trigger_mode"] == "manual"
    assert body["image_source"] == "rtsp"
    assert body["capture_delay"] == 0
    assert body["interval_between_retries"] == 500
    assert 0 <= body["retries"] <= 3
    assert base64.b64decode(body["image"])[:3] == b"\xff\xd8\xff"
    assert base64.b64decode(body["plate_image"])[:3] == b"\xff\xd8\xff"
    stored = client.get(f"/flows/{body['id']}", headers=auth).json()
    assert {k: stored[k] for k in ("id", "plate", "image", "plate_image")} == {
        k: body[k] for k in ("id", "plate", "image", "plate_image")
    }


def test_trigger_on_an_rtsp_camera_and_its_outage(
    client: Client, auth: dict[str, str], rtsp_server: Callable[[Path], RtspServer], traffic: Path
) -> None:
    server = rtsp_server(traffic)
    camera = add_camera(client, "rtsp-cam", server.url, capture_mode="manual")
    wait_online(client, auth, camera)
    body = trigger_until_read(client, auth, camera.id)
    assert body["image_source"] == "rtsp"
    assert body["plate"] in {p.lower() for p in PLATES}

    server.stop()
    killed = time.monotonic()
    wait_for(lambda: camera_row(client, auth, camera.id)["status"] == "offline", 8, "offline after the kill")
    assert time.monotonic() - killed <= 6.5  # 5 s freshness, keep-alive kept to the second
    answer = client.post("/flows", json={"camera_id": camera.id, "capture_delay": 0}, headers=auth)
    assert answer.status_code == 422
    assert answer.json() == {
        "name": "Unprocessable entity",
        "message": "Could not get current image from the camera",
        "code": 0,
        "status": 422,
    }

    server.start()
    back = time.monotonic()
    wait_online(client, auth, camera, timeout=10)
    assert time.monotonic() - back <= 6
    assert client.post("/flows", json={"camera_id": camera.id}, headers=auth).status_code == 200


def test_trigger_on_a_snapshot_camera(
    client: Client, auth: dict[str, str], snapshot_camera: SnapshotCamera
) -> None:
    camera = add_camera(client, "snap-cam", "", snapshot_url=snapshot_camera.url, capture_mode="manual")
    wait_online(client, auth, camera)
    before = snapshot_camera.requests
    answer = client.post("/flows", json={"camera_id": camera.id, "capture_delay": 250}, headers=auth)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["image_source"] == "camera_snapshot"
    assert body["plate"] == "bra2e19"
    assert body["capture_delay"] == 250
    assert snapshot_camera.requests > before  # a fresh snapshot, not the polled one

    snapshot_camera.status = 503
    answer = client.post("/flows", json={"camera_id": camera.id, "capture_delay": 0}, headers=auth)
    assert answer.status_code == 422
    assert answer.json()["message"] == "Could not get current image from the camera"

    metrics = client.get("/metrics").text.splitlines()
    assert 'seedata_triggers_total{outcome="plate"} 1' in metrics
    assert 'seedata_triggers_total{outcome="no_current_image"} 1' in metrics
    assert "seedata_alpr_plates_total 1" in metrics
    assert 'seedata_camera_up{camera="snap-cam"} 1' in metrics
    assert any(line.startswith('seedata_camera_frame_age_seconds{camera="snap-cam"} ') for line in metrics)


def test_an_engine_failure_answers_502_with_the_image(
    tmp_path: Path, snapshot_camera: SnapshotCamera
) -> None:
    # The http engine pointed at a port where nothing listens: a real engine failure.
    settings = Settings(
        data_dir=str(tmp_path / "data"),
        timezone="UTC",
        alpr_engine="http",
        alpr_options={"url": f"http://127.0.0.1:{free_port()}", "timeout": 1},
    )
    with make_client(settings) as client:
        auth = login(client)
        camera = add_camera(client, "snap-cam", "", snapshot_url=snapshot_camera.url, capture_mode="manual")
        answer = client.post("/flows", json={"camera_id": camera.id, "capture_delay": 0}, headers=auth)
        assert answer.status_code == 502
        body = answer.json()
        assert list(body)[:4] == ["name", "message", "code", "status"]
        assert (body["name"], body["message"], body["code"], body["status"]) == (
            "Bad Gateway or Proxy Error",
            "Error to make alpr api request",
            0,
            502,
        )
        assert body["plate"] is None
        assert body["plate_image"] is None
        assert body["retries"] == 0
        assert base64.b64decode(body["image"])[:3] == b"\xff\xd8\xff"
        stored = client.get(f"/flows/{body['id']}", headers=auth).json()
        assert stored["image"] == body["image"]
        assert stored["plate"] is None


def test_trigger_errors(client: Client, auth: dict[str, str], traffic: Path) -> None:
    off = add_camera(client, "off", str(traffic), enabled=False)
    cases = [
        ({"camera_id": 999}, 404, "Camera not found"),
        ({"camera_id": off.id}, 405, "Camera is not enabled"),
    ]
    for body, status, message in cases:
        answer = client.post("/flows", json=body, headers=auth)
        assert answer.status_code == status
        assert answer.json() == {
            "name": answer.json()["name"],
            "message": message,
            "code": 0,
            "status": status,
        }
    answer = client.post("/flows", json={"capture_delay": 9000}, headers=auth)
    assert answer.status_code == 422
    assert answer.json() == [
        {"field": "camera_id", "message": "Camera Id cannot be blank."},
        {"field": "capture_delay", "message": "Capture Delay must be no greater than 3000."},
    ]
    assert client.post("/flows", json={"camera_id": 1}).status_code == 401
    assert (
        client.post("/flows", content=b"{", headers={**auth, "Content-Type": "application/json"}).status_code
        == 400
    )


def test_two_triggers_on_one_camera_at_once(client: Client, auth: dict[str, str], traffic: Path) -> None:
    camera = add_camera(client, "busy", str(traffic), capture_mode="manual")
    wait_online(client, auth, camera)
    body = {"camera_id": camera.id, "capture_delay": 500, "max_retries": 0}
    started = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: client.post("/flows", json=body, headers=auth), range(2)))
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json()["id"] != answers[1].json()["id"]
    # Both waited their capture delay at the same time, not one after the other.
    assert time.monotonic() - started < 0.5 * 2 + 1.5


def test_auto_mode_makes_one_flow_per_passing_vehicle(
    client: Client, auth: dict[str, str], traffic: Path
) -> None:
    add_camera(client, "auto-cam", str(traffic), capture_mode="auto")
    wanted = len(PLATES) + 1

    def auto_flows() -> list[dict[str, Any]]:
        found = client.post(
            "/flows/search", json={"filter": {"trigger_mode": "auto"}, "per-page": 50}, headers=auth
        ).json()
        return found if len(found) >= wanted else []

    flows = wait_for(auto_flows, 3 * SECONDS_PER_VEHICLE * len(PLATES) + 10, f"{wanted} auto flows")
    plates = [flow["plate"] for flow in reversed(flows)]  # oldest first
    cycle = [p.lower() for p in PLATES]
    # The video loops: every vehicle exactly once per pass, in order, none merged, none doubled.
    start = cycle.index(plates[0])
    assert plates == [cycle[(start + i) % len(cycle)] for i in range(len(plates))]
    assert all(flow["score"] >= 0.5 for flow in flows)
    detail = client.get(f"/flows/{flows[0]['id']}", headers=auth).json()
    assert base64.b64decode(detail["plate_image"])[:3] == b"\xff\xd8\xff"


def test_cameras_follow_changes_without_a_restart(
    client: Client, auth: dict[str, str], traffic: Path
) -> None:
    seedata = seedata_of(client)
    workers = seedata.workers
    assert workers is not None
    camera = add_camera(client, "hot", str(traffic), capture_mode="manual")
    wait_for(lambda: workers.worker(camera.id), 5, "a worker for the added camera")
    wait_online(client, auth, camera)

    seedata.storage.update_camera(camera.id, manual_trigger_delay=100)
    first = workers.worker(camera.id)
    wait_for(lambda: workers.worker(camera.id) not in (None, first), 5, "the changed camera restarted")
    assert workers.worker(camera.id).camera.manual_trigger_delay == 100  # type: ignore[union-attr]

    seedata.storage.update_camera(camera.id, enabled=False)
    wait_for(lambda: workers.worker(camera.id) is None, 5, "the disabled camera's worker stopped")
    assert camera_row(client, auth, camera.id)["status"] == "disabled"

    seedata.storage.update_camera(camera.id, enabled=True)
    wait_for(lambda: workers.worker(camera.id), 5, "the enabled camera watched again")
    seedata.storage.remove_camera(camera.id)
    wait_for(lambda: workers.worker(camera.id) is None, 5, "the removed camera's worker stopped")
