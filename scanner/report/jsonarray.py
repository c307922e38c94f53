"""JSON: one array of reports (the contract in DESIGN.md), written at the end."""
from __future__ import annotations

import json

from ..model import Report
from .base import Writer


class JsonWriter(Writer):
    name = "json"

    def __init__(self, out, taxonomy=None):
        super().__init__(out, taxonomy)
        self.items: list[dict] = []

    def add(self, report: Report) -> None:
        self.items.append(report.to_dict())

    def close(self) -> None:
        self.out.write(json.dumps(self.items, ensure_ascii=False, indent=2) + "\n")
