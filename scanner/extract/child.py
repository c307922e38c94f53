"""Extraction child process: `python -I -m scanner.extract.child PATH [--source S] [--mem-mb N]
[--cpu-s N]`. Sets its own resource limits first thing, extracts, prints the Document as one JSON
object on stdout. Never prints document text anywhere else (stderr stays empty of content).

Exit codes: 0 = JSON written (errors, if any, are inside it); 3 = MemoryError outside extraction.
"""
from __future__ import annotations

import json
import os
import sys

DEFAULT_MEM_MB = 1536
DEFAULT_CPU_S = 60
FSIZE_BYTES = 64 << 20
NOFILE = 64


def set_limits(mem_mb: int, cpu_s: int) -> None:
    import resource
    for res, soft, hard in (
        (resource.RLIMIT_AS, mem_mb << 20, mem_mb << 20),
        (resource.RLIMIT_CPU, cpu_s, cpu_s + 5),
        (resource.RLIMIT_FSIZE, FSIZE_BYTES, FSIZE_BYTES),
        (resource.RLIMIT_NOFILE, NOFILE, NOFILE),
        (resource.RLIMIT_CORE, 0, 0),
    ):
        try:
            cur_soft, cur_hard = resource.getrlimit(res)
            if cur_hard != resource.RLIM_INFINITY:
                hard = min(hard, cur_hard)
                soft = min(soft, hard)
            resource.setrlimit(res, (soft, hard))
        except (ValueError, OSError):
            pass


def _vm_peak_kb() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def start_memory_watch(mem_mb: int) -> None:
    """A daemon thread notes on stderr when the address space passes 50/75/90 % of the limit, so
    that a native library aborting on a failed allocation (pdfium does) is reported as a memory
    limit, not as a parser crash. ctypes and lxml release the GIL, so the thread keeps running."""
    import threading
    import time

    def watch():
        marks = [50, 75, 90]
        limit_kb = mem_mb << 10
        while marks:
            pct = _vm_peak_kb() * 100 // max(1, limit_kb)
            while marks and pct >= marks[0]:
                os.write(2, b"baomi-mem:%d\n" % marks.pop(0))
            time.sleep(0.02)

    threading.Thread(target=watch, name="baomi-memwatch", daemon=True).start()


def peak_rss_mb() -> float:
    """Peak resident memory of this process since exec (VmHWM; ru_maxrss would include the
    parent's memory at fork time)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        pass
    return 0.0


def document_to_json(doc) -> dict:
    return {
        "source": doc.source, "sha256": doc.sha256, "media_type": doc.media_type,
        "segments": [{"layer": s.layer, "text": s.text, "locator": s.locator} for s in doc.segments],
        "errors": [e.to_dict() for e in doc.errors],
        "meta": doc.meta,
    }


def main(argv: list[str]) -> int:
    import argparse
    ap = argparse.ArgumentParser(prog="scanner.extract.child")
    ap.add_argument("path")
    ap.add_argument("--source", default=None)
    ap.add_argument("--mem-mb", type=int, default=DEFAULT_MEM_MB)
    ap.add_argument("--cpu-s", type=int, default=DEFAULT_CPU_S)
    ap.add_argument("--test-crash", choices=["segv", "abort", "memory", "memory_abort", "spin", "sleep"], default=None,
                    help=argparse.SUPPRESS)
    ap.add_argument("--test-net-port", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    set_limits(args.mem_mb, args.cpu_s)
    start_memory_watch(args.mem_mb)
    if args.test_crash:
        _test_crash(args.test_crash)
    if args.test_net_port:        # used by the tests: can this child reach a loopback listener?
        import socket
        try:
            socket.create_connection(("127.0.0.1", args.test_net_port), timeout=2).close()
            return 7
        except OSError:
            return 8
    from scanner.extract import extract
    doc = extract(args.path, source=args.source)
    doc.meta["child_max_rss_mb"] = peak_rss_mb()
    payload = json.dumps(document_to_json(doc), ensure_ascii=False, default=str)
    del doc
    out = sys.stdout.buffer
    out.write(payload.encode("utf-8", errors="replace"))
    out.flush()
    return 0


def _test_crash(kind: str) -> None:   # used by the tests to prove the parent survives
    if kind == "segv":
        import ctypes
        ctypes.string_at(0)
    elif kind == "abort":
        os.abort()
    elif kind == "memory":
        blocks = []
        while True:
            blocks.append(bytearray(64 << 20))
    elif kind == "memory_abort":          # like pdfium: use most of the budget, then abort()
        import time
        blocks = []
        try:
            while True:
                blocks.append(bytearray(32 << 20))
        except MemoryError:
            pass
        time.sleep(0.2)
        os.abort()
    elif kind == "spin":
        while True:
            pass
    elif kind == "sleep":
        import time
        time.sleep(3600)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except MemoryError:
        os._exit(3)
