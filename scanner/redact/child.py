"""The redaction of an untrusted file in a child process with memory and CPU limits (the service
calls `redact_isolated`; the file is parsed there, never in the calling process).

stdin: one JSON line {"report": <report dict with findings>, "categories": [...] | null,
"mode": "block"}, then the file's bytes. stdout: the redacted file. Exit 3 with a Chinese
message on stderr when the format has no redacted copy, 4 when the file cannot be rewritten, 5 when
a finding could not be located in the copy (PDF): no copy is given then."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
_BOOT = ("import runpy, sys; sys.path.insert(0, sys.argv[1]); sys.argv = sys.argv[:1]; "
         "runpy.run_module('scanner.redact.child', run_name='__main__', alter_sys=True)")
MEM_MB, CPU_S = 1024, 60


class ChildFailed(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


def redact_isolated(data: bytes, report: dict, categories=None, mode: str = "block",
                    timeout: float = 120.0) -> bytes:
    cmd = {"report": {k: report.get(k) for k in ("media_type", "findings", "segments", "decision")},
           "categories": categories, "mode": mode}
    cmd["report"]["decision"] = cmd["report"]["decision"] or "review"
    try:
        r = subprocess.run([sys.executable, "-I", "-c", _BOOT, _ROOT], cwd=_ROOT,
                           input=json.dumps(cmd, ensure_ascii=False).encode() + b"\n" + data,
                           capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ChildFailed(4, "生成脱敏副本超时。")
    if r.returncode != 0 or not r.stdout:
        msg = r.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ChildFailed(r.returncode if r.returncode in (3, 4, 5) else 4,
                          msg[-1] if r.returncode in (3, 5) and msg else "无法生成脱敏副本（文件无法解析或超出资源限制）。")
    return r.stdout


def main() -> int:
    from scanner.extract.sandbox import limit_child
    limit_child(MEM_MB, CPU_S)
    from scanner.model import Report

    from . import RedactError, redact_bytes
    cmd = json.loads(sys.stdin.buffer.readline())
    data = sys.stdin.buffer.read()
    report = Report.from_dict(cmd["report"])
    try:
        out = redact_bytes(data, report, categories=cmd.get("categories"), mode=cmd.get("mode") or "block")
    except RedactError as exc:
        print(str(exc), file=sys.stderr)
        return 3
    except Exception as exc:   # noqa: BLE001  (a part that cannot be rewritten: no copy)
        print(type(exc).__name__, file=sys.stderr)
        return 4
    if out.unplaced:      # a finding the copy could not locate: no copy (fail closed)
        print(f"脱敏副本中有 {out.unplaced} 处发现未能定位，不提供该副本，请在原文件中处理后重新提交。", file=sys.stderr)
        return 5
    sys.stdout.buffer.write(out.data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
