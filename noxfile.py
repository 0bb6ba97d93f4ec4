"""Developer tasks: `nox` runs lint, typecheck and tests; `nox -s bench -- ARGS` runs a benchmark."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).parent
PLUGINS = sorted(str(p.parent) for p in (ROOT / "plugins").glob("*/pyproject.toml"))


def install_project(session: nox.Session) -> None:
    args = ["-e", ".[test]"]
    for plugin in PLUGINS:
        args += ["-e", plugin]
    session.install(*args)


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite (pass pytest arguments after --)."""
    install_project(session)
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the library, the server and the plugins."""
    install_project(session)
    session.install("mypy>=1.11")
    session.run("mypy", "src", *[f"{p}/src" for p in PLUGINS])


@nox.session
def bench(session: nox.Session) -> None:
    """Run a benchmark script: `nox -s bench -- benchmarks/api.py --flows 100000`."""
    install_project(session)
    if not session.posargs:
        session.error("name a benchmark script, e.g. nox -s bench -- benchmarks/api.py")
    session.run("python", *session.posargs)
