"""Report writers, one per format (gitleaks' report/*.go): jsonl and json (the contract), text
(Chinese, terminal), html (a standalone page, escaped by construction), sarif.

    from scanner.report import write, open_writer
    write(reports, "html", sys.stdout)                 # all at once
    w = open_writer("jsonl", out); w.add(r); w.close()  # as reports arrive (bounded memory)

Adding a format = a module with a `Writer` subclass + its entry in WRITERS. `locate` holds the one
location-in-words and highlight helper (the reviewer pages use it too).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from ..model import Report
from ..taxonomy import Taxonomy
from .base import Writer
from .html import HtmlWriter, to_html
from .jsonarray import JsonWriter
from .jsonl import JsonlWriter, to_json_line
from .sarif import SarifWriter, to_sarif
from .text import TextWriter, to_text

WRITERS: dict[str, type[Writer]] = {w.name: w for w in (JsonlWriter, JsonWriter, TextWriter, HtmlWriter, SarifWriter)}
FORMATS: tuple[str, ...] = tuple(WRITERS)


def open_writer(fmt: str, out: TextIO, taxonomy: Taxonomy | None = None) -> Writer:
    try:
        cls = WRITERS[fmt]
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r} (known: {', '.join(WRITERS)})") from None
    return cls(out, taxonomy)


def write(reports: Iterable[Report], fmt: str, out: TextIO, taxonomy: Taxonomy | None = None) -> None:
    w = open_writer(fmt, out, taxonomy)
    for r in reports:
        w.add(r)
    w.close()


__all__ = ["WRITERS", "FORMATS", "Writer", "open_writer", "write", "to_json_line", "to_text", "to_html", "to_sarif"]
