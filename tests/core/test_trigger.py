"""The manual trigger's procedure (SPEC §1.3), driven by a fake clock, a fake camera and a fake engine.

End-to-end tests with real cameras and the real engine are in tests/server/test_trigger_api.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seedata_core.alpr import AlprEngineSpec, PlateRead
from seedata_core.errors import AlprError, CameraNotEnabled, NoCurrentImage, NotFound, ValidationFailed
from seedata_core.filter_ast import MATCH_ALL
from seedata_core.frames import Frame
from seedata_core.models import Camera, NewCamera
from seedata_core.recording import PlateReader
from seedata_core.storage import Storage
from seedata_core.testing import FakeAlprEngine
from seedata_core.trigger import TriggerRequest, TriggerResult, run_trigger

T0 = datetime(2025, 3, 30, 12, 20, 10, tzinfo=UTC)


def errors(body: object) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        TriggerRequest.from_body(body)  # type: ignore[arg-type]
    return [(e.field, e.message) for e in caught.value.errors]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, [("camera_id", "Camera Id cannot be blank.")]),
        ({"camera_id": ""}, [("camera_id", "Camera Id cannot be blank.")]),
        ({"camera_id": "abc"}, [("camera_id", "Camera Id must be an integer.")]),
        ({"camera_id": True}, [("camera_id", "Camera Id must be an integer.")]),
        ({"camera_id": 2.5}, [("camera_id", "Camera Id must be an integer.")]),
        (
            {"camera_id": 1, "capture_delay": 3001},
            [("capture_delay", "Capture Delay must be no greater than 3000.")],
        ),
        ({"camera_id": 1, "capture_delay": -1}, [("capture_delay", "Capture Delay must be no less than 0.")]),
        ({"camera_id": 1, "capture_delay": "x"}, [("capture_delay", "Capture Delay must be an integer.")]),
        ({"camera_id": 1, "max_retries": 6}, [("max_retries", "Max Retries must be no greater than 5.")]),
        ({"camera_id": 1, "max_retries": -1}, [("max_retries", "Max Retries must be no less than 0.")]),
        (
            {"camera_id": 1, "interval_between_retries": 499},
            [("interval_between_retries", "Interval Between Retries must be no less than 500.")],
        ),
        (
            {"camera_id": 1, "interval_between_retries": 1501},
            [("interval_between_retries", "Interval Between Retries must be no greater than 1500.")],
        ),
        (
            {"capture_delay": 5000, "max_retries": "many"},
            [
                ("camera_id", "Camera Id cannot be blank."),
                ("capture_delay", "Capture Delay must be no greater than 3000."),
                ("max_retries", "Max Retries must be an integer."),
            ],
        ),
    ],
)
def test_bad_requests_get_the_framework_messages(
    body: dict[str, object], expected: list[tuple[str, str]]
) -> None:
    assert errors(body) == expected


def test_defaults_and_numeric_strings() -> None:
    assert TriggerRequest.from_body({"camera_id": "7"}) == TriggerRequest(
        camera_id=7, capture_delay=None, max_retries=3, interval_between_retries=500
    )
    assert TriggerRequest.from_body(
        {"camera_id": 1, "capture_delay": "0", "max_retries": 0, "interval_between_retries": 1500.0}
    ) == TriggerRequest(camera_id=1, capture_delay=0, max_retries=0, interval_between_retries=1500)


@given(
    delay=st.integers(0, 3000),
    retries=st.integers(0, 5),
    interval=st.integers(500, 1500),
    as_text=st.booleans(),
)
def test_every_value_in_range_is_accepted(delay: int, retries: int, interval: int, as_text: bool) -> None:
    def cast(n: int) -> object:
        return str(n) if as_text else n

    body = {
        "camera_id": cast(3),
        "capture_delay": cast(delay),
        "max_retries": cast(retries),
        "interval_between_retries": cast(interval),
    }
    assert TriggerRequest.from_body(body) == TriggerRequest(
        camera_id=3, capture_delay=delay, max_retries=retries, interval_between_retries=interval
    )


class Scene:
    """A camera, a clock and the engine's answers, each picture numbered in the frame's top-left byte."""

    def __init__(self) -> None:
        self.now = T0
        self.sleeps: list[float] = []
        self.taken = 0
        self.frame_age = timedelta(milliseconds=40)
        self.available = True

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)

    def take(self, camera: Camera) -> Frame | None:
        if not self.available:
            return None
        self.taken += 1
        rgb = bytes([self.taken]) + bytes(4 * 4 * 3 - 1)
        return Frame(width=4, height=4, rgb=rgb, captured_at=self.now - self.frame_age)


class ScriptedEngine(FakeAlprEngine):
    """Reads a plate only from the picture numbered ``plate_on`` (or fails when ``fail`` is set)."""

    def __init__(self, plate_on: int | None = None, fail: bool = False) -> None:
        super().__init__(["ABC1234"])
        self.plate_on = plate_on
        self.fail = fail

    def read(self, frame: Frame, *, country: str | None = None) -> list[PlateRead]:
        self.calls += 1
        if self.fail:
            raise AlprError("engine down")
        if frame.rgb[0] == self.plate_on:
            return [PlateRead(plate="ABC-1234", score=0.93, box=(0, 0, 2, 2))]
        return []


def reader_for(engine: FakeAlprEngine) -> PlateReader:
    return PlateReader(AlprEngineSpec(name="scripted", version="scripted 1.0", create=lambda _: engine))


def trigger(
    storage: Storage,
    scene: Scene,
    request: TriggerRequest,
    reader: PlateReader,
    take_image: Callable[[Camera], Frame | None] | None = None,
) -> TriggerResult:
    """The procedure on ``scene``'s camera and clock."""
    return run_trigger(
        request,
        storage=storage,
        take_image=take_image or scene.take,
        reader=reader,
        clock=scene.clock,
        sleep=scene.sleep,
    )


@pytest.fixture
def scene() -> Scene:
    return Scene()


@pytest.fixture
def camera(seedata_storage: Storage) -> Camera:
    return seedata_storage.add_camera(
        NewCamera(alias="gate", source="rtsp://gate/1", manual_trigger_delay=700)
    )


def test_a_plate_on_the_first_picture(seedata_storage: Storage, camera: Camera, scene: Scene) -> None:
    result = trigger(
        seedata_storage,
        scene,
        TriggerRequest(camera_id=camera.id, capture_delay=1000),
        reader_for(ScriptedEngine(plate_on=1)),
    )
    assert scene.sleeps == [1.0]
    assert (result.retries, result.capture_delay, result.interval_between_retries) == (0, 1000, 500)
    assert result.flow.plate == "abc1234"
    assert result.flow.score == pytest.approx(0.93)
    assert result.flow.trigger_mode == "manual"
    assert result.flow.lpr_version == "fake 1.0"
    assert result.image_source == "rtsp"
    assert result.alpr_error is None
    assert result.request_received_at == T0
    assert result.images.image is not None
    assert result.images.plate_image is not None
    stored = seedata_storage.get_flow(result.flow.id)
    assert stored is not None
    assert stored.plate == "abc1234"
    assert seedata_storage.get_images(stored).image == result.images.image


def test_the_camera_delay_is_the_default(seedata_storage: Storage, camera: Camera, scene: Scene) -> None:
    result = trigger(
        seedata_storage, scene, TriggerRequest(camera_id=camera.id), reader_for(ScriptedEngine(plate_on=1))
    )
    assert result.capture_delay == 700
    assert scene.sleeps == [0.7]


@pytest.mark.parametrize(("plate_on", "max_retries", "retries", "plate"), [
    (3, 5, 2, "abc1234"),   # read on the third picture: two retries
    (None, 3, 3, None),     # never read: every retry made, the flow stored without a plate
    (None, 0, 0, None),
    (4, 2, 2, None),        # the plate would come too late
])  # fmt: skip
def test_retries(
    seedata_storage: Storage,
    camera: Camera,
    scene: Scene,
    plate_on: int | None,
    max_retries: int,
    retries: int,
    plate: str | None,
) -> None:
    result = trigger(
        seedata_storage,
        scene,
        TriggerRequest(
            camera_id=camera.id, capture_delay=0, max_retries=max_retries, interval_between_retries=800
        ),
        reader_for(ScriptedEngine(plate_on=plate_on)),
    )
    assert result.retries == retries
    assert result.flow.plate == plate
    assert scene.sleeps == [0.0] + [0.8] * retries
    assert scene.taken == retries + 1
    if plate is None:
        assert result.flow.score == 0
        assert result.images.plate_image is None
        assert result.images.image is not None


def test_a_stale_picture_is_no_current_image(seedata_storage: Storage, camera: Camera, scene: Scene) -> None:
    scene.frame_age = timedelta(seconds=5.5)
    with pytest.raises(NoCurrentImage, match=r"^Could not get current image from the camera$"):
        trigger(
            seedata_storage,
            scene,
            TriggerRequest(camera_id=camera.id, capture_delay=0),
            reader_for(ScriptedEngine(plate_on=1)),
        )
    assert seedata_storage.count_flows(MATCH_ALL) == 0


def test_a_picture_five_seconds_old_is_still_current(
    seedata_storage: Storage, camera: Camera, scene: Scene
) -> None:
    scene.frame_age = timedelta(seconds=5)
    result = trigger(
        seedata_storage,
        scene,
        TriggerRequest(camera_id=camera.id, capture_delay=0),
        reader_for(ScriptedEngine(plate_on=1)),
    )
    assert result.flow.plate == "abc1234"


def test_a_camera_lost_during_retries_keeps_the_last_picture(
    seedata_storage: Storage, camera: Camera, scene: Scene
) -> None:
    engine = ScriptedEngine(plate_on=None)
    original = scene.take

    def take_twice(cam: Camera) -> Frame | None:
        scene.available = scene.taken < 2
        return original(cam)

    result = trigger(
        seedata_storage,
        scene,
        TriggerRequest(camera_id=camera.id, capture_delay=0, max_retries=5),
        reader_for(engine),
        take_image=take_twice,
    )
    assert result.retries == 2
    assert engine.calls == 2
    assert result.flow.plate is None


def test_an_engine_failure_stores_the_picture_without_a_plate(
    seedata_storage: Storage, camera: Camera, scene: Scene
) -> None:
    result = trigger(
        seedata_storage,
        scene,
        TriggerRequest(camera_id=camera.id, capture_delay=0, max_retries=3),
        reader_for(ScriptedEngine(fail=True)),
    )
    assert result.alpr_error == "engine down"
    assert result.retries == 0
    assert result.flow.plate is None
    assert result.images.image is not None
    assert seedata_storage.get_flow(result.flow.id) is not None


def test_an_engine_that_cannot_be_created_is_an_engine_failure(
    seedata_storage: Storage, camera: Camera, scene: Scene
) -> None:
    def broken(_: object) -> FakeAlprEngine:
        raise RuntimeError("model file missing")

    reader = PlateReader(AlprEngineSpec(name="broken", version="broken 2.0", create=broken))
    result = trigger(seedata_storage, scene, TriggerRequest(camera_id=camera.id, capture_delay=0), reader)
    assert result.alpr_error is not None
    assert "model file missing" in result.alpr_error
    assert result.flow.lpr_version == "broken 2.0"


def test_unknown_and_disabled_cameras(seedata_storage: Storage, camera: Camera, scene: Scene) -> None:
    off = seedata_storage.add_camera(NewCamera(alias="off", source="rtsp://off/1", enabled=False))
    for camera_id, error, message in [
        (999, NotFound, "Camera not found"),
        (0, NotFound, "Camera not found"),
        (2**70, NotFound, "Camera not found"),
        (off.id, CameraNotEnabled, "Camera is not enabled"),
    ]:
        with pytest.raises(error, match=rf"^{message}$"):
            trigger(seedata_storage, scene, TriggerRequest(camera_id=camera_id), reader_for(ScriptedEngine()))
    assert scene.taken == 0
    assert scene.sleeps == []


def test_a_snapshot_camera_says_so(seedata_storage: Storage, scene: Scene) -> None:
    camera = seedata_storage.add_camera(
        NewCamera(alias="snap", source="", snapshot_url="http://cam/snap.jpg", capture_mode="manual")
    )
    result = trigger(
        seedata_storage,
        scene,
        TriggerRequest(camera_id=camera.id, capture_delay=0),
        reader_for(ScriptedEngine(plate_on=1)),
    )
    assert result.image_source == "camera_snapshot"
