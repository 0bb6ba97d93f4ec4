from __future__ import annotations

import click

from seedata_core.auth import hash_password
from seedata_core.errors import NotFound
from seedata_core.storage import Storage

from .common import open_seedata, read_password


@click.group()
def users() -> None:
    """Manage the users who may call the API."""


@users.command("add")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.pass_context
def add(ctx: click.Context, email: str, password_stdin: bool) -> None:
    """Add a user (the password is asked for, or read with --password-stdin)."""
    password = read_password(password_stdin)
    with open_seedata(ctx) as seedata:
        user = seedata.storage.add_user(email.strip(), hash_password(password))
    click.echo(f"added user {user.email} (id {user.id})")


@users.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """List users: id, email, enabled or disabled."""
    with open_seedata(ctx) as seedata:
        for user in seedata.storage.list_users():
            click.echo(f"{user.id}\t{user.email}\t{'enabled' if user.enabled else 'disabled'}")


def _user_id(storage: Storage, email: str) -> int:
    user = storage.get_user_by_email(email)
    if user is None:
        raise NotFound(f"no user with email {email}")
    return user.id


@users.command("disable")
@click.argument("email")
@click.pass_context
def disable(ctx: click.Context, email: str) -> None:
    """Disable a user: their tokens stop working at once."""
    with open_seedata(ctx) as seedata:
        seedata.storage.update_user(_user_id(seedata.storage, email), enabled=False)
    click.echo(f"disabled {email}")


@users.command("enable")
@click.argument("email")
@click.pass_context
def enable(ctx: click.Context, email: str) -> None:
    """Enable a disabled user again."""
    with open_seedata(ctx) as seedata:
        seedata.storage.update_user(_user_id(seedata.storage, email), enabled=True)
    click.echo(f"enabled {email}")


@users.command("passwd")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.pass_context
def passwd(ctx: click.Context, email: str, password_stdin: bool) -> None:
    """Set a user's password."""
    password = read_password(password_stdin)
    with open_seedata(ctx) as seedata:
        seedata.storage.update_user(_user_id(seedata.storage, email), password_hash=hash_password(password))
    click.echo(f"password changed for {email}")
