"""``seedata db``: the database itself, apart from what it holds."""

from __future__ import annotations

import click

from seedata_core.errors import ConfigError

from .common import plugins_for, settings_of


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Migrate the database to this version's schema.

    Migrates the database named by database_url (default: SQLite in the data directory) and prints
    its schema revision before and after.

    Opening the database (`seedata serve` and every other command) migrates it too; run this to
    migrate at a time of your choosing, before starting the servers that share a database.
    """
    settings = settings_of(ctx)
    spec = plugins_for(settings).storage_for_url(settings.resolved_database_url)
    if spec.name != "sql":
        raise ConfigError(f"the {spec.name!r} storage has no schema migrations")
    # Imported here: the SQL storage is a plugin, which the rest of the command line does not need.
    from seedata_storage_sql import upgrade_database

    before, after = upgrade_database(settings)
    if before == after:
        click.echo(f"schema revision {after}: up to date")
    else:
        click.echo(f"schema revision {before or 'none (empty database)'} -> {after}")
