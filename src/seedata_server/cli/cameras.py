from __future__ import annotations

import click

from seedata_core.cameras import mask_url
from seedata_core.errors import NotFound
from seedata_core.models import CAPTURE_MODES, Camera, NewCamera
from seedata_core.service import Seedata

from .common import open_seedata


@click.group()
def cameras() -> None:
    """Manage the watched cameras."""


@cameras.command("add")
@click.argument("alias")
@click.option("--source", default="", help="RTSP/HTTP stream URL or video file path.")
@click.option(
    "--snapshot-url",
    help="HTTP URL of the camera's JPEG snapshot: manual triggers take a fresh one. Without --source, "
    "the camera is watched by polling it.",
)
@click.option("--capture-mode", type=click.Choice(CAPTURE_MODES), default="both", show_default=True)
@click.option(
    "--manual-trigger-delay",
    type=click.IntRange(0, 3000),
    default=0,
    show_default=True,
    help="Default capture delay of manual triggers, in milliseconds.",
)
@click.option("--country", help="Plate format pack for this camera (br, eu, us, ...).")
@click.option("--disabled", is_flag=True, help="Add the camera without watching it yet.")
@click.pass_context
def add(
    ctx: click.Context,
    alias: str,
    source: str,
    snapshot_url: str | None,
    capture_mode: str,
    manual_trigger_delay: int,
    country: str | None,
    disabled: bool,
) -> None:
    """Add a camera named ALIAS."""
    alias = alias.strip()
    if not alias or len(alias) > 64:
        raise click.BadParameter("must be 1..64 characters", param_hint="ALIAS")
    if not source and not snapshot_url:
        raise click.UsageError("a camera needs --source, --snapshot-url or both")
    with open_seedata(ctx) as seedata:
        camera = seedata.storage.add_camera(
            NewCamera(
                alias=alias,
                source=source,
                snapshot_url=snapshot_url,
                capture_mode=capture_mode,  # type: ignore[arg-type]  # click.Choice checked it
                manual_trigger_delay=manual_trigger_delay,
                country=country,
                enabled=not disabled,
            )
        )
    click.echo(f"added camera {camera.alias} (id {camera.id})")


@cameras.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """List cameras: id, alias, capture mode, state, source or snapshot URL (passwords masked)."""
    with open_seedata(ctx) as seedata:
        for camera in seedata.cameras():
            state = "enabled" if camera.enabled else "disabled"
            click.echo(
                f"{camera.id}\t{camera.alias}\t{camera.capture_mode}\t{state}\t"
                f"{mask_url(camera.source or camera.snapshot_url or '')}"
            )


def _camera(seedata: Seedata, alias: str) -> Camera:
    camera = seedata.storage.get_camera_by_alias(alias)
    if camera is None:
        raise NotFound(f"no camera with alias {alias}")
    return camera


@cameras.command("enable")
@click.argument("alias")
@click.pass_context
def enable(ctx: click.Context, alias: str) -> None:
    """Start watching a camera."""
    with open_seedata(ctx) as seedata:
        seedata.storage.update_camera(_camera(seedata, alias).id, enabled=True)
    click.echo(f"enabled {alias}")


@cameras.command("disable")
@click.argument("alias")
@click.pass_context
def disable(ctx: click.Context, alias: str) -> None:
    """Stop watching a camera; its flows stay."""
    with open_seedata(ctx) as seedata:
        seedata.storage.update_camera(_camera(seedata, alias).id, enabled=False)
    click.echo(f"disabled {alias}")


@cameras.command("remove")
@click.argument("alias")
@click.pass_context
def remove(ctx: click.Context, alias: str) -> None:
    """Remove a camera; one that has flows is disabled instead, so its flows keep their camera."""
    with open_seedata(ctx) as seedata:
        seedata.storage.remove_camera(_camera(seedata, alias).id)
    click.echo(f"removed {alias}")
