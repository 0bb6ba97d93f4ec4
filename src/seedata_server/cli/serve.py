from __future__ import annotations

import logging

import click

from seedata_core.settings import Settings

from .common import plugins_for, settings_of


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
    )
    # Migrations log every step at INFO; an operator needs them only when something goes wrong.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLogger().level))


@click.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port to listen on (default 8881).")
@click.option("--data-dir", help="Data directory (default ./seedata-data).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, data_dir: str | None) -> None:
    """Run the HTTP API and the camera workers."""
    run_server(settings_of(ctx, host=host, port=port, data_dir=data_dir))


def run_server(settings: Settings) -> None:
    """Serve the HTTP API with the camera workers until interrupted (SIGINT or SIGTERM)."""
    import uvicorn

    from ..app import create_app

    configure_logging(settings.log_level)
    app = create_app(settings, plugins_for(settings), watch_cameras=True)
    click.echo(f"Seedata listening on http://{settings.host}:{settings.port}", err=True)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        server_header=False,
        log_config=None,
    )
