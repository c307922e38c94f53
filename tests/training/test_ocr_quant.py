"""The int8 recogniser the scanner loads is derived from the wheel's float model bit for bit by the
documented command (training/ocr_quant.py): rebuilt here from the wheel file and the recorded ranges,
its sha256 is the manifest's, and the HardSwish fusion keeps the function of the graph."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_build_check_rebuilds_the_shipped_file_bit_for_bit():
    r = subprocess.run([sys.executable, "-m", "training.ocr_quant", "build", "--check"], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-500:] + r.stderr[-2000:]
    assert '"same": true' in r.stdout


def test_hardswish_fusion_keeps_the_function():
    np = pytest.importorskip("numpy")
    onnx = pytest.importorskip("onnx")
    import onnxruntime as ort

    from training import ocr_quant
    src = onnx.load(str(ocr_quant.wheel_rec()))
    fused, n = ocr_quant.fuse_hardswish(onnx.load(str(ocr_quant.wheel_rec())))
    assert n == 28 and sum(1 for x in fused.graph.node if x.op_type == "HardSwish") == 28
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    x = np.random.RandomState(0).rand(1, 3, 48, 320).astype(np.float32)
    a, b = (ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
            for m in (src, fused))
    assert float(np.abs(a - b).max()) < 1e-4
