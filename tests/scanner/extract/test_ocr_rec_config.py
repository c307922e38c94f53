"""The OCR recogniser is a scan setting like the others: ScanConfig.ocr_rec (float | int8), read from
BAOMI_OCR_REC by ScanConfig.from_env only, validated there with a Chinese message, and carried by
OcrOptions.rec to wherever the engine is built: this process, the sandboxed extraction child (its
command line) and the service's scanners."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.config import ScanConfig
from scanner.errors import ConfigError
from scanner.extract import child, ocr
from scanner.extract.isolated import ocr_args

ROOT = Path(__file__).resolve().parents[3]


def test_default_keywords_and_environment(monkeypatch):
    monkeypatch.delenv("BAOMI_OCR_REC", raising=False)
    assert ScanConfig().ocr_rec == "float" and ScanConfig.from_env().ocr_rec == "float"
    assert ScanConfig(ocr_rec=" INT8 ").ocr_rec == "int8"           # spelled as people type it
    monkeypatch.setenv("BAOMI_OCR_REC", "int8")
    assert ScanConfig.from_env().ocr_rec == "int8"
    assert ScanConfig.from_env(ocr_rec="float").ocr_rec == "float"  # keywords win
    monkeypatch.setenv("BAOMI_OCR_REC", "")
    assert ScanConfig.from_env().ocr_rec == "float"                 # empty: the default


def test_a_bad_value_is_a_chinese_config_error_naming_the_variable(monkeypatch):
    monkeypatch.setenv("BAOMI_OCR_REC", "fast")
    with pytest.raises(ConfigError) as exc:
        ScanConfig.from_env()
    assert (exc.value.file, exc.value.field) == ("environment", "BAOMI_OCR_REC")
    assert "OCR 识别模型只能是 float" in exc.value.problem and "int8" in exc.value.problem
    assert "'fast'" in exc.value.problem
    with pytest.raises(ConfigError) as kw:
        ScanConfig.build(ocr_rec="int4")
    assert kw.value.field == "ocr_rec" and "'int4'" in kw.value.problem


def test_the_cli_refuses_a_bad_value_before_scanning(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("通知正文", encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT), "BAOMI_OCR_REC": "fast",
           "BAOMI_FINGERPRINT_KEY_FILE": str(tmp_path / "fp.key")}
    r = subprocess.run([sys.executable, "-m", "scanner.cli", "scan", "--light", str(f)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 78, r.stderr
    assert "BAOMI_OCR_REC" in r.stderr and "OCR 识别模型只能是 float" in r.stderr and not r.stdout


def test_options_and_the_child_command_line_carry_it():
    opts = ocr.from_config(ScanConfig(ocr_rec="int8"))
    assert opts.rec == "int8" and ocr.from_config(ScanConfig()).rec == "float"
    argv = ocr_args(opts)
    assert argv[argv.index("--ocr-rec") + 1] == "int8"
    parsed = child.arguments("t").parse_args(["x.png", "--mem-mb", "1", "--cpu-s", "1", *argv])
    assert child.ocr_options(parsed).rec == "int8"
    assert child.ocr_options(child.arguments("t").parse_args(["x.png", "--mem-mb", "1", "--cpu-s", "1"])).rec == "float"


def test_the_service_scanners_take_it_from_the_environment(monkeypatch, tmp_path):
    from service.settings import Settings
    from service.state import ServiceState
    monkeypatch.setenv("BAOMI_OCR_REC", "int8")
    monkeypatch.setenv("BAOMI_OCR_THREADS", "2")
    st = ServiceState.__new__(ServiceState)          # only _ocr is exercised: it reads settings alone
    st.settings = Settings(data_dir=tmp_path)
    o = st._ocr()
    assert (o.enabled, o.rec, o.threads) == (True, "int8", 2)
    st.settings = Settings(data_dir=tmp_path, light_scanner=True)
    o = st._ocr()
    assert (o.enabled, o.reason, o.rec) == (False, "light", "int8")
    st.settings = Settings(data_dir=tmp_path, light_scanner=True, ocr=True)
    assert st._ocr().enabled
    st.settings = Settings(data_dir=tmp_path, ocr=False)
    assert (st._ocr().enabled, st._ocr().reason) == (False, "off")


SCAN = r"""
import json, sys
from scanner.config import ScanConfig
from scanner.engine import Scanner
from scanner.extract import ocr
rep = Scanner(config=ScanConfig.from_env(light=False)).scan_bytes(open(sys.argv[1], "rb").read(), "p.png",
                                                                    isolated=False)
print(json.dumps({"engines": sorted(ocr._engines), "decision": rep.decision,
                  "cats": sorted({f.category for f in rep.findings})}))
"""


@pytest.mark.slow
def test_the_int8_recogniser_reads_a_picture_when_the_environment_asks(tmp_path):
    """BAOMI_OCR_REC=int8 in a fresh process: the engine built is the int8 one, and it reads the mark."""
    from support.pictures import encode, page
    p = tmp_path / "p.png"
    p.write_bytes(encode(page(["秘密★5年", "关于开展检查工作的通知"], size=(1200, 500), top=60)))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT), "BAOMI_OCR_REC": "int8",
           "BAOMI_FINGERPRINT_KEY_FILE": str(tmp_path / "fp.key")}
    r = subprocess.run([sys.executable, "-c", SCAN, str(p)], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["engines"] == ["int8"] and out["decision"] == "block" and "marking.level" in out["cats"], out
