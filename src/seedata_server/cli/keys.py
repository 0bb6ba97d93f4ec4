from __future__ import annotations

import click

from .common import open_seedata


@click.group()
def keys() -> None:
    """Manage the keys that sign API tokens."""


@keys.command("rotate")
@click.pass_context
def rotate(ctx: click.Context) -> None:
    """Make a new signing key; tokens signed by the previous one stay valid until they expire."""
    with open_seedata(ctx) as seedata:
        key = seedata.tokens.rotate()
    click.echo(f"new signing key {key.kid}")
