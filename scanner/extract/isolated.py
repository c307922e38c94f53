"""Extraction in a child process with memory, CPU-time and wall-clock limits.

The parent never parses the document and never raises: every outcome of the child maps to a
Document, with a stable error code when something went wrong:

| child outcome                                   | error code               |
|-------------------------------------------------|--------------------------|
| exit 0 with JSON                                | (the child's own errors) |
| MemoryError, SIGKILL/SIGSEGV under the AS cap   | extract.resource_limit   |
| SIGXCPU, wall-clock timeout                      | extract.timeout          |
| SIGSEGV/SIGABRT/SIGBUS/other signal              | extract.parser_crash     |
| unreadable output                                | extract.parser_crash     |

The child (`scanner.extract.child`) runs as `sys.executable -I -c <boot> ROOT MODULE ...`: isolated
mode (no PYTHONPATH, no user site, no cwd on sys.path), with ROOT, the directory this package was
loaded from, put first on sys.path, so the child runs the same code as the parent from any cwd.
Limits are set by the child itself (no preexec_fn: unsafe with threads); network isolation is the
`unshare -rn` prefix (sandbox.netns_prefix). `run_child` is the parent side for any child entry
that prints a Document as JSON (tests run stand-ins for hostile parsers through it).
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..model import Document, ScanError
from . import MAX_INPUT_BYTES
from . import errors as E
from .sandbox import MEMORY_MARK, default_limits, netns_prefix

if TYPE_CHECKING:   # pragma: no cover
    from ..config import SandboxLimits
    from .ocr import OcrOptions

CHILD = "scanner.extract.child"
OCR_MEM_MB = 1024          # onnxruntime + the PP-OCR models + one page: ~0.5-1 GB of address space (README)
MAX_OUTPUT_BYTES = 256 << 20
_PKG_ROOT = str(Path(__file__).resolve().parents[2])
_BOOT = ("import runpy, sys; sys.path.insert(0, sys.argv[1]); m = sys.argv[2]; sys.argv = [m] + sys.argv[3:]; "
         "runpy.run_module(m, run_name='__main__', alter_sys=True)")


def _name_hint(source: str) -> str:
    """The child sees only a neutral name with the original extension (type sniffing uses it as a
    tie-breaker); the real source name, which may hold NUL, newlines or bidi controls, stays here."""
    ext = source.rsplit(".", 1)[-1] if "." in source[-12:] else ""
    ext = ext if ext.isascii() and ext.isalnum() and len(ext) <= 8 else ""
    return "upload." + ext.lower() if ext else "upload"


def _sha_file(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return ""
    return h.hexdigest()


def _classify(rc: int, stderr: bytes) -> ScanError:
    if rc == 3 or b"MemoryError" in stderr[-4000:]:
        return E.resource_limit("child MemoryError")
    if rc < 0 and -rc in (signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGTRAP) \
            and MEMORY_MARK in stderr[-4000:]:
        return E.resource_limit("child died after using most of its memory limit")
    if rc < 0:
        sig = -rc
        if sig == signal.SIGXCPU:
            return E.timeout("child CPU time limit (SIGXCPU)")
        if sig == signal.SIGKILL:
            return E.resource_limit("child killed (SIGKILL)")
        if sig in (signal.SIGSEGV, signal.SIGBUS) and b"Cannot allocate" in stderr[-4000:]:
            return E.resource_limit("child out of memory")
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return E.parser_crash(f"child died with {name}")
    if b"std::bad_alloc" in stderr[-4000:] or b"Cannot allocate memory" in stderr[-4000:]:
        return E.resource_limit("child out of memory")
    return E.parser_crash(f"child exit status {rc}")


def ocr_args(ocr: OcrOptions | None) -> list[str]:
    """The child's OCR arguments (default: OCR on, one thread, the default budget; --progress when
    the caller wants pages done/total)."""
    from .ocr import OcrOptions
    ocr = ocr or OcrOptions()
    mode = "on" if ocr.enabled else "off" + (f":{ocr.reason}" if ocr.reason else "")
    return ["--ocr", mode, "--ocr-threads", str(ocr.threads), "--ocr-budget-s", f"{ocr.budget_s:g}",
            "--ocr-rec", ocr.rec] + (
        ["--progress"] if ocr.enabled and ocr.on_progress is not None else [])


def with_ocr(limits: SandboxLimits, ocr: OcrOptions | None) -> SandboxLimits:
    """OCR needs more than parsing: the child gets OCR_MEM_MB more address space and the OCR budget
    on top of its wall clock (CPU: the child's hard limit, see sandbox.limit_child)."""
    from .ocr import OcrOptions
    ocr = ocr or OcrOptions()
    if not ocr.enabled:
        return limits
    return limits.model_copy(update={"mem_mb": limits.mem_mb + OCR_MEM_MB, "wall_s": limits.wall_s + ocr.budget_s})


def extract_isolated(path, source: str | None = None, *, limits: SandboxLimits | None = None,
                     mem_mb: int | None = None, cpu_s: int | None = None, wall_s: float | None = None,
                     ocr: OcrOptions | None = None) -> Document:
    """Extract `path` in a sandboxed child. limits: the sandbox (default: from the environment,
    BAOMI_EXTRACT_*); mem_mb/cpu_s/wall_s override single limits; ocr: OCR options (default on)."""
    path = Path(path)
    source = source if source is not None else str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        return Document.failed(source, E.unreadable(type(exc).__name__))
    if size > MAX_INPUT_BYTES:
        return Document.failed(source, E.too_large(size, MAX_INPUT_BYTES))
    limits = limits or default_limits()
    changes = {k: v for k, v in (("mem_mb", mem_mb), ("cpu_s", cpu_s), ("wall_s", wall_s)) if v}
    limits = limits.model_copy(update=changes) if changes else limits
    return run_child(CHILD, path, source, with_ocr(limits, ocr), ocr_args(ocr),
                     on_progress=ocr.on_progress if ocr is not None and ocr.enabled else None)


def run_child(module: str, path: Path, source: str, limits: SandboxLimits, args: Sequence[str] = (),
              on_progress=None) -> Document:
    """Run the child entry `module` on `path` under `limits` and map every outcome to a Document
    (the table above). The child gets the path, a neutral name hint, --mem-mb and --cpu-s.
    on_progress(done, total): called with the OCR progress lines the child writes on stderr."""
    sha = _sha_file(path)
    cmd = netns_prefix(limits) + [sys.executable, "-I", "-c", _BOOT, _PKG_ROOT, module, str(path.resolve()),
                                  f"--source={_name_hint(source)}", "--mem-mb", str(limits.mem_mb),
                                  "--cpu-s", str(limits.cpu_s), *args]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "HOME": tempfile.gettempdir(),
           "ORT_DISABLE_TELEMETRY": "1"}                 # see scanner/__init__.py
    try:
        if on_progress is None:
            proc = subprocess.run(cmd, cwd=_PKG_ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=limits.wall_s, check=False)
        else:
            proc = _run_with_progress(cmd, env, limits.wall_s, on_progress)
    except subprocess.TimeoutExpired:
        return Document.failed(source, E.timeout(f"wall-clock limit {limits.wall_s:.0f}s"), sha)
    except (OSError, ValueError) as exc:
        return Document.failed(source, E.parser_crash(f"could not start child: {type(exc).__name__}"), sha)
    if proc.returncode == 0 and proc.stdout:
        if len(proc.stdout) > MAX_OUTPUT_BYTES:
            return Document.failed(source, E.resource_limit("child output too large"), sha)
        try:
            doc = Document.from_dict(json.loads(proc.stdout.decode("utf-8")), source=source)
        except (ValueError, KeyError, TypeError, AttributeError):
            return Document.failed(source, E.parser_crash("unreadable child output"), sha)
        if not doc.sha256:
            doc.sha256 = sha
        return doc
    return Document.failed(source, _classify(proc.returncode, proc.stderr or b""), sha)


def _run_with_progress(cmd: list[str], env: dict, wall_s: float, on_progress) -> subprocess.CompletedProcess:
    """subprocess.run(capture_output, timeout) that also hands the child's progress lines on stderr
    to on_progress as they come (a reader thread per pipe; the child is killed at the timeout)."""
    import threading

    from .ocr import PROGRESS_MARK
    proc = subprocess.Popen(cmd, cwd=_PKG_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out: list[bytes] = []
    err: list[bytes] = []

    def read_out():
        out.append(proc.stdout.read())

    def read_err():
        for line in proc.stderr:
            if line.startswith(PROGRESS_MARK):
                try:
                    done, total = (int(x) for x in line[len(PROGRESS_MARK):].strip().split(b"/"))
                    on_progress(done, total)
                except Exception:       # a malformed line or a failing sink is not the child's outcome
                    pass
            else:
                err.append(line)
                if len(err) > 2000:
                    del err[:1000]

    threads = [threading.Thread(target=read_out, daemon=True), threading.Thread(target=read_err, daemon=True)]
    for t in threads:
        t.start()
    try:
        rc = proc.wait(timeout=wall_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    finally:
        for t in threads:
            t.join(timeout=5)
    return subprocess.CompletedProcess(cmd, rc, b"".join(out), b"".join(err))


def extract_bytes_isolated(data: bytes, source: str, **kw) -> Document:
    """Write the bytes to a private temporary file and extract it in the child."""
    if len(data) > MAX_INPUT_BYTES:
        return Document.failed(source, E.too_large(len(data), MAX_INPUT_BYTES), hashlib.sha256(data).hexdigest())
    with tempfile.TemporaryDirectory(prefix="baomi-x-") as tmp:
        p = Path(tmp) / "input.bin"
        try:
            p.write_bytes(data)
        except OSError as exc:
            return Document.failed(source, E.parser_crash(f"temp file: {type(exc).__name__}"),
                                   hashlib.sha256(data).hexdigest())
        doc = extract_isolated(p, source=source, **kw)
    if not doc.sha256:
        doc.sha256 = hashlib.sha256(data).hexdigest()
    return doc
