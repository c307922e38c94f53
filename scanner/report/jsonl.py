"""JSON Lines: one report (the contract in DESIGN.md) per line, written as it arrives."""
from __future__ import annotations

import json

from ..model import Report
from .base import Writer


def to_json_line(report: Report) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False)


class JsonlWriter(Writer):
    name = "jsonl"

    def add(self, report: Report) -> None:
        self.out.write(to_json_line(report) + "\n")
        self.out.flush()
