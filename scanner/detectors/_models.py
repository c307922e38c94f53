"""Model files shipped in models/: locate them and check their sha256 against models/manifest.json.

A model whose hash does not match the manifest is refused (ModelIntegrityError): a swapped or
truncated weight file must not silently change what the scanner finds. Nothing is unpickled:
model files are plain .npz arrays loaded with allow_pickle=False.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import ModelIntegrityError  # noqa: F401  (re-exported for the detectors and tests)
from ..modelfiles import manifest, models_dir, sha256_file, verified_path, verify_external  # noqa: F401  (one home: scanner/modelfiles.py)


def load_npz(name: str, directory: Path | None = None) -> dict:
    path = verified_path(name, directory)
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def short_hash(name: str, directory: Path | None = None) -> str:
    """First 8 hex digits of the manifest's sha256 for a model file (goes into model_version)."""
    return manifest(directory)["files"][name]["sha256"][:8]


def record(name: str, directory: Path, **info) -> None:
    """Training side: write the file's sha256 (and info such as metrics) into the manifest."""
    mpath = directory / "manifest.json"
    data = json.loads(mpath.read_text(encoding="utf-8")) if mpath.exists() else {}
    files = data.setdefault("files", {})
    files[name] = {"sha256": sha256_file(directory / name), **info}
    mpath.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def pack_strings(items: list[str]) -> np.ndarray:
    """A list of strings as one uint8 array (NUL-separated UTF-8), loadable without pickle."""
    return np.frombuffer("\x00".join(items).encode("utf-8"), dtype=np.uint8)


def unpack_strings(arr: np.ndarray) -> list[str]:
    if arr.size == 0:
        return []
    return arr.tobytes().decode("utf-8").split("\x00")
