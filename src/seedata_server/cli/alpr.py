"""``seedata alpr``: read plates in image files and list the ALPR engines (SPEC §2)."""

from __future__ import annotations

import sys
import time
from typing import Any

import click
import msgspec

from seedata_core.alpr import AlprEngine
from seedata_core.imaging import ImageError, read_image
from seedata_core.plates import get_pack

from .common import SeedataGroup, fail, plugins_for, settings_of


class _Plate(msgspec.Struct):
    plate: str
    score: float
    box: tuple[int, int, int, int]


class _Line(msgspec.Struct):
    file: str
    plates: list[_Plate]
    ms: float


def _options(pairs: tuple[str, ...]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--option")
        options[key] = value
    return options


@click.group(cls=SeedataGroup)
def alpr() -> None:
    """Read plates with the installed ALPR engines."""


@alpr.command()
@click.argument("images", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--engine", "engine_name", help="Registered engine name (default: the alpr_engine setting).")
@click.option("--country", help="Format pack that ranks and corrects candidates: br, ar, eu, us.")
@click.option("--option", "pairs", multiple=True, metavar="KEY=VALUE", help="Engine option, e.g. threads=2.")
@click.pass_context
def read(
    ctx: click.Context,
    images: tuple[str, ...],
    engine_name: str | None,
    country: str | None,
    pairs: tuple[str, ...],
) -> None:
    """Read the plates in IMAGE files: one JSON object a line, best candidate first.

    ``ms`` is the engine's time for the picture, decoding the file excluded. A file that cannot be
    read is reported on stderr; the others are still read, and the exit code is then 1.
    """
    if country:
        get_pack(country)  # an unknown code fails before any model loads
    settings = settings_of(ctx)
    name = engine_name or settings.alpr_engine
    # The alpr_options setting belongs to the configured engine; --option adds to it or overrides it.
    options = {**(settings.alpr_options if name == settings.alpr_engine else {}), **_options(pairs)}
    spec = plugins_for(settings).alpr_engine(name)
    engine: AlprEngine = spec.create(options)
    encoder = msgspec.json.Encoder()
    failed = 0
    for path in images:
        try:
            frame = read_image(path)
        except ImageError as exc:
            click.echo(f"seedata: {exc}", err=True)
            failed += 1
            continue
        start = time.perf_counter()
        reads = engine.read(frame, country=country)
        elapsed = round((time.perf_counter() - start) * 1000, 1)
        line = _Line(file=path, plates=[_Plate(r.plate, r.score, r.box) for r in reads], ms=elapsed)
        sys.stdout.buffer.write(encoder.encode(line) + b"\n")
        sys.stdout.flush()
    if failed:
        fail(f"{failed} of {len(images)} images could not be read")


@alpr.command()
@click.pass_context
def engines(ctx: click.Context) -> None:
    """List the registered engines: name, version, description (tab-separated); * marks the configured one."""
    settings = settings_of(ctx)
    for spec in plugins_for(settings).alpr_engines():
        mark = "*" if spec.name == settings.alpr_engine else " "
        click.echo(f"{mark}{spec.name}\t{spec.version}\t{spec.description}")
