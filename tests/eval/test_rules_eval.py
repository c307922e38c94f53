"""The issue-12 evaluation set (tests/eval/rules_cases.py), scored like the yardstick: bracketed and
decorated marks, 工作秘密/商业秘密 marks, disclosure attributes, declassification notes, 知悉范围 as a
mention, evasion, pasted secrets and identifiers as people write them, each with public look-alikes,
in txt, docx, html and pdf files. Bounds: leak 0, false alarm ≤ 0.05, recall of required findings ≥ 0.95.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "eval" / "rules_cases.py"


def _load():
    spec = importlib.util.spec_from_file_location("rules_cases", CASES)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CASES


def test_rules_cases_are_well_formed():
    cases = _load()
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)) and len(ids) >= 100
    assert {c["format"] for c in cases} == {"txt", "docx", "html", "pdf"}
    decisions = [c["expect"]["decision"] for c in cases]
    assert set(decisions) == {"pass", "review", "block"}
    assert 0.25 <= decisions.count("pass") / len(decisions) <= 0.6      # public look-alikes beside every class


@pytest.mark.parametrize("mode", ["--light", ""], ids=["light", "default"])
def test_rules_eval(shared_dir, tmp_path, mode):
    out = tmp_path / "r12"
    build = subprocess.run([sys.executable, str(shared_dir / "eval" / "build.py"), str(CASES), str(out)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    baomi = Path(sys.executable).parent / "baomi"
    proc = subprocess.run([sys.executable, str(shared_dir / "eval" / "score.py"), str(out),
                           "--cmd", f"{baomi} scan --format jsonl {mode}".rstrip(),
                           "--max-leak", "0", "--max-false-alarm", "0.05", "--min-recall", "0.95"],
                          capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
