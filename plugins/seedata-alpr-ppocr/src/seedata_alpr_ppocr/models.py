"""The PP-OCRv6 models inside the rapidocr wheel, loaded into onnxruntime sessions.

Only the model files are used, found without importing rapidocr (whose import pulls in its whole
pipeline). Nothing is downloaded: a missing file is an :class:`~seedata_core.errors.AlprError`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from seedata_core.errors import AlprError

DETECTION_MODEL = "PP-OCRv6_det_small.onnx"
RECOGNITION_MODEL = "PP-OCRv6_rec_small.onnx"
MODEL_NAME = "PP-OCRv6 small"


def models_dir() -> Path:
    """The ``models`` folder of the installed rapidocr package."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise AlprError("the rapidocr package, which ships the PP-OCRv6 models, is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "missing"


@dataclass(frozen=True)
class Sessions:
    """Loaded models: ``detector`` maps a picture to a text probability map, ``recogniser`` a text
    line to per-column character probabilities over ``alphabet`` (index 0 is the CTC blank)."""

    detector: Any
    recogniser: Any
    alphabet: tuple[str, ...]


def load_sessions(*, threads: int, providers: Sequence[str]) -> Sessions:
    """onnxruntime sessions for both models with ``threads`` intra-op threads each.

    Both sessions share the same threads setting because a read runs them one after the other.
    """
    import onnxruntime as ort

    available = set(ort.get_available_providers())
    missing = [p for p in providers if p not in available]
    if missing:
        raise AlprError(
            f"onnxruntime has no {', '.join(missing)} here (available: {', '.join(sorted(available))})"
        )
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle onnxruntime threads spin by default. The server shares its cores with stream decoding and
    # the API: without spinning a read took 25-40 % less CPU and stayed at ~100 ms median when the
    # cores were busy (~190 ms with spinning), at a cost of up to ~15 ms on an idle machine.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    folder = models_dir()
    sessions = []
    for name in (DETECTION_MODEL, RECOGNITION_MODEL):
        path = folder / name
        if not path.is_file():
            raise AlprError(f"model file {path} is missing; reinstall rapidocr")
        try:
            sessions.append(ort.InferenceSession(str(path), options, providers=list(providers)))
        except Exception as exc:  # onnxruntime raises its own unrelated exception types
            raise AlprError(f"cannot load {path}: {exc}") from exc
    detector, recogniser = sessions
    characters = recogniser.get_modelmeta().custom_metadata_map.get("character")
    if not characters:
        raise AlprError(f"{RECOGNITION_MODEL} carries no character list")
    # PaddleOCR's CTC head: blank first, then the dictionary, then a space.
    alphabet = ("", *characters.split("\n"), " ")
    return Sessions(detector=detector, recogniser=recogniser, alphabet=alphabet)
