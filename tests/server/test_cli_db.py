"""`seedata db upgrade`: migrates the configured database and says from which revision to which."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner, Result
from seedata_storage_sql.migrate import head_revision

from seedata_server.cli import main


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_upgrade_migrates_a_new_database_then_finds_it_current(tmp_path: Path) -> None:
    data = tmp_path / "data"
    head = head_revision()
    first = run("--data-dir", str(data), "db", "upgrade")
    assert first.exit_code == 0, first.output
    assert first.output == f"schema revision none (empty database) -> {head}\n"
    with sqlite3.connect(data / "seedata.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]
        assert conn.execute("SELECT name, value FROM counters").fetchall() == [("flows", 0)]
    again = run("--data-dir", str(data), "db", "upgrade")
    assert again.exit_code == 0, again.output
    assert again.output == f"schema revision {head}: up to date\n"


def test_upgrade_uses_database_url(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.db"
    result = run(
        "--data-dir",
        str(tmp_path / "data"),
        "db",
        "upgrade",
        env={"SEEDATA_DATABASE_URL": f"sqlite:///{elsewhere}"},
    )
    assert result.exit_code == 0, result.output
    assert elsewhere.exists()
    assert not (tmp_path / "data" / "seedata.db").exists()


def test_upgrade_fails_with_one_line_when_the_database_does_not_answer(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["--data-dir", str(tmp_path), "db", "upgrade"],
        env={"SEEDATA_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/seedata"},
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot open the database:")
    assert result.output.count("\n") == 1


def test_upgrade_refuses_an_unsupported_driver(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["--data-dir", str(tmp_path), "db", "upgrade"],
        env={"SEEDATA_DATABASE_URL": "postgresql+psycopg2://db/seedata"},
    )
    assert result.exit_code == 1
    assert "unsupported driver" in result.output


def test_help_says_what_it_does() -> None:
    result = run("db", "upgrade", "--help")
    assert result.exit_code == 0
    assert "revision before and after" in " ".join(result.output.split())
