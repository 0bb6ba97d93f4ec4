"""Shared fixtures: one loaded engine per session, and plates rendered on textured backgrounds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from seedata_alpr_ppocr import create
from seedata_alpr_ppocr.engine import PpocrEngine

from seedata_core.frames import Frame

Render = Callable[..., Frame]


@pytest.fixture(scope="session")
def engine() -> PpocrEngine:
    made = create({"threads": 2})
    assert isinstance(made, PpocrEngine)
    return made


def textured_background(width: int, height: int, seed: int) -> Image.Image:
    """Coloured blotches crossed by random lines: edges everywhere, as in a street scene."""
    rng = np.random.default_rng(seed)
    blotches = rng.integers(40, 200, (height // 8, width // 8, 3), dtype=np.uint8)
    picture = Image.fromarray(blotches).resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(picture)
    for _ in range(30):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        end = (x + int(rng.integers(-200, 200)), y + int(rng.integers(-200, 200)))
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        draw.line([(x, y), end], fill=colour, width=int(rng.integers(1, 5)))
    return picture


def to_frame(picture: Image.Image) -> Frame:
    rgb = picture.convert("RGB")
    return Frame(width=rgb.width, height=rgb.height, rgb=rgb.tobytes(), captured_at=datetime.now(UTC))


@pytest.fixture
def render() -> Render:
    """``render(text, ...)``: a frame with a bordered plate showing ``text`` on a textured background."""

    def make(
        text: str,
        *,
        seed: int = 0,
        size: tuple[int, int] = (960, 540),
        font_size: int = 64,
        tilt: float = 3.0,
        plate: tuple[int, int, int] = (235, 235, 235),
        ink: tuple[int, int, int] = (20, 20, 20),
        at: tuple[int, int] | None = None,
    ) -> Frame:
        width, height = size
        picture = textured_background(width, height, seed)
        font = ImageFont.load_default(size=font_size)
        left, top, right, bottom = font.getbbox(text)
        pad_x, pad_y = font_size // 2, font_size // 3
        card = Image.new("RGB", (right - left + 2 * pad_x, bottom - top + 2 * pad_y), plate)
        card_draw = ImageDraw.Draw(card)
        card_draw.rectangle(
            [2, 2, card.width - 3, card.height - 3], outline=ink, width=max(1, font_size // 16)
        )
        card_draw.text((pad_x - left, pad_y - top), text, font=font, fill=ink)
        card = card.rotate(tilt, expand=True, fillcolor=(90, 90, 90), resample=Image.Resampling.BICUBIC)
        rng = np.random.default_rng(seed)
        x, y = at or (
            int(rng.integers(40, width - card.width - 40)),
            int(rng.integers(40, height - card.height - 40)),
        )
        picture.paste(card, (x, y))
        return to_frame(picture.filter(ImageFilter.GaussianBlur(0.8)))

    return make
