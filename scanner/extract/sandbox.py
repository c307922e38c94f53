"""The sandbox of untrusted parsing, in one place: which files need it, resource limits, network
isolation, the memory watch and the /proc readers they use.

Two kinds of sandboxed process use it:
- the extraction child (`scanner.extract.child`, started per file by `scanner.extract.isolated`):
  `limit_child` caps its address space, CPU time, file size and open files; the parent starts it
  under `netns_prefix()` (`unshare -rn`);
- a batch worker (`scanner.batch.pool`, many files per process): `enter_network_namespace` right
  after the worker starts, `cap_worker_memory` once its scanner is built, `cpu_budget` per file.

The limits are a `scanner.config.SandboxLimits`, built once by the caller (`ScanConfig.sandbox`)
and passed down; nothing here reads the environment at import time. The child receives its two
numbers on its command line (`limit_child(mem_mb, cpu_s)`), so it starts without importing the
configuration machinery (pydantic adds ~0.1 s to every child).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

from .formats import get as _format
from .sniff import sniff_media_type

if TYPE_CHECKING:   # pragma: no cover - the child imports this module and must start fast (no pydantic)
    from ..config import Isolation, SandboxLimits

FSIZE_BYTES = 64 << 20       # a child never needs to write a big file
NOFILE = 64
SNIFF_BYTES = 4096


# -- which files need the sandbox -------------------------------------------------------------------

def needs_isolation(head: bytes, isolation: Isolation | bool | str | None = "auto") -> bool:
    """always / off as said; auto: by content (the formats table's `isolate`), so plain text is
    decoded in process (bounded by size) and every parsed format goes to the sandbox."""
    from ..config import Isolation
    mode = Isolation.parse(isolation)
    if mode is not Isolation.AUTO:
        return mode is Isolation.ALWAYS
    return _format(sniff_media_type(head[:SNIFF_BYTES], "")).isolate


def path_needs_isolation(path: str | os.PathLike, isolation: Isolation | bool | str | None = "auto") -> bool:
    """`needs_isolation` for a file on disk; an unreadable file is not isolated (the in-process
    path reports it as unreadable)."""
    from ..config import Isolation
    mode = Isolation.parse(isolation)
    if mode is not Isolation.AUTO:
        return mode is Isolation.ALWAYS
    try:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError:
        return False
    return needs_isolation(head, mode)


# -- /proc readers ----------------------------------------------------------------------------------

def proc_status_kb(key: str) -> int:
    """A `kB` field of /proc/self/status (VmSize, VmPeak, VmHWM ...); 0 when unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def peak_rss_mb() -> float:
    """Peak resident memory of this process since exec (VmHWM; ru_maxrss would include the
    parent's memory at fork time)."""
    return round(proc_status_kb("VmHWM") / 1024, 1)


# -- resource limits --------------------------------------------------------------------------------

def _setrlimit(res: int, soft: int, hard: int) -> None:
    import resource
    try:
        _cur_soft, cur_hard = resource.getrlimit(res)
        if cur_hard != resource.RLIM_INFINITY:
            hard = min(hard, cur_hard)
            soft = min(soft, hard)
        resource.setrlimit(res, (soft, hard))
    except (ValueError, OSError):
        pass


def limit_child(mem_mb: int, cpu_s: int, ocr_cpu_s: int = 0) -> None:
    """First thing in a child: address space `mem_mb`, CPU `cpu_s` (SIGXCPU, hard limit 5 s later),
    small files only, few descriptors, no core dumps. ocr_cpu_s: CPU seconds that OCR may add
    (the hard limit is raised by that much; `extend_cpu_limit` lifts the soft one when OCR starts,
    so parsing alone stays within cpu_s)."""
    import resource
    _setrlimit(resource.RLIMIT_AS, mem_mb << 20, mem_mb << 20)
    _setrlimit(resource.RLIMIT_CPU, cpu_s, cpu_s + max(0, ocr_cpu_s) + 5)
    _setrlimit(resource.RLIMIT_FSIZE, FSIZE_BYTES, FSIZE_BYTES)
    _setrlimit(resource.RLIMIT_NOFILE, NOFILE, NOFILE)
    _setrlimit(resource.RLIMIT_CORE, 0, 0)


def extend_cpu_limit() -> None:
    """OCR starts: the soft CPU limit goes up to the hard one (set by limit_child with its OCR share,
    or by cpu_budget's caller). No-op where nothing was limited."""
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard != resource.RLIM_INFINITY and soft != resource.RLIM_INFINITY and hard - 5 > soft:
            resource.setrlimit(resource.RLIMIT_CPU, (hard - 5, hard))
    except (ImportError, ValueError, OSError):
        pass


def cap_worker_memory(limits: SandboxLimits) -> None:
    """A batch worker: address space capped at what it holds now (its scanner, models) plus
    `mem_mb`; no core dumps."""
    try:
        import resource
    except ImportError:        # pragma: no cover - not POSIX
        return
    vm = proc_status_kb("VmSize") * 1024
    if vm:
        cap = vm + (limits.mem_mb << 20)
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or cap <= hard:
            resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass


def cpu_budget(cpu_s: int) -> None:
    """Let this process use at most cpu_s more seconds of CPU (soft RLIMIT_CPU: SIGXCPU ends it)."""
    try:
        import resource
        ru = resource.getrusage(resource.RUSAGE_SELF)
        _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        soft = int(ru.ru_utime + ru.ru_stime) + 1 + cpu_s
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ImportError, ValueError, OSError):
        pass


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
            pct = proc_status_kb("VmPeak") * 100 // max(1, limit_kb)
            while marks and pct >= marks[0]:
                os.write(2, MEMORY_MARK + b"%d\n" % marks.pop(0))
            time.sleep(0.02)

    threading.Thread(target=watch, name="baomi-memwatch", daemon=True).start()


MEMORY_MARK = b"baomi-mem:"      # what start_memory_watch writes; the parent looks for it


# -- network isolation ------------------------------------------------------------------------------

_netns_ok: bool | None = None


def netns_prefix(limits: SandboxLimits) -> list[str]:
    """The command prefix that starts a child in a new user + network namespace with no interfaces
    (`unshare -rn --`), when this machine allows it and limits.netns is "auto"; else []."""
    global _netns_ok
    if limits.netns == "off":
        return []
    exe = shutil.which("unshare")
    if _netns_ok is None:
        try:
            _netns_ok = bool(exe) and subprocess.run([exe, "-rn", "true"], capture_output=True, timeout=5,
                                                     check=False).returncode == 0
        except (OSError, subprocess.SubprocessError):
            _netns_ok = False
    return [exe or "unshare", "-rn", "--"] if _netns_ok else []


def enter_network_namespace(limits: SandboxLimits) -> bool:
    """Move this process into a new network namespace (and a user namespace when unprivileged),
    like the child's `unshare -rn`: a parser cannot reach any host, loopback included. Must run
    while the process has one thread (right after a worker starts). True when it worked."""
    if limits.netns == "off" or not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        import ctypes.util
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000
        return libc.unshare(CLONE_NEWNET) == 0 or libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0
    except Exception:
        return False


def default_limits() -> SandboxLimits:
    """The limits from the environment (BAOMI_EXTRACT_*), for callers that were given none."""
    from ..config import ScanConfig
    return ScanConfig.from_env().sandbox
