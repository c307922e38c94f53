"""Rule and lexicon edits made from the admin pages live in the data directory, never in the
project's tracked lexicons/ (a `git pull` must not conflict with the 保密办's edits, and an
install's rules must not change under another install).

    DATA_DIR/lexicons/overrides/<file>            the current edited version of each edited file
    DATA_DIR/lexicons/history/<file>/0001.toml …  every saved version (kept; the audit log names it)
    DATA_DIR/lexicons/effective-<hash>/           the shipped lexicons with the overrides laid over
                                                  them: what the scan and gate scanners load

The effective directory is named by a hash of its content, built beside it and renamed into
place (another process finds it whole or not at all); older ones are removed."""
from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path


def root(data_dir: Path) -> Path:
    return Path(data_dir) / "lexicons"


def overrides(data_dir: Path) -> dict[str, Path]:
    base = root(data_dir) / "overrides"
    if not base.is_dir():
        return {}
    return {p.relative_to(base).as_posix(): p for p in sorted(base.rglob("*")) if p.is_file()}


def save_version(data_dir: Path, rel: str, data: bytes) -> int:
    """Keep `data` as the next version of `rel` and make it the current override -> its number."""
    hist = root(data_dir) / "history" / rel
    hist.mkdir(parents=True, exist_ok=True, mode=0o700)
    n = 1 + max([int(p.stem) for p in hist.glob("*.toml") if p.stem.isdigit()] + [0])
    fd = os.open(hist / f"{n:04d}.toml", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    cur = root(data_dir) / "overrides" / rel
    cur.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = cur.with_name(f".{cur.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, cur)
    return n


def _tree_hash(base: Path, over: dict[str, Path]) -> str:
    h = hashlib.sha256()
    files = {p.relative_to(base).as_posix(): p for p in base.rglob("*") if p.is_file()}
    files.update(over)
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + hashlib.sha256(files[rel].read_bytes()).digest())
    return h.hexdigest()[:16]


def effective_dir(data_dir: Path, base: Path) -> Path:
    """`base` itself when nothing was edited; otherwise base with the overrides laid over it."""
    over = {rel: p for rel, p in overrides(data_dir).items() if (Path(base) / rel).is_file()}
    if not over:
        return Path(base)
    r = root(data_dir)
    target = r / f"effective-{_tree_hash(Path(base), over)}"
    if not target.is_dir():
        tmp = r / f".build-{uuid.uuid4().hex}"
        shutil.copytree(base, tmp)
        for rel, p in over.items():
            shutil.copyfile(p, tmp / rel)
        try:
            os.rename(tmp, target)
        except OSError:           # another process built the same directory first
            shutil.rmtree(tmp, ignore_errors=True)
    for old in r.glob("effective-*"):
        if old != target:
            shutil.rmtree(old, ignore_errors=True)
    return target
