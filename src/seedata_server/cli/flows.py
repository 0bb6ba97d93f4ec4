from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, BinaryIO

import click
import msgspec

from seedata_core.errors import FilterError
from seedata_core.filter_ast import Node
from seedata_core.service import Seedata
from seedata_core.storage import ImportResult
from seedata_core.transfer import CameraIds, ImportLineError, export_lines, read_lines

from .common import fail, open_seedata

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar


@click.group()
def flows() -> None:
    """Move flows in and out as JSON Lines; read stored flows again."""


def _lines(stream: BinaryIO, advance: Callable[[int], None]) -> Iterator[bytes]:
    for line in stream:
        advance(len(line))
        yield line


@flows.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=40_000, show_default=True)
@click.pass_context
def import_(ctx: click.Context, file: BinaryIO, batch_size: int) -> None:
    """Import flows from FILE (JSON Lines, `-` for stdin). Flows whose id exists are skipped.

    Each line is a flow in the API's single form; `image` and `plate_image` may be absent.
    A camera alias not known yet becomes a disabled camera with no source.
    """
    with open_seedata(ctx) as seedata:
        size = None if file is sys.stdin.buffer else _size(file)
        try:
            if size is not None and size > 1_000_000:
                bar: ProgressBar[int]
                # Drawn at every thousandth of the file: drawn at every line on a terminal, it took 6-16 %
                # of an import (300,000 lines: 20.1-20.5 s, now 17.2-18.8 s).
                with click.progressbar(
                    length=size, label="importing", file=sys.stderr, update_min_steps=size // 1000
                ) as bar:
                    result = _import(seedata, file, batch_size, bar.update)
            else:
                result = _import(seedata, file, batch_size, lambda _: None)
        except ImportLineError as exc:
            fail(f"{exc}; flows before that line were imported, run the import again after fixing it")
    click.echo(f"imported {result.added} flows, skipped {result.skipped} already present", err=True)


def _size(file: BinaryIO) -> int | None:
    try:
        return file.seek(0, 2) - file.seek(0)
    except OSError:
        return None


def _import(
    seedata: Seedata, file: BinaryIO, batch_size: int, advance: Callable[[int], None]
) -> ImportResult:
    records = read_lines(_lines(file, advance), seedata.zone, CameraIds(seedata.storage))
    return seedata.storage.import_flows(records, batch_size=batch_size)


def _where(seedata: Seedata, filter_json: str | None) -> Node:
    """The --filter option as a checked condition; bad JSON or a bad filter is a usage error (exit 2)."""
    try:
        raw = msgspec.json.decode(filter_json) if filter_json else None
    except msgspec.DecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--filter") from exc
    try:
        return seedata.parse_filter(raw)
    except FilterError as exc:
        raise click.BadParameter(exc.message, param_hint="--filter") from exc


@flows.command("export")
@click.option("--filter", "filter_json", help='A search filter, e.g. \'{"camera": "gate_1"}\'.')
@click.option("-o", "--output", type=click.File("wb"), default="-", help="Output file (default stdout).")
@click.pass_context
def export(ctx: click.Context, filter_json: str | None, output: BinaryIO) -> None:
    """Write flows, oldest first, as JSON Lines with their pictures."""
    with open_seedata(ctx) as seedata:
        where = _where(seedata, filter_json)
        for line in export_lines(seedata.storage, where, seedata.zone):
            output.write(line)


@flows.command("reread")
@click.option(
    "--filter", "filter_json", help="Only flows matching this search filter, e.g. '{\"plate\": null}'."
)
@click.pass_context
def reread(ctx: click.Context, filter_json: str | None) -> None:
    """Run the configured ALPR engine again on the stored pictures of flows (all, or those matching --filter).

    Each flow's plate, score, lpr_version and plate picture are replaced; its picture, time and trigger
    mode stay. Use it after an engine failure (flows stored with a null plate) or an engine upgrade.
    """
    from seedata_core.reread import reread_flows

    with open_seedata(ctx) as seedata:
        where = _where(seedata, filter_json)
        total = seedata.storage.count_flows(where)
        bar: ProgressBar[int]
        with click.progressbar(length=total, label="rereading", file=sys.stderr) as bar:
            result = reread_flows(seedata.storage, seedata.reader, where, progress=lambda _: bar.update(1))
    click.echo(
        f"read {result.read} flows again: {result.changed} changed plate, "
        f"{result.skipped} without a picture, {result.failed} failed",
        err=True,
    )
    if result.failed:
        ctx.exit(1)


@flows.command("prune")
@click.option(
    "--older-than",
    "days",
    type=click.FloatRange(min=0, min_open=True),
    required=True,
    help="Delete the flows (and their pictures) older than this many days.",
)
@click.pass_context
def prune_(ctx: click.Context, days: float) -> None:
    """Delete old flows now, in batches, as the retention_days setting does in the background."""
    from seedata_core.retention import RetentionPolicy, prune

    with open_seedata(ctx) as seedata:
        done = prune(seedata.storage, RetentionPolicy(days=days))
    click.echo(f"deleted {done.flows} flows and {done.image_bytes} bytes of pictures", err=True)
