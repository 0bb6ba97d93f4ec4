"""The engine end to end on generated pictures: plates of several countries on textured backgrounds."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from seedata_alpr_ppocr import NAME, create, engine_version
from seedata_alpr_ppocr.engine import EngineOptions, PpocrEngine

from seedata_core.alpr import AlprEngine
from seedata_core.errors import AlprError, ConfigError
from seedata_core.plugins import Plugins, make_plugin_manager

from .conftest import Render, textured_background, to_frame


@pytest.mark.parametrize(
    ("shown", "country", "plate"),
    [
        ("ABC-1234", "br", "ABC1234"),
        ("BRA2E19", "br", "BRA2E19"),
        ("RIO 2A18", "br", "RIO2A18"),
        ("AB 123 CD", "ar", "AB123CD"),
        ("RK 755-AJ", "eu", "RK755AJ"),
        ("M-AB 1234", "eu", "MAB1234"),
        ("7ABC123", "us", "7ABC123"),
        ("KL3 B8K", "us", "KL3B8K"),
    ],
)
def test_reads_rendered_plates(
    engine: PpocrEngine, render: Render, shown: str, country: str, plate: str
) -> None:
    frame = render(shown, seed=len(shown) + ord(country[0]))
    reads = engine.read(frame, country=country)
    assert reads, "no plate read"
    best = reads[0]
    assert best.plate == plate
    assert best.country == country
    assert 0.5 < best.score <= 1.0
    x, y, w, h = best.box
    assert min(x, y) >= 0
    assert x + w <= frame.width
    assert y + h <= frame.height
    assert 100 < w < 700
    assert 30 < h < 200


def test_reads_without_a_country(engine: PpocrEngine, render: Render) -> None:
    reads = engine.read(render("BRA2E19", seed=3))
    assert reads[0].plate == "BRA2E19"
    assert reads[0].country is None


def test_candidates_are_best_first_and_distinct(engine: PpocrEngine, render: Render) -> None:
    reads = engine.read(render("NZJ 6581", seed=11), country="br")
    assert reads[0].plate == "NZJ6581"
    scores = [r.score for r in reads]
    assert scores == sorted(scores, reverse=True)
    assert len({r.plate for r in reads}) == len(reads) <= engine.options.max_candidates
    assert all(re.fullmatch("[A-Z0-9]+", r.plate) for r in reads)


def test_a_picture_without_text_reads_nothing(engine: PpocrEngine) -> None:
    assert engine.read(to_frame(textured_background(800, 600, seed=5)), country="br") == []


def test_a_small_plate_in_a_wide_view_needs_the_second_pass(render: Render) -> None:
    frame = render("XYZ9A87", size=(1920, 1080), font_size=13, tilt=0.0, at=(900, 700), seed=2)
    with_second = create({"threads": 2})
    without_second = create({"threads": 2, "second_pass_zoom": 0})
    assert [r.plate for r in without_second.read(frame, country="br")[:1]] != ["XYZ9A87"]
    assert with_second.read(frame, country="br")[0].plate == "XYZ9A87"


def test_concurrent_reads_agree(engine: PpocrEngine, render: Render) -> None:
    frames = [render(text, seed=i) for i, text in enumerate(["ABC1234", "BRA2E19", "PXP8172", "OKL1235"])]
    alone = [engine.read(f, country="br") for f in frames]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda f: engine.read(f, country="br"), frames * 2))
    assert together == alone * 2


def test_registered_through_the_entry_point() -> None:
    spec = Plugins(make_plugin_manager()).alpr_engine(NAME)
    assert spec.version == engine_version()
    assert spec.version.startswith(f"{NAME} ")
    assert "PP-OCRv6" in spec.version
    assert "onnxruntime" in spec.version


def test_the_engine_meets_the_protocol(engine: PpocrEngine) -> None:
    assert isinstance(engine, AlprEngine)
    assert engine.name == NAME
    assert engine.version == engine_version()


def test_unknown_country_is_a_config_error(engine: PpocrEngine, render: Render) -> None:
    with pytest.raises(ConfigError, match="unknown plate country"):
        engine.read(render("ABC1234"), country="zz")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"thread": 2}, "unknown ppocr engine option 'thread'"),
        ({"threads": "two"}, "bad ppocr engine option"),
        ({"threads": 0}, "out of range"),
        ({"second_pass_zoom": 0.5}, "second_pass_zoom must be 0"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        EngineOptions.from_mapping(options)


def test_options_from_strings() -> None:
    options = EngineOptions.from_mapping({"threads": "3", "confident": "0.5", "execution_provider": "X"})
    assert (options.threads, options.confident, options.execution_provider) == (3, 0.5, "X")


def test_a_missing_execution_provider_is_an_alpr_error() -> None:
    with pytest.raises(AlprError, match="onnxruntime has no NoSuchExecutionProvider"):
        create({"execution_provider": "NoSuchExecutionProvider"})
