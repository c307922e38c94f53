"""The writer contract: `add` each report as it arrives, `close` once. A writer keeps only what its
format needs (a JSON dict, a rendered section), never the documents' segments, so a scan of many
files runs in bounded memory whatever the format."""
from __future__ import annotations

from typing import ClassVar, TextIO

from ..model import Report
from ..taxonomy import TAXONOMY, Taxonomy


class Writer:
    name: ClassVar[str] = ""

    def __init__(self, out: TextIO, taxonomy: Taxonomy | None = None):
        self.out = out
        self.taxonomy = taxonomy or TAXONOMY

    def add(self, report: Report) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Write whatever follows the last report (nothing for line formats)."""
