"""Shared helpers for training: data paths, the stable held-out split, span mapping."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from scanner.normalize import normalize

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
SHARED = Path(os.environ.get("BAOMI_SHARED", ROOT.parent / "shared"))
DATA = SHARED / "data"


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def is_heldout(key: str, percent: int = 20) -> bool:
    """Stable split by the record id: the same records are held out on every machine and run."""
    return int(hashlib.md5(key.encode("utf-8")).hexdigest()[:8], 16) % 100 < percent


def normalized_spans(text: str, spans: list[tuple[int, int, str]]):
    """Normalise text as the scanner does and map original spans onto the normalised text."""
    norm = normalize(text)
    if norm.identity:
        return norm.text, list(spans)
    out = []
    n = len(norm.text)
    for a, b, lab in spans:
        ks = [k for k in range(n) if norm.orig_start(k) >= a and norm.orig_end(k + 1) <= b]
        if ks:
            out.append((ks[0], ks[-1] + 1, lab))
    return norm.text, out


def prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "tp": tp, "fp": fp, "fn": fn}
