"""The ``seedata`` command (SPEC §2): exit 0 on success, 2 on bad usage, 1 on failure."""

from __future__ import annotations

import click

from .alpr import alpr
from .cameras import cameras
from .common import SeedataGroup
from .db import db
from .demo import demo
from .flows import flows
from .keys import keys
from .serve import serve
from .users import users


@click.group(cls=SeedataGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    envvar="SEEDATA_CONFIG",
    help="TOML settings file (default: $SEEDATA_CONFIG).",
)
@click.option("--data-dir", help="Data directory: SQLite database, images (default ./seedata-data).")
@click.version_option(package_name="seedata")
@click.pass_context
def main(ctx: click.Context, config_file: str | None, data_dir: str | None) -> None:
    """Seedata: licence-plate-recognition camera server."""
    ctx.obj = {"config_file": config_file, "overrides": {"data_dir": data_dir}}


for command in (serve, demo, users, cameras, flows, alpr, keys, db):
    main.add_command(command)

__all__ = ["main"]
