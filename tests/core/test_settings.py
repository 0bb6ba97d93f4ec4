from __future__ import annotations

from pathlib import Path

import pytest

from seedata_core.errors import ConfigError
from seedata_core.settings import Settings, load_settings


def test_defaults() -> None:
    settings = load_settings(environ={})
    assert settings == Settings()
    assert (settings.host, settings.port, settings.data_dir) == ("127.0.0.1", 8881, "./seedata-data")
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert settings.resolved_database_url.endswith("seedata-data/seedata.db")


def test_precedence_file_then_env_then_flags(tmp_path: Path) -> None:
    config = tmp_path / "seedata.toml"
    config.write_text('port = 9000\nhost = "0.0.0.0"\ntimezone = "UTC"\nplugins_blocked = ["x"]\n')
    settings = load_settings(
        config_file=config,
        environ={"SEEDATA_PORT": "9001", "SEEDATA_TOKEN_LIFETIME": "60"},
        overrides={"port": 9002, "host": None},
    )
    assert (settings.port, settings.host, settings.token_lifetime) == (9002, "0.0.0.0", 60)
    assert settings.plugins_blocked == ["x"]


def test_config_file_from_environment(tmp_path: Path) -> None:
    config = tmp_path / "s.toml"
    config.write_text("port = 9100\n")
    assert load_settings(environ={"SEEDATA_CONFIG": str(config)}).port == 9100


def test_env_list() -> None:
    assert load_settings(environ={"SEEDATA_PLUGINS_BLOCKED": "a,b"}).plugins_blocked == ["a", "b"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"environ": {"SEEDATA_PROT": "1"}}, "unknown setting SEEDATA_PROT"),
        ({"environ": {"SEEDATA_PORT": "eighty"}}, "bad setting"),
        ({"environ": {"SEEDATA_PORT": "0"}}, "port must be"),
        ({"environ": {"SEEDATA_TIMEZONE": "Mars/Base"}}, "unknown time zone"),
        ({"environ": {}, "overrides": {"nope": 1}}, "unknown setting 'nope'"),
    ],
)
def test_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(**kwargs)  # type: ignore[arg-type]


def test_unknown_key_in_file(tmp_path: Path) -> None:
    config = tmp_path / "s.toml"
    config.write_text("prot = 1\n")
    with pytest.raises(ConfigError, match="unknown setting 'prot'"):
        load_settings(config_file=config, environ={})


def test_bad_toml(tmp_path: Path) -> None:
    config = tmp_path / "s.toml"
    config.write_text("port = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config_file=config, environ={})


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(config_file=tmp_path / "absent.toml", environ={})
