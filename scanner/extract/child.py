"""Extraction child process: `scanner.extract.child PATH [--source S] --mem-mb N --cpu-s N`,
started by `scanner.extract.isolated` (see there for how). Sets its own resource limits first
thing, extracts, prints the Document (`Document.to_dict`) as one JSON object on stdout. Never
prints document text anywhere else (stderr stays empty of content).

Exit codes: 0 = JSON written (errors, if any, are inside it); 3 = MemoryError outside extraction.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from .sandbox import limit_child, peak_rss_mb, start_memory_watch


def arguments(prog: str) -> argparse.ArgumentParser:
    """The child's command line (shared with test children that stand in for a hostile parser)."""
    ap = argparse.ArgumentParser(prog=prog)
    ap.add_argument("path")
    ap.add_argument("--source", default=None)
    ap.add_argument("--mem-mb", type=int, required=True)      # config.SandboxLimits, from the parent
    ap.add_argument("--cpu-s", type=int, required=True)
    ap.add_argument("--ocr", default="on")                    # on | off | off:<reason> (ocr.OcrOptions)
    ap.add_argument("--ocr-threads", type=int, default=1)
    ap.add_argument("--ocr-budget-s", type=float, default=0.0)
    ap.add_argument("--ocr-rec", default="float")                 # ocr.OcrOptions.rec (ScanConfig.ocr_rec)
    ap.add_argument("--progress", action="store_true")           # OCR pages done/total on stderr
    return ap


def enter_sandbox(args: argparse.Namespace) -> None:
    ocr_cpu = int(args.ocr_budget_s * max(1, args.ocr_threads)) if args.ocr == "on" else 0
    limit_child(args.mem_mb, args.cpu_s, ocr_cpu)
    start_memory_watch(args.mem_mb)


def ocr_options(args: argparse.Namespace):
    from .ocr import OcrOptions, stderr_progress
    mode, _, reason = args.ocr.partition(":")
    return OcrOptions(enabled=mode == "on", threads=max(1, args.ocr_threads),
                      budget_s=args.ocr_budget_s or OcrOptions.budget_s, reason=reason, rec=args.ocr_rec,
                      on_progress=stderr_progress if getattr(args, "progress", False) else None)


def main(argv: list[str]) -> int:
    args = arguments("scanner.extract.child").parse_args(argv)
    enter_sandbox(args)
    from . import extract
    doc = extract(args.path, source=args.source, ocr=ocr_options(args))
    doc.meta["child_max_rss_mb"] = peak_rss_mb()
    payload = json.dumps(doc.to_dict(), ensure_ascii=False, default=str)
    del doc
    out = sys.stdout.buffer
    out.write(payload.encode("utf-8", errors="replace"))
    out.flush()
    return 0


def run(main_fn=main) -> None:
    """Process entry: exit with main's status; a MemoryError outside extraction is status 3."""
    try:
        sys.exit(main_fn(sys.argv[1:]))
    except MemoryError:
        os._exit(3)


if __name__ == "__main__":
    run()
