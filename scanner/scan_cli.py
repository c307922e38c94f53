"""`baomi scan PATH...` — files, directories (recursively) or a list file.

Exit codes (for a publishing gate): 0 pass, 1 review, 2 block, 3 could not scan (some file
had an extraction error and none was blocked). `--fail-on block` makes review exit 0, `--fail-on
never` always exits 0 (report only).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .extract.sandbox import path_needs_isolation
from .policy import exit_code



def add_scan_parser(sub) -> None:
    p = sub.add_parser("scan", help="扫描文件或目录 / scan files or directories",
                       description="扫描草稿文件（docx、pdf、txt、html 等），输出风险报告。")
    p.add_argument("paths", nargs="*", help="文件、目录或 - （从标准输入读取文本）")
    p.add_argument("--format", "-f", choices=["jsonl", "json", "text", "html", "sarif"], default="text")
    p.add_argument("--output", "-o", help="写入文件而不是标准输出")
    p.add_argument("--fail-on", choices=["review", "block", "never"], default="review",
                   help="达到该结论时以非零退出（默认 review）")
    p.add_argument("--light", action="store_true", help="轻量模式：不加载模型、不做图片文字识别（图片和扫描内容转人工审查），只用规则和词表")
    p.add_argument("--isolation", choices=["auto", "always", "never"], default="auto",
                   help="在受限子进程（内存、CPU、时间上限）中解析文件：auto（默认）= 除纯文本外都隔离")
    p.add_argument("--isolated", dest="isolation", action="store_const", const="always",
                   help="等同于 --isolation always")
    p.add_argument("--list", dest="list_file", help="从文件读取待扫描路径（每行一个）")
    p.add_argument("--jobs", "-j", type=int, default=0, help="批量模式的进程数（默认：目录扫描时使用全部核心）")
    p.add_argument("--resume", action="store_true", help="批量模式：跳过结果文件中已完成的文件")
    p.add_argument("--summary-html", help="批量模式：写出汇总 HTML")
    p.add_argument("--names", choices=["relevant", "all"], default=None,
                   help="人名报告范围：relevant（默认，只在与个人信息相关处报告）或 all（全部人名清单，档案审查用）")
    p.add_argument("--baseline", help="基线文件（baomi baseline create 生成）：只报告基线中没有的发现")
    p.add_argument("--allowlist", help="白名单文件（scanner.allowlist 格式）：命中的发现标记 allowlisted 并不再影响结论")
    p.add_argument("--site", help="白名单作用域：发布站点标识")
    p.add_argument("--submitter", help="白名单作用域：提交人标识")
    p.set_defaults(func=run_scan)


def expand_paths(paths: list[str]) -> list[str]:
    out: list[str] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                out.extend(str(Path(root) / f) for f in sorted(files) if not f.startswith("."))
        else:
            out.append(p)
    return out


def _remembered(args):
    """(allowlist, scope, drop) from --baseline (dropped from the report) or --allowlist (marked)."""
    from .allowlist import Allowlist, Scope
    if args.baseline:
        from .baseline import as_allowlist, load
        return as_allowlist(load(args.baseline)), Scope(), True
    if args.allowlist:
        return Allowlist.load(args.allowlist), Scope(site=args.site, submitter=args.submitter), False
    return None


def should_isolate(path: str, isolation: str) -> bool:
    """auto: plain text is decoded in-process (bounded by size); every parsed format goes to a child."""
    return path_needs_isolation(path, isolation)


def run_scan(args: argparse.Namespace) -> int:
    from . import get_scanner
    from .report import open_writer

    paths = list(args.paths)
    if args.list_file:
        with open(args.list_file, encoding="utf-8") as fh:
            paths.extend(line.strip() for line in fh if line.strip())
    if not paths:
        print("用法：baomi scan 文件或目录 …（baomi scan --help 查看帮助）", file=sys.stderr)
        return 64
    is_batch = any(Path(p).is_dir() for p in paths if p != "-") or args.jobs > 1 or args.list_file
    remembered = _remembered(args)
    if is_batch and remembered is None and args.names is None and args.format == "jsonl" and args.output:
        try:
            from .batch import run_batch
        except ImportError:
            run_batch = None
        if run_batch is not None:
            summary = run_batch(expand_paths(paths), out_jsonl=args.output, jobs=args.jobs or os.cpu_count() or 1,
                                resume=args.resume, light=args.light, isolated=args.isolation != "never",
                                summary_html=args.summary_html, fail_on=args.fail_on)
            return summary.exit_code
    scanner = get_scanner(light=args.light, names_report=args.names)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    decisions, errors = [], 0
    try:
        writer = open_writer(args.format, out)
        for path in (["-"] if paths == ["-"] else expand_paths(paths)):
            if path == "-":
                report = scanner.scan_bytes(sys.stdin.buffer.read(), source="<stdin>")
            else:
                report = scanner.scan_file(path, source=path, isolated=should_isolate(path, args.isolation))
            if remembered is not None:
                from .allowlist import apply
                allow, scope, drop = remembered
                apply(report, allow, scope, policy=scanner.policy, drop=drop)
            writer.add(report)
            decisions.append(report.decision)
            errors += bool(report.errors)
            del report               # the writer keeps what it needs, never the segments
        writer.close()
    finally:
        if out is not sys.stdout:
            out.close()
    return exit_code(decisions, errors, args.fail_on)
