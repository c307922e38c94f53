"""Baomi scanner: offline confidentiality pre-publication checks for Chinese drafts.

Library API (typed; mypy checks it in `make test`):
    from scanner import scan_text, scan_file, scan_bytes, get_scanner, Scanner, Report, Finding
    report = scan_text("秘密★5年 ...")      # -> Report
    report.to_dict()                          # the JSON report contract (DESIGN.md)

`Scanner` (scanner.engine) is imported on first use: building the detectors' imports takes ~1 s.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Nothing leaves the machine. onnxruntime (the OCR engine) ships Microsoft's
# 1DS telemetry: about 10 s after a session is created a background thread resolves
# mobile.events.data.microsoft.com and retries with back-off for as long as the process lives (a
# long-running service, not a short CLI run). `onnxruntime.disable_telemetry_events()` does not stop
# it (measured with onnxruntime 1.32); the ORT_DISABLE_TELEMETRY environment variable does, and only
# when it is set before onnxruntime is imported. Every import of onnxruntime in this project comes
# after `import scanner`, and the variable is inherited by the extraction children.
# tests/service/test_egress.py holds it (a session alive for 25 s, and the whole service, under strace).
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

from ._version import __version__
from .model import Finding, Report, ScanError

if TYPE_CHECKING:
    from .engine import Scanner

__all__ = ["Finding", "Report", "ScanError", "Scanner", "__version__", "get_scanner", "scan_bytes",
           "scan_file", "scan_text"]

_lock = threading.Lock()
_scanners: dict[str, Scanner] = {}
# (BAOMI_* environment, arguments) -> the scanner's key: ScanConfig.from_env (pydantic-settings) costs
# ~8 ms, more than a light scan of a small file, and get_scanner runs once per file in a batch
_keys: dict[tuple, str] = {}


def _env_snapshot() -> tuple:
    """Every BAOMI_* variable (pydantic-settings matches names case-insensitively): what from_env reads."""
    return tuple(sorted((k, v) for k, v in os.environ.items() if k[:6].upper() == "BAOMI_"))


def __getattr__(name: str) -> Any:
    if name == "Scanner":
        from .engine import Scanner
        return Scanner
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_scanner(light: bool = False, names_scope: str | None = None,
                names_report: str | None = None) -> Scanner:
    """A process-wide Scanner per configuration, built once (rules, automata, models), from the
    BAOMI_* environment (scanner.config) with these arguments winning.

    light=True: rules and lexicons only. names_scope: "all" (default), "cue" (the name tagger only
    on paragraphs and table cells with a personal-data cue; what the CMS gate uses) or "off".
    names_report: "relevant" (default: a name is reported only where it matters) or "all" (every
    name the tagger finds, as a low finding: a full inventory for archive review)."""
    from .config import ScanConfig
    from .engine import Scanner
    args = (_env_snapshot(), bool(light), names_scope, names_report)
    key = _keys.get(args)
    if key is not None and key in _scanners:
        return _scanners[key]
    config = ScanConfig.from_env(light=light or None, names_scope=names_scope, names_report=names_report)
    key = config.model_dump_json()
    with _lock:
        if key not in _scanners:
            _scanners[key] = Scanner(config=config)
        _keys[args] = key
        return _scanners[key]


def scan_text(text: str, source: str = "<text>", light: bool = False) -> Report:
    return get_scanner(light).scan_text(text, source=source)


def scan_file(path: str | Path, source: str | None = None, light: bool = False, isolated: bool = False) -> Report:
    return get_scanner(light).scan_file(path, source=source, isolated=isolated)


def scan_bytes(data: bytes, source: str, light: bool = False, isolated: bool = False) -> Report:
    return get_scanner(light).scan_bytes(data, source=source, isolated=isolated)
