"""The results file of a batch run: JSON Lines, one report per line with a `batch` object (path,
size, mtime_ns: the resume key), appended and flushed per line so an interruption loses nothing
that was written. `load_done` reads the keys already there and cuts off a half-written last line."""
from __future__ import annotations

import json
import os
from pathlib import Path


def record_key(rec: dict) -> tuple[str, int, int] | None:
    b = rec.get("batch")
    if not isinstance(b, dict):
        return None
    try:
        return (b["path"], int(b["size"]), int(b["mtime_ns"]))
    except (KeyError, TypeError, ValueError):
        return None


def load_done(out_path: str | os.PathLike) -> set[tuple[str, int, int]]:
    """Keys already in the JSONL; cuts off a half-written last line (an interrupted write)."""
    done: set[tuple[str, int, int]] = set()
    p = Path(out_path)
    if not p.exists():
        return done
    good_end = 0
    with open(p, "rb") as fh:
        pos = 0
        for raw in fh:
            pos += len(raw)
            if not raw.endswith(b"\n"):
                break
            try:
                rec = json.loads(raw)
            except ValueError:
                break
            k = record_key(rec)
            if k is not None:
                done.add(k)
            good_end = pos
    if good_end != p.stat().st_size:
        with open(p, "r+b") as fh:
            fh.truncate(good_end)
    return done


def iter_records(out_path: str | os.PathLike):
    """Every whole record in the JSONL (a damaged line is skipped)."""
    with open(out_path, encoding="utf-8") as fh:
        for line in fh:
            try:
                yield json.loads(line)
            except ValueError:
                continue


class JsonlWriter:
    """Appends records (dicts from the workers, `batch` object included) one line each, flushed."""

    def __init__(self, path: str | os.PathLike, append: bool):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(path, "a" if append else "w", encoding="utf-8")

    def write(self, rec: dict) -> None:
        self.fh.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.fh.flush()

    def close(self) -> None:
        self.fh.close()
