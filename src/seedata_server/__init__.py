"""Seedata's HTTP server: a thin Litestar layer over :mod:`seedata_core`."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("seedata")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

from .app import SeedataPlugin, create_app

__all__ = ["SeedataPlugin", "__version__", "create_app"]
