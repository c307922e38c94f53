"""pyproject.toml and requirements.lock agree: every direct pin (runtime and every extra) is in the
lock at the same version, and the runtime package holds scanner/ and service/, never training/."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(lines) -> dict[str, str]:
    out = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==(\S+)", line)
        assert m, f"not an exact pin: {line!r}"
        out[_key(m.group(1))] = m.group(3)
    return out


def test_direct_pins_are_in_the_lock():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    direct = _pins(project["dependencies"])
    for deps in project["optional-dependencies"].values():
        direct.update(_pins(deps))
    lock = _pins((ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines())
    # requirements-nodeps.lock: packages installed with --no-deps (the OCR engine, see the Makefile)
    nodeps = _pins(line.split()[0] if line.strip() and not line.startswith("#") else ""
                   for line in (ROOT / "requirements-nodeps.lock").read_text(encoding="utf-8").splitlines())
    assert not set(nodeps) & set(lock), "a package pinned in both locks"
    lock.update(nodeps)
    wrong = {k: (v, lock.get(k)) for k, v in direct.items() if lock.get(k) != v}
    assert not wrong, f"pyproject pin vs requirements.lock: {wrong}"


def test_training_is_not_in_the_runtime_package():
    from setuptools import find_packages

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    found = find_packages(str(ROOT), **cfg["packages"]["find"])
    assert "scanner" in found and "service" in found and "scanner.detectors" in found
    assert not [p for p in found if p.split(".")[0] not in ("scanner", "service")], found
