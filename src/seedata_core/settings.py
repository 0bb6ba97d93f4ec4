"""Settings, from lowest to highest precedence: defaults, a TOML file, ``SEEDATA_*`` variables, flags.

Unknown keys are an error wherever they appear, so a typo never silently becomes a default.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from .errors import ConfigError

ENV_PREFIX = "SEEDATA_"
CONFIG_ENV = "SEEDATA_CONFIG"


class Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Everything an operator can set. Durations in seconds unless the name says otherwise."""

    data_dir: str = "./seedata-data"
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8881
    timezone: str | None = None
    token_lifetime: int = 8 * 3600
    alpr_engine: str = "ppocr"
    alpr_options: dict[str, Any] = msgspec.field(default_factory=dict)
    plugins_blocked: list[str] = msgspec.field(default_factory=list)
    max_body_size: int = 1024 * 1024
    login_attempts_per_address: int = 20
    login_attempts_per_account: int = 5
    login_window: int = 300
    statement_timeout_ms: int = 5000
    log_level: str = "info"
    # Reads scored below min_score count as no read (manual and auto alike).
    # source_options: per frame-source kind, e.g. {"ffmpeg": {"transport": "udp"}}.
    source_options: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)
    auto_fps: float = 5.0
    min_score: float = 0.5
    auto_window: float = 3.0
    snapshot_timeout: float = 3.0
    camera_sync_interval: float = 2.0
    # How long a process's claim on a camera lasts unrenewed: when it dies, another process takes its
    # cameras over within camera_lease_ttl + camera_sync_interval seconds.
    camera_lease_ttl: float = 15.0
    # Retention (None: keep forever): flows older than retention_days are deleted with their pictures,
    # and the oldest flows too while the pictures take more than retention_max_gb (GiB).
    retention_days: float | None = None
    retention_max_gb: float | None = None

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigError(f"port must be 1..65535, got {self.port}")
        for name in (
            "token_lifetime",
            "max_body_size",
            "login_window",
            "statement_timeout_ms",
            "auto_fps",
            "auto_window",
            "snapshot_timeout",
            "camera_sync_interval",
            "camera_lease_ttl",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if self.camera_lease_ttl <= self.camera_sync_interval:
            raise ConfigError(
                f"camera_lease_ttl ({self.camera_lease_ttl}) must exceed camera_sync_interval "
                f"({self.camera_sync_interval}), which renews the leases"
            )
        for name in ("retention_days", "retention_max_gb"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(f"{name} must be positive, got {value}")
        if not 0 <= self.min_score <= 1:
            raise ConfigError(f"min_score must be 0..1, got {self.min_score}")
        if self.timezone is not None:
            from .timezones import DisplayZone

            DisplayZone(self.timezone)  # raises ConfigError for an unknown zone

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser()

    @property
    def resolved_database_url(self) -> str:
        """``database_url``, or SQLite inside the data directory when unset."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_path / 'seedata.db').resolve()}"


FIELDS = frozenset(Settings.__struct_fields__)


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX) or key == CONFIG_ENV:
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name not in FIELDS:
            raise ConfigError(f"unknown setting {key} in the environment")
        values[name] = raw.split(",") if name == "plugins_blocked" and raw else raw
    return values


def _from_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            values = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    unknown = sorted(set(values) - FIELDS)
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r} in {path}")
    return values


def load_settings(
    *,
    config_file: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Merge defaults, the config file, the environment and ``overrides`` (flags; ``None`` values ignored)."""
    environ = os.environ if environ is None else environ
    merged: dict[str, Any] = {}
    config_file = config_file or environ.get(CONFIG_ENV)
    if config_file:
        merged.update(_from_file(Path(config_file)))
    merged.update(_from_env(environ))
    for key, value in (overrides or {}).items():
        if key not in FIELDS:
            raise ConfigError(f"unknown setting {key!r}")
        if value is not None:
            merged[key] = value
    try:
        # strict=False lets environment strings become ints where the field is an int.
        return msgspec.convert(merged, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"bad setting: {exc}") from exc
