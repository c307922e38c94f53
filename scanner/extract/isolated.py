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

The child is started as `sys.executable -I -m scanner.extract.child` (isolated mode: no
PYTHONPATH, no user site) from the package's own parent directory, so it works from any cwd.
Limits are set by the child itself (no preexec_fn: unsafe with threads).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from ..model import Document, ScanError, Segment
from . import MAX_INPUT_BYTES
from . import errors as E

MEM_MB = int(os.environ.get("BAOMI_EXTRACT_MEM_MB", "1536"))
CPU_S = int(os.environ.get("BAOMI_EXTRACT_CPU_S", "60"))
WALL_S = float(os.environ.get("BAOMI_EXTRACT_WALL_S", "90"))
MAX_OUTPUT_BYTES = 256 << 20
# network isolation of the child: "auto" uses `unshare -rn` (a new user + network namespace, no
# interfaces) when this machine allows it, "off" never; the child never needs the network
NETNS = os.environ.get("BAOMI_EXTRACT_NETNS", "auto")
_netns_ok: bool | None = None
_PKG_ROOT = str(Path(__file__).resolve().parents[2])


def _netns_prefix() -> list[str]:
    global _netns_ok
    if NETNS == "off":
        return []
    if _netns_ok is None:
        exe = shutil.which("unshare")
        try:
            _netns_ok = bool(exe) and subprocess.run([exe, "-rn", "true"], capture_output=True, timeout=5,
                                                     check=False).returncode == 0
        except (OSError, subprocess.SubprocessError):
            _netns_ok = False
    return [shutil.which("unshare") or "unshare", "-rn", "--"] if _netns_ok else []


def _name_hint(source: str) -> str:
    """The child sees only a neutral name with the original extension (type sniffing uses it as a
    tie-breaker); the real source name, which may hold NUL, newlines or bidi controls, stays here."""
    ext = source.rsplit(".", 1)[-1] if "." in source[-12:] else ""
    ext = ext if ext.isascii() and ext.isalnum() and len(ext) <= 8 else ""
    return "upload." + ext.lower() if ext else "upload"


def _error_doc(source: str, sha: str, err: ScanError, media_type: str = "application/octet-stream") -> Document:
    doc = Document(source=source, sha256=sha, media_type=media_type)
    doc.errors.append(err)
    return doc


def _sha_file(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return ""
    return h.hexdigest()


def _from_json(raw: bytes, source: str) -> Document:
    data = json.loads(raw.decode("utf-8"))
    doc = Document(source=source, sha256=data.get("sha256", ""), media_type=data.get("media_type", ""),
                   meta=data.get("meta") or {})
    for s in data.get("segments", []):
        doc.segments.append(Segment(id=len(doc.segments), layer=s["layer"], text=s["text"],
                                    locator=s.get("locator") or {}))
    for e in data.get("errors", []):
        doc.errors.append(ScanError(e["code"], e["message"], e.get("detail", "")))
    return doc


def _classify(rc: int, stderr: bytes) -> ScanError:
    if rc == 3 or b"MemoryError" in stderr[-4000:]:
        return E.resource_limit("child MemoryError")
    if rc < 0 and -rc in (signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGTRAP) \
            and b"baomi-mem:" in stderr[-4000:]:
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


def extract_isolated(path, source: str | None = None, *, mem_mb: int | None = None, cpu_s: int | None = None,
                     wall_s: float | None = None, _test_crash: str | None = None, _test_net_port: int = 0) -> Document:
    path = Path(path)
    source = source if source is not None else str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        return _error_doc(source, "", ScanError("extract.unreadable", "无法读取该文件，请检查文件是否存在以及访问权限。",
                                                type(exc).__name__))
    if size > MAX_INPUT_BYTES:
        return _error_doc(source, "", E.too_large(size, MAX_INPUT_BYTES))
    sha = _sha_file(path)
    cmd = _netns_prefix() + [sys.executable, "-I", "-m", "scanner.extract.child", str(path.resolve()), f"--source={_name_hint(source)}",
           "--mem-mb", str(mem_mb or MEM_MB), "--cpu-s", str(cpu_s or CPU_S)]
    if _test_crash:
        cmd += ["--test-crash", _test_crash]
    if _test_net_port:
        cmd += ["--test-net-port", str(_test_net_port)]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "HOME": tempfile.gettempdir()}
    try:
        proc = subprocess.run(cmd, cwd=_PKG_ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=wall_s or WALL_S, check=False)
    except subprocess.TimeoutExpired:
        return _error_doc(source, sha, E.timeout(f"wall-clock limit {wall_s or WALL_S:.0f}s"))
    except (OSError, ValueError) as exc:
        return _error_doc(source, sha, E.parser_crash(f"could not start child: {type(exc).__name__}"))
    if proc.returncode == 0 and proc.stdout:
        if len(proc.stdout) > MAX_OUTPUT_BYTES:
            return _error_doc(source, sha, E.resource_limit("child output too large"))
        try:
            doc = _from_json(proc.stdout, source)
        except (ValueError, KeyError, TypeError):
            return _error_doc(source, sha, E.parser_crash("unreadable child output"))
        if not doc.sha256:
            doc.sha256 = sha
        return doc
    return _error_doc(source, sha, _classify(proc.returncode, proc.stderr or b""))


def extract_bytes_isolated(data: bytes, source: str, **kw) -> Document:
    """Write the bytes to a private temporary file and extract it in the child."""
    if len(data) > MAX_INPUT_BYTES:
        return _error_doc(source, hashlib.sha256(data).hexdigest(), E.too_large(len(data), MAX_INPUT_BYTES))
    with tempfile.TemporaryDirectory(prefix="baomi-x-") as tmp:
        p = Path(tmp) / "input.bin"
        try:
            p.write_bytes(data)
        except OSError as exc:
            return _error_doc(source, hashlib.sha256(data).hexdigest(),
                              E.parser_crash(f"temp file: {type(exc).__name__}"))
        doc = extract_isolated(p, source=source, **kw)
    if not doc.sha256:
        doc.sha256 = hashlib.sha256(data).hexdigest()
    return doc
