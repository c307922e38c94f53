#!/usr/bin/env python3
"""Add the sha256 hashes of every pinned distribution to a lock file (`make lock`), so that
`make setup` installs with `pip install --require-hashes` and a changed or substituted file on
the index fails the install instead of running.

    .venv/bin/python .ci/lock_hashes.py [requirements.lock ...]

For each `name==version` line: `pip download --no-deps` of exactly that pin through the
configured indexes (the files this machine's pip would install), hashed. Hashes already in the
file are kept (a file added for another platform stays valid) and new ones are added. Comments
and the order of the file are kept. To add a pin: write `name==version` on its own line, run
`make lock`, commit both. tests/test_packaging.py fails on a pin without a hash."""
from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

PIN = re.compile(r"^([A-Za-z0-9_.\-]+(?:\[[^\]]*\])?==[^\s\\;]+)")
HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


def parse(text: str) -> list[tuple[str, str, list[str]]]:
    """-> [(kind, text, hashes)]: ("comment", line, []) or ("pin", "name==version", [hashes])."""
    out: list[tuple[str, str, list[str]]] = []
    for raw in text.replace("\\\n", " ").splitlines():
        line = raw.strip()
        m = PIN.match(line)
        if m:
            out.append(("pin", m.group(1), HASH.findall(line)))
        elif line.startswith("--hash="):
            out[-1][2].extend(HASH.findall(line))
        else:
            out.append(("comment", raw, []))
    return out


def hashes_for(pin: str, pip: list[str]) -> list[str]:
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([*pip, "download", "--no-deps", "--quiet", "--dest", d, pin], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in Path(d).iterdir() if p.is_file())


def render(items) -> str:
    lines = []
    for kind, text, hs in items:
        if kind == "comment":
            lines.append(text)
        else:
            lines.append(text + "".join(f" \\\n    --hash=sha256:{h}" for h in hs))
    return "\n".join(lines).rstrip("\n") + "\n"


def main(paths: list[str]) -> int:
    pip = [sys.executable, "-m", "pip"]
    for path in paths or ["requirements.lock"]:
        p = Path(path)
        items = parse(p.read_text(encoding="utf-8"))
        for i, (kind, text, hs) in enumerate(items):
            if kind == "pin":
                new = [h for h in hashes_for(text.split("[")[0] if "[" in text.split("==")[0] else text, pip) if h not in hs]
                items[i] = (kind, text, hs + new)
                print(f"{text}: {len(hs)} kept, {len(new)} added", file=sys.stderr)
        p.write_text(render(items), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
