"""What every command shares: settings from the root options, opening core, and error reporting."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from seedata_core.errors import SeedataError
from seedata_core.plugins import Plugins, make_plugin_manager
from seedata_core.service import Seedata
from seedata_core.settings import Settings, load_settings


class SeedataGroup(click.Group):
    """A group whose commands turn Seedata's errors into a one-line message and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SeedataError as exc:
            raise click.ClickException(str(exc)) from exc
        except OSError as exc:
            raise click.ClickException(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")) from exc


def settings_of(ctx: click.Context, **overrides: Any) -> Settings:
    """Settings from defaults, the config file, the environment, the root options and ``overrides``."""
    root = ctx.find_root().obj or {}
    merged = {**root.get("overrides", {}), **{k: v for k, v in overrides.items() if v is not None}}
    return load_settings(config_file=root.get("config_file"), overrides=merged)


def plugins_for(settings: Settings) -> Plugins:
    return Plugins(make_plugin_manager(blocked=settings.plugins_blocked))


@contextmanager
def open_seedata(ctx: click.Context, **overrides: Any) -> Iterator[Seedata]:
    settings = settings_of(ctx, **overrides)
    with Seedata.open(settings, plugins_for(settings)) as seedata:
        yield seedata


def fail(message: str) -> None:
    """Stop with a one-line message on stderr and exit code 1."""
    raise click.ClickException(message)


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        fail("the password cannot be empty")
    if len(password) > 1024:
        fail("the password is longer than 1024 characters")
    return password
