"""Rebuild the real-document set (tests/realdocs/files/) from public repository snapshots.

Every file in manifest.jsonl names its repository, commit and path. The files are not committed:
this workplace keeps fetched repository content out of project commits. `make realdocs` copies each
blob out of a local git snapshot of its repository (a bare or normal clone, one directory per
repository, named `owner+name/repo` or `owner+name`) and checks its sha256 against the manifest.

    python tests/realdocs/build.py --mirrors /work/.mirror [--out tests/realdocs/files] [--split heldout10]

`--split` (repeatable) rebuilds only the files of the named splits, e.g. the untuned heldout10.

A file whose snapshot is missing is listed and skipped; a sha256 mismatch is an error.
Standard library only.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def load_manifest(path: Path = HERE / "manifest.jsonl") -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def snapshot_dir(mirrors: Path, repo: str) -> Path | None:
    base = mirrors / repo.replace("/", "+")
    for cand in (base / "repo", base):
        if (cand / "HEAD").exists() or (cand / ".git").exists():
            return cand
    return None


def blob(git_dir: Path, commit: str, path: str) -> bytes:
    return subprocess.run(["git", "-C", str(git_dir), "show", f"{commit}:{path}"],
                          capture_output=True, check=True).stdout


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirrors", default="/work/.mirror", help="directory of repository snapshots")
    ap.add_argument("--out", default=str(HERE / "files"))
    ap.add_argument("--split", action="append", help="only the files of these splits (repeatable)")
    args = ap.parse_args(argv)
    out, mirrors = Path(args.out), Path(args.mirrors)
    missing, bad, done = [], [], 0
    rows = [r for r in load_manifest() if not args.split or r.get("split") in args.split]
    for row in rows:
        src = row["source"]
        target = out / row["file"]
        if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == row["sha256"]:
            done += 1
            continue
        git_dir = snapshot_dir(mirrors, src["repo"])
        if git_dir is None:
            missing.append(src["repo"])
            continue
        try:
            data = blob(git_dir, src["commit"], src["path"])
        except subprocess.CalledProcessError:
            missing.append(f"{src['repo']}@{src['commit'][:8]}:{src['path']}")
            continue
        if hashlib.sha256(data).hexdigest() != row["sha256"]:
            bad.append(row["file"])
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        done += 1
    for m in sorted(set(missing)):
        print(f"missing snapshot: {m}", file=sys.stderr)
    for b in bad:
        print(f"sha256 mismatch: {b}", file=sys.stderr)
    print(f"{done} files in {out}; {len(set(missing))} snapshots missing; {len(bad)} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
