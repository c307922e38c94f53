"""Baomi scanner: offline confidentiality pre-publication checks for Chinese drafts.

Library API:
    from scanner import scan_text, scan_file, get_scanner
    report = scan_text("秘密★5年 ...")      # -> scanner.model.Report
    report.to_dict()                          # the JSON report contract (DESIGN.md)
"""
from __future__ import annotations

import threading

__version__ = "0.1.0"

_lock = threading.Lock()
_scanners: dict = {}


def get_scanner(light: bool = False):
    """A process-wide Scanner, built once (rules, automata, models)."""
    from .engine import Scanner
    with _lock:
        if light not in _scanners:
            _scanners[light] = Scanner(light=light)
        return _scanners[light]


def scan_text(text: str, source: str = "<text>", light: bool = False):
    return get_scanner(light).scan_text(text, source=source)


def scan_file(path, source: str | None = None, light: bool = False, isolated: bool = False):
    return get_scanner(light).scan_file(path, source=source, isolated=isolated)


def scan_bytes(data: bytes, source: str, light: bool = False, isolated: bool = False):
    return get_scanner(light).scan_bytes(data, source=source, isolated=isolated)
