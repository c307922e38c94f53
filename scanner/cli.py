"""`baomi` command line. `baomi scan PATH...`: files, directories (recursively, dot-files skipped),
a list file (`--list`), or `-` (text on standard input).

Exit codes (for a publishing gate, policy.exit_code): 0 pass, 1 review, 2 block, 3 could not scan
(some file had an extraction error and none was blocked). `--fail-on block` makes review exit 0,
`--fail-on never` always exits 0 (report only). 78: a rule, term, policy or setting is invalid
(the message names the file, the rule and the field).

One path for one or many files: the files go through `scanner.batch.pool.scan_items` (in this
process for one job, a crash-surviving process pool for more; `--jobs` defaults to every core when
a directory or a list is scanned) and each report through the writer of `--format`, in input
order. With `--format jsonl --output FILE` for a directory or list (or with `--resume`,
`--summary-html`, `--dask`) the run is a batch run: the results file is appended as it goes, can
be resumed, and gets `.summary.txt`/`.summary.html` beside it.

`baomi archive scan DIR|ZIP [--catalog FILE] -o RESULT.xlsx` writes the archive review register
(scanner.archive.cli). `baomi site scan URL` inspects a published site (scanner.site.cli: crawl, scan,
report, --since).

`baomi redact FILE -o OUT` writes a redacted copy in the original format (scanner.redact.cli,
exit codes there: 0 clean, 1 something left, 3 unreadable, 64 usage).

Other commands come from installed packages through the entry-point group `baomi.commands` (the
service registers serve, worker, audit, user, apikey, purge): each entry point is a function that
adds its subparsers; the scanner never imports them by name. They are loaded only when the
command is not `scan`, so `baomi scan` starts without them.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from .baseline import add_baseline_parser
from .config import ScanConfig
from .errors import ConfigError
from .policy import Policy, exit_code
from .redact.cli import add_redact_parser
from .report import FORMATS
from .rules import Ruleset
from .site.cli import add_site_parser

COMMANDS_GROUP = "baomi.commands"
USAGE_ERROR = 64
_STORE_ONLY = ("resume", "summary_html", "dask", "ship_bytes")


def add_scan_parser(sub) -> None:
    p = sub.add_parser("scan", help="扫描文件或目录 / scan files or directories",
                       description="扫描草稿文件（docx、pdf、txt、html 等），输出风险报告。")
    p.add_argument("paths", nargs="*", help="文件、目录或 - （从标准输入读取文本）")
    p.add_argument("--format", "-f", choices=FORMATS, default="text")
    p.add_argument("--output", "-o", help="写入文件而不是标准输出")
    p.add_argument("--fail-on", choices=["review", "block", "never"], default="review",
                   help="达到该结论时以非零退出（默认 review）")
    p.add_argument("--light", action="store_true", help="轻量模式：不加载模型、不做图片文字识别（图片和扫描内容转人工审查），只用规则和词表")
    p.add_argument("--isolation", choices=["auto", "always", "never"], default="auto",
                   help="在受限子进程（内存、CPU、时间上限）中解析文件：auto（默认）= 除纯文本外都隔离")
    p.add_argument("--isolated", dest="isolation", action="store_const", const="always",
                   help="等同于 --isolation always")
    p.add_argument("--list", dest="list_file", help="从文件读取待扫描路径（每行一个，# 开头为注释）")
    p.add_argument("--jobs", "-j", type=int, default=0, help="进程数（默认：扫描目录或列表时使用全部核心，否则 1）")
    p.add_argument("--resume", action="store_true", help="批量模式：跳过结果文件中已完成的文件")
    p.add_argument("--summary-html", help="批量模式：写出汇总 HTML")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="批量模式：在 Dask 集群上扫描（tcp://调度器:8786，或 local 启动本机集群，--jobs 为进程数；需安装 distributed）")
    p.add_argument("--ship-bytes", action="store_true", help="与 --dask 同用：由本机读取文件内容发给工作进程（无共享文件系统时）")
    p.add_argument("--names", choices=["relevant", "all"], default=None,
                   help="人名报告范围：relevant（默认，只在与个人信息相关处报告）或 all（全部人名清单，档案审查用）")
    p.add_argument("--baseline", help="基线文件（baomi baseline create 生成）：只报告基线中没有的发现")
    p.add_argument("--allowlist", help="白名单文件（scanner.allowlist 格式）：命中的发现标记 allowlisted 并不再影响结论")
    p.add_argument("--site", help="白名单作用域：发布站点标识")
    p.add_argument("--submitter", help="白名单作用域：提交人标识")
    p.set_defaults(func=run_scan)


def _remembered(args):
    """(allowlist, scope, drop) from --baseline (dropped from the report) or --allowlist (marked)."""
    from .allowlist import Allowlist, Scope
    if args.baseline:
        from .baseline import as_allowlist, load
        return as_allowlist(load(args.baseline)), Scope(), True
    if args.allowlist:
        return Allowlist.load(args.allowlist), Scope(site=args.site, submitter=args.submitter), False
    return None


def _in_order(paths: list[str], emit: Callable[[dict], None]) -> Callable[[dict], None]:
    """Records arrive in completion order; hand them on in input order."""
    index = {p: i for i, p in enumerate(paths)}
    held: dict[int, dict] = {}
    nxt = [0]

    def put(rec: dict) -> None:
        held[index.get((rec.get("batch") or {}).get("path"), nxt[0])] = rec
        while nxt[0] in held:
            emit(held.pop(nxt[0]))
            nxt[0] += 1
    return put


def run_scan(args: argparse.Namespace) -> int:
    from .batch import iter_inputs, run_batch
    from .batch.pool import scan_items
    from .model import Report
    from .report import open_writer

    paths = list(args.paths)
    if not paths and not args.list_file:
        print("用法：baomi scan 文件或目录 …（baomi scan --help 查看帮助）", file=sys.stderr)
        return USAGE_ERROR
    stdin = paths == ["-"] and not args.list_file
    # the rules, terms and policy load here first: a bad file stops the run with its name, rule and
    # field (exit 78) instead of a could-not-scan record per file; the writers use its vocabulary
    config = ScanConfig.from_env(light=args.light or None, names_report=args.names)
    ruleset = Ruleset.load(config.lexicons)
    Policy.load(config.lexicons / "policy.toml", taxonomy=ruleset.taxonomy)
    many = bool(args.list_file) or any(os.path.isdir(p) for p in paths if p != "-")
    jobs = args.jobs if args.jobs > 0 else (os.cpu_count() or 1) if many else 1
    remembered = _remembered(args)
    explicit_store = any(getattr(args, k) for k in _STORE_ONLY)
    # a baseline or allowlist is applied to each report as it arrives (the writer path), not in the store
    store = explicit_store or ((many or jobs > 1) and args.format == "jsonl" and bool(args.output)
                               and remembered is None)
    if store:
        if args.format != "jsonl" or not args.output or stdin:
            print("baomi scan：--resume、--summary-html、--dask、--ship-bytes 用于批量模式，"
                  "需要 --format jsonl 和 --output 结果文件", file=sys.stderr)
            return USAGE_ERROR
        if remembered is not None or (args.dask and args.names):
            print("baomi scan：--baseline/--allowlist 不能与 --resume、--summary-html、--dask 同用；"
                  "--names 不能与 --dask 同用", file=sys.stderr)
            return USAGE_ERROR
        kw = dict(resume=args.resume, light=args.light, isolated=args.isolation, list_file=args.list_file,
                  summary_html=args.summary_html, fail_on=args.fail_on, hidden=False)
        if args.dask:
            from .distributed import run_dask
            address = None if args.dask == "local" else args.dask
            summary = run_dask(paths, args.output, address=address, n_workers=args.jobs or None,
                               ship_bytes=args.ship_bytes, **kw)
        else:
            summary = run_batch(paths, args.output, jobs=jobs, names_report=args.names, **kw)
        return summary.exit_code

    policy = None
    if remembered is not None:
        from . import get_scanner
        from .allowlist import apply
        policy = get_scanner(light=args.light, names_report=args.names).policy

    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    decisions: list[str] = []
    errors = 0
    try:
        writer = open_writer(args.format, out, taxonomy=ruleset.taxonomy)

        def add(report: Report) -> None:
            nonlocal errors
            if remembered is not None:
                allow, scope, drop = remembered
                apply(report, allow, scope, policy=policy, drop=drop)
            writer.add(report)
            decisions.append(report.decision)
            errors += bool(report.errors)

        if stdin:
            from . import get_scanner
            add(get_scanner(light=args.light, names_report=args.names).scan_bytes(sys.stdin.buffer.read(),
                                                                                   source="<stdin>"))
        else:
            todo = list(iter_inputs(paths, list_file=args.list_file, hidden=False))
            scan_items(todo, _in_order([it.path for it in todo], lambda rec: add(Report.from_dict(rec))),
                       jobs=jobs, light=args.light, isolated=args.isolation, names_report=args.names,
                       sandbox="worker" if jobs > 1 else "child", with_segments=args.format in ("text", "html"))
        writer.close()
    finally:
        if out is not sys.stdout:
            out.close()
    return exit_code(decisions, errors, args.fail_on)


def _add_plugin_commands(sub) -> None:
    from importlib.metadata import entry_points
    seen: set[str] = set()
    for ep in entry_points(group=COMMANDS_GROUP):
        if ep.value in seen:        # the same distribution seen twice on sys.path
            continue
        seen.add(ep.value)
        try:
            ep.load()(sub)
        except ImportError as exc:   # a plugin whose dependencies are missing: its commands are absent
            print(f"baomi: {ep.name} 的命令无法加载（{type(exc).__name__}: {exc.name or exc}）", file=sys.stderr)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The `baomi` parser; other packages' commands are added unless `command` is "scan"."""
    parser = argparse.ArgumentParser(prog="baomi", description="Baomi 保密审查扫描器（离线）")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_scan_parser(sub)
    add_baseline_parser(sub)
    add_redact_parser(sub)
    if command not in ("scan", "baseline", "redact", "site"):
        # imported only when it may be needed: scanner.archive brings the batch runner, which
        # `baomi scan FILE` does not load at start-up
        from .archive.cli import add_archive_parser
        add_archive_parser(sub)
    add_site_parser(sub)
    if command not in ("scan", "baseline", "redact", "archive", "site"):
        _add_plugin_commands(sub)
    return parser

EX_CONFIG = 78      # sysexits.h: configuration error (never 0: a gate that cannot load its rules stops)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:          # a bad rule, term, policy or setting: say which, no traceback
        print(f"配置错误（规则、词表、策略或环境变量）：{exc}", file=sys.stderr)
        return EX_CONFIG


if __name__ == "__main__":
    sys.exit(main())
