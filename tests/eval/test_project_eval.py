"""The project's own labelled evaluation set (tests/eval/project_cases.py), scored like the yardstick.

It anticipates the held-out set: markings in every form and position, public text that talks about
secrecy, personal data and its look-alikes, secrets, coordinates, terms, hidden layers.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "eval" / "project_cases.py"


def _score(shared_dir, tmp_path, extra):
    out = tmp_path / "proj"
    build = subprocess.run([sys.executable, str(shared_dir / "eval" / "build.py"), str(CASES), str(out)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    baomi = Path(sys.executable).parent / "baomi"
    return subprocess.run([sys.executable, str(shared_dir / "eval" / "score.py"), str(out),
                           "--cmd", f"{baomi} scan --format jsonl" + extra,
                           "--max-leak", "0", "--max-false-alarm", "0.05", "--min-recall", "0.95"],
                          capture_output=True, text=True, timeout=900, cwd=ROOT)


def test_project_cases_are_well_formed():
    import importlib.util
    spec = importlib.util.spec_from_file_location("project_cases", CASES)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ids = [c["id"] for c in module.CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 120
    decisions = [c["expect"]["decision"] for c in module.CASES]
    assert set(decisions) <= {"pass", "review", "block"}
    assert 0.35 <= decisions.count("pass") / len(decisions) <= 0.65


@pytest.mark.parametrize("mode", ["--light", ""], ids=["light", "default"])
def test_project_eval(shared_dir, tmp_path, mode):
    proc = _score(shared_dir, tmp_path, f" {mode}" if mode else "")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
