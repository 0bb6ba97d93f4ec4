"""``seedata demo``: a throw-away installation with one user and one camera playing the sample video."""

from __future__ import annotations

import json
import os
import secrets
import shlex
from pathlib import Path

import click
import msgspec

from seedata_core.auth import hash_password
from seedata_core.models import Camera, NewCamera
from seedata_core.samplevideo import DEFAULT_PLATES, bundled_sample_video
from seedata_core.service import Seedata
from seedata_core.settings import Settings
from seedata_core.storage import Storage

from .common import fail, plugins_for, settings_of
from .serve import run_server

DEFAULT_DATA_DIR = "./seedata-demo"
DEFAULT_EMAIL = "demo@example.com"
CAMERA_ALIAS = "demo"
PASSWORD_FILE = "demo-password"
"""Inside the data directory: the demo user's password, readable by its owner only."""


def _demo_camera(source: str) -> NewCamera:
    return NewCamera(alias=CAMERA_ALIAS, source=source, capture_mode="both", country="br", enabled=True)


def _password(data_dir: Path, given: str | None) -> str:
    """``given`` or the stored password (made at random when there is none), stored for the next run."""
    path = data_dir / PASSWORD_FILE
    if given is None:
        try:
            stored = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            stored = ""
        if stored:
            return stored
    password = given or secrets.token_urlsafe(12)
    # Created 0600 from the start (not chmod-ed after), so the password is never readable by others.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(password + "\n")
    return password


def _ensure_user(storage: Storage, email: str, password: str) -> None:
    """The demo user exists, is enabled and has ``password``: the printed credentials always work."""
    user = storage.get_user_by_email(email)
    if user is None:
        storage.add_user(email, hash_password(password))
    else:
        storage.update_user(user.id, enabled=True, password_hash=hash_password(password))


def _ensure_camera(storage: Storage, source: str) -> Camera:
    """The demo camera, added or put back to the demo's settings (the video may have moved on reinstall)."""
    wanted = _demo_camera(source)
    camera = storage.get_camera_by_alias(CAMERA_ALIAS)
    if camera is None:
        return storage.add_camera(wanted)
    changes = {
        field: getattr(wanted, field)
        for field in ("source", "capture_mode", "country", "enabled")
        if getattr(camera, field) != getattr(wanted, field)
    }
    return storage.update_camera(camera.id, **changes) if changes else camera


def _client_base(host: str, port: int) -> str:
    """The URL a client on this machine uses: a wildcard address is reached through loopback."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _banner(base: str, data_dir: Path, email: str, password: str, camera: Camera) -> str:
    login = json.dumps({"email": email, "password": password})
    auth = '-H "Authorization: Bearer $TOKEN"'
    trigger = json.dumps({"camera_id": camera.id})
    return "\n".join(
        [
            "Seedata demo",
            f"  API:       {base}  (Swagger UI: {base}/schema/swagger)",
            f"  email:     {email}",
            f"  password:  {password}",
            f"  camera:    {camera.alias} (id {camera.id}), the sample video in a loop: "
            f"plates {' and '.join(DEFAULT_PLATES)}",
            f"  data:      {data_dir}  (delete it to start over)",
            "",
            "From another terminal: log in, list the flows (new ones every few seconds), trigger one "
            "(its answer holds the pictures, base64):",
            "",
            f"TOKEN=$(curl -s -X POST {base}/authenticate -H 'Content-Type: application/json' "
            f"-d {shlex.quote(login)} "
            '| python3 -c \'import json,sys; print(json.load(sys.stdin)["data"]["token"])\')',
            f"curl -s {base}/flows {auth}",
            f"curl -s -X POST {base}/flows {auth} -H 'Content-Type: application/json' "
            f"-d {shlex.quote(trigger)}",
            "",
        ]
    )


@click.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port to listen on (default 8881).")
@click.option(
    "--data-dir",
    help=f"Data directory of the demo (default {DEFAULT_DATA_DIR}; never the configured one, so the "
    "demo never mixes with real data). Its database is always SQLite inside it.",
)
@click.option("--email", default=DEFAULT_EMAIL, show_default=True, help="Email of the demo user.")
@click.option(
    "--password",
    help=f"Password of the demo user (default: made at random on the first run and kept in "
    f"DATA_DIR/{PASSWORD_FILE}, readable by you only). Given, it replaces the kept one.",
)
@click.pass_context
def demo(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    data_dir: str | None,
    email: str,
    password: str | None,
) -> None:
    """Set up a demo installation, print its credentials and ready curl lines, and serve it.

    The demo has a user and a camera named "demo" that plays the bundled sample video in a loop, so
    automatic flows appear within seconds. Running it again reuses the data directory, the user and
    the camera: the password is kept in the data directory and set again on every run, so the
    printed lines work each time and stay the same. For real use: `seedata users add`, `seedata
    cameras add` and `seedata serve`.
    """
    if password is not None and not 1 <= len(password) <= 1024:
        raise click.BadParameter("must have 1 to 1024 characters", param_hint="--password")
    root_data_dir = (ctx.find_root().obj or {}).get("overrides", {}).get("data_dir")
    chosen = Path(data_dir or root_data_dir or DEFAULT_DATA_DIR).expanduser().resolve()
    # settings_of skips None overrides, so database_url is cleared here: a configured database
    # (SEEDATA_DATABASE_URL, the config file) must never receive the demo.
    settings: Settings = msgspec.structs.replace(
        settings_of(ctx, host=host, port=port, data_dir=str(chosen)), database_url=None
    )
    video = bundled_sample_video()
    if not video.is_file():
        fail(f"the bundled sample video is missing: {video} (reinstall seedata)")
    chosen.mkdir(parents=True, exist_ok=True)
    email = email.strip()
    secret = _password(chosen, password)
    with Seedata.open(settings, plugins_for(settings)) as seedata:
        _ensure_user(seedata.storage, email, secret)
        camera = _ensure_camera(seedata.storage, str(video))
    click.echo(_banner(_client_base(settings.host, settings.port), chosen, email, secret, camera))
    run_server(settings)
