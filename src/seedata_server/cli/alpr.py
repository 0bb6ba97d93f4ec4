"""``seedata alpr``: read plates in image files, list the ALPR engines (SPEC §2), serve an engine."""

from __future__ import annotations

import ipaddress
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


def _engine(ctx: click.Context, engine_name: str | None, pairs: tuple[str, ...]) -> AlprEngine:
    """The named engine (default: the configured one), created with its options."""
    settings = settings_of(ctx)
    name = engine_name or settings.alpr_engine
    # The alpr_options setting belongs to the configured engine; --option adds to it or overrides it.
    options = {**(settings.alpr_options if name == settings.alpr_engine else {}), **_options(pairs)}
    return plugins_for(settings).alpr_engine(name).create(options)


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


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
    engine = _engine(ctx, engine_name, pairs)
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


@alpr.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8882, show_default=True, help="Port.")
@click.option("--token", help="Require Authorization: Token TOKEN (shows in ps: prefer --token-file).")
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, exists=True),
    help="Read the required token from the first line of this file.",
)
@click.option("--engine", "engine_name", help="Registered engine name (default: the alpr_engine setting).")
@click.option("--option", "pairs", multiple=True, metavar="KEY=VALUE", help="Engine option, e.g. threads=2.")
@click.option(
    "--max-body-size",
    type=click.IntRange(1024),
    default=8 * 1024 * 1024,
    show_default=True,
    help="Largest request body in bytes (413 above).",
)
@click.option(
    "--concurrency", type=click.IntRange(1, 64), default=1, show_default=True, help="Reads run at once."
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    token: str | None,
    token_file: str | None,
    engine_name: str | None,
    pairs: tuple[str, ...],
    max_body_size: int,
    concurrency: int,
) -> None:
    """Serve an engine at POST /v1/plate-reader/ in the Plate Recognizer Snapshot API format.

    Other Seedata servers read through it with alpr_engine = "http" and alpr_options.url pointing
    here. The engine loads before the port opens, so a bad engine option fails at once.
    """
    import uvicorn

    from ..alpr_service import SNAPSHOT_PATH, create_alpr_app
    from .serve import configure_logging

    if token and token_file:
        raise click.UsageError("give --token or --token-file, not both")
    if token_file:
        with open(token_file, encoding="utf-8") as fh:
            token = fh.readline().strip()
        if not token:
            fail(f"the token file {token_file} is empty")
    settings = settings_of(ctx)
    configure_logging(settings.log_level)
    engine = _engine(ctx, engine_name, pairs)
    app = create_alpr_app(engine, token=token, max_body_size=max_body_size, concurrency=concurrency)
    if not token and not _loopback(host):
        click.echo(f"seedata: warning: no token: anyone who reaches {host}:{port} can read plates", err=True)
    click.echo(f"{engine.version} listening on http://{host}:{port}{SNAPSHOT_PATH}", err=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=settings.log_level,
        access_log=False,
        server_header=False,
        log_config=None,
    )
