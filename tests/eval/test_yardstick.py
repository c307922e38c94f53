"""The shared yardstick (../shared/eval), run exactly as the README and CI do."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _score(shared_dir, tmp_path, extra):
    build = subprocess.run([sys.executable, str(shared_dir / "eval" / "build.py"),
                            str(shared_dir / "eval" / "dev_cases.py"), str(tmp_path / "dev")],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    baomi = Path(sys.executable).parent / "baomi"
    proc = subprocess.run([sys.executable, str(shared_dir / "eval" / "score.py"), str(tmp_path / "dev"),
                           "--cmd", f"{baomi} scan --format jsonl" + extra,
                           "--max-leak", "0", "--max-false-alarm", "0.05", "--min-recall", "0.95"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    return proc


def test_yardstick_light_mode(shared_dir, tmp_path):
    proc = _score(shared_dir, tmp_path, " --light")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]


def test_yardstick_default_mode(shared_dir, tmp_path):
    proc = _score(shared_dir, tmp_path, "")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
