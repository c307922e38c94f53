"""A stand-in for a hostile parser, run by the real parent (`scanner.extract.isolated.run_child`)
inside the real sandbox (`scanner.extract.child.enter_sandbox`: rlimits, memory watch; the parent's
`unshare -rn`). It crashes, spins, sleeps, exhausts memory or probes the network instead of
extracting, so the tests can prove the parent maps each outcome to the right error code.

    run_hostile(path, "segv", limits)       -> Document with extract.parser_crash
    run_hostile(path, "net:PORT", limits)   -> exit status 7 (loopback reached) or 8 (blocked)
"""
from __future__ import annotations

import os
import socket
import time

from scanner.extract import child
from scanner.extract.isolated import run_child

MODULE = "tests.support.hostile_child"
KINDS = ("segv", "abort", "memory", "memory_abort", "spin", "sleep")


def run_hostile(path, kind: str, limits):
    from pathlib import Path
    return run_child(MODULE, Path(path), str(path), limits, ["--do", kind])


def main(argv: list[str]) -> int:
    ap = child.arguments(MODULE)
    ap.add_argument("--do", required=True)
    args = ap.parse_args(argv)
    child.enter_sandbox(args)
    kind = args.do
    if kind.startswith("net:"):           # can this child reach a loopback listener?
        try:
            socket.create_connection(("127.0.0.1", int(kind[4:])), timeout=2).close()
            return 7
        except OSError:
            return 8
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
        time.sleep(3600)
    return 9


if __name__ == "__main__":
    child.run(main)
