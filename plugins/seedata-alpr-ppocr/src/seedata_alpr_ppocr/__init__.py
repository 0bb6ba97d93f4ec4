"""Seedata's default ALPR engine, ``ppocr``: PP-OCRv6 text detection and recognition tuned for plates.

Registered through the ``seedata`` entry point group like any third-party engine. Registration is
cheap; the models load when Seedata first calls ``create``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from seedata_core import hookimpl
from seedata_core.alpr import AlprEngine, AlprEngineSpec

from .models import MODEL_NAME, package_version

try:
    __version__ = version("seedata-alpr-ppocr")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

NAME = "ppocr"


def engine_version() -> str:
    """Engine, model and runtime versions: what each flow stores as ``lpr_version``."""
    return (
        f"{NAME} {__version__} ({MODEL_NAME} from rapidocr {package_version('rapidocr')}, "
        f"onnxruntime {package_version('onnxruntime')})"
    )


def create(options: Mapping[str, Any]) -> AlprEngine:
    """Load the models and return a ready engine (slow: a second or so)."""
    # Imported here so that registering the engine does not load numpy, OpenCV and onnxruntime.
    from .engine import EngineOptions, PpocrEngine

    return PpocrEngine(EngineOptions.from_mapping(options), engine_version())


@hookimpl
def seedata_register_alpr_engines(register: Callable[[AlprEngineSpec], None]) -> None:
    register(
        AlprEngineSpec(
            name=NAME,
            version=engine_version(),
            create=create,
            description="Offline plate reader: PP-OCRv6 detection and recognition with country format packs.",
        )
    )


__all__ = ["NAME", "create", "engine_version", "seedata_register_alpr_engines"]
