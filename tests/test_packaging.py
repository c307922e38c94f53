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


def test_readme_where_things_live_names_every_module():
    """README's "Where things live" names every module and package of scanner/ and service/ and every
    top-level directory of the repository (a new module without its line fails here)."""
    import subprocess

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Where things live", 1)[1].split("```", 2)[1]
    words = set(re.findall(r"[A-Za-z_][\w.]*/?", block))
    missing = []
    for pkg in ("scanner", "service"):
        for p in sorted((ROOT / pkg).iterdir()):
            if p.name.startswith(".") or p.name in ("__pycache__", "__init__.py"):
                continue
            name = p.name + "/" if p.is_dir() else p.name
            if (p.is_dir() and (p / "__init__.py").exists() or p.suffix == ".py") and name not in words:
                missing.append(f"{pkg}/{name}")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True).stdout.split("\0")
    for top in sorted({t.split("/", 1)[0] for t in tracked if "/" in t and not t.startswith(".")}):
        if top + "/" not in words:
            missing.append(top + "/")
    assert not missing, f"README 'Where things live' does not name: {missing}"
