"""`baomi site scan URL`: the 保密检查 of what is already published (see scanner/site/crawl.py).

    baomi site scan https://www.example.gov.cn/ --max-pages 300 --max-depth 3 -o 检查报告.xlsx
    baomi site scan https://www.example.gov.cn/ --since 上次.run.json -o 本次.json     # only new or changed
    baomi site scan https://www.example.gov.cn/ -o 检查报告.xlsx --resume              # continue a run cut short

The report goes to `-o` (.xlsx, .json or .html by its suffix, or --format), a Chinese summary to
standard output. Each run also writes its run file (`--save-run`, default `<report>.run.json`;
a directory gets a time-stamped file), which a later `--since` reads (a file, or a directory: its
newest run). The progress goes to a state file as each resource is scanned (`--state`, default
`<report>.state.jsonl`; URLs, hashes, decisions, never text) — during a long crawl too: what was
fetched is scanned every `--scan-every` seconds (60) — and `--resume` continues a run cut short
from it — what was scanned is neither fetched nor scanned again and keeps its result. Exit codes as `baomi scan`: 0 nothing to do, 1 整改 or 人工核查, 2 下架, 3 some
resource could not be checked and nothing is to be taken down; 64 usage."""
from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

USAGE = 64
FORMATS = ("text", "json", "xlsx", "html")


def add_site_parser(sub) -> None:
    p = sub.add_parser("site", help="保密检查：检查已发布网站的网页与附件 / inspect a published site",
                       description="保密检查：抓取已发布网站的网页及其附件（docx、pdf、xls、图片等），逐一扫描，"
                                   "按网址列出发现和处理建议（下架/整改）。")
    ss = p.add_subparsers(dest="site_command", required=True, metavar="COMMAND")
    s = ss.add_parser("scan", help="检查一个网站", description=p.description)
    s.add_argument("url", help="起始网址（http:// 或 https://）")
    s.add_argument("--max-pages", type=int, default=200, help="最多访问的资源数（网页、附件、图片合计，默认 200）")
    s.add_argument("--max-depth", type=int, default=3, help="从起始页起的最大链接层数（默认 3；已访问网页的附件和图片都会检查）")
    s.add_argument("--same-host", action="store_true", help="只检查与起始网址完全相同的主机（默认包括其子域名）")
    s.add_argument("--allow-host", action="append", default=[], metavar="HOST", help="另外允许访问的主机（可重复）")
    s.add_argument("--since", metavar="RUN", help="上次检查的运行文件（或其所在目录）：只报告新增或已变化的网址")
    s.add_argument("--save-run", metavar="PATH", help="本次运行文件的保存位置（文件或目录；默认：报告文件名 + .run.json）")
    s.add_argument("--state", metavar="FILE", help="进度文件（逐项记录已检查的网址、哈希与结论，不含原文；默认：报告文件名 + .state.jsonl）")
    s.add_argument("--resume", action="store_true", help="从进度文件续查中断的检查：已检查的网址不再抓取和扫描，沿用其结论")
    s.add_argument("--output", "-o", metavar="REPORT", help="报告文件（.xlsx、.json 或 .html）")
    s.add_argument("--format", "-f", choices=FORMATS, help="报告格式（默认按 -o 的扩展名，否则 text）")
    s.add_argument("--delay", type=float, default=1.0, help="两次请求之间的间隔秒数（默认 1；robots.txt 的 Crawl-delay 更长时从之）")
    s.add_argument("--ignore-robots", action="store_true", help="不遵守 robots.txt（仅限本单位网站）")
    s.add_argument("--max-bytes", type=int, default=20, metavar="MB", help="单个文件大小上限（MB，默认 20）")
    s.add_argument("--max-total", type=int, default=500, metavar="MB", help="总下载量上限（MB，默认 500）")
    s.add_argument("--max-time", type=float, default=1800, metavar="S", help="抓取时间上限（秒，默认 1800）")
    s.add_argument("--max-redirects", type=int, default=5, help="重定向次数上限（默认 5）")
    s.add_argument("--timeout", type=float, default=15, metavar="S", help="单次请求超时（秒，默认 15）")
    s.add_argument("--loopback-only", action="store_true", help="只连接本机回环地址（测试与演示用）")
    s.add_argument("--light", action="store_true", help="轻量模式：只用规则和词表，不做图片文字识别")
    s.add_argument("--jobs", "-j", type=int, default=1, help="扫描进程数（抓取始终一次一个请求，默认 1）")
    s.add_argument("--scan-every", type=float, default=60.0, metavar="S",
                   help="抓取期间每隔多少秒扫描已抓取的内容，进度文件随之增长（默认 60；0：每抓取一项即扫描）")
    s.add_argument("--fail-on", choices=["review", "block", "never"], default="review",
                   help="达到该结论时以非零退出（默认 review）")
    s.add_argument("--quiet", "-q", action="store_true", help="不在标准输出打印摘要")
    s.set_defaults(func=run_site_scan)


def _fmt(args) -> str:
    if args.format:
        return args.format
    if args.output:
        suf = Path(args.output).suffix.lower().lstrip(".")
        return {"xlsx": "xlsx", "json": "json", "html": "html", "htm": "html"}.get(suf, "text")
    return "text"


def run_site_scan(args: argparse.Namespace) -> int:
    from .crawl import CrawlOptions, inspect
    from .fetch import normalise
    from .report import build, render_html, render_text, write_json, write_xlsx_report
    from .state import ProgressWriter, load_progress, load_run, run_state, save_run

    if normalise(args.url) is None:
        print("baomi site scan：起始网址必须以 http:// 或 https:// 开头", file=sys.stderr)
        return USAGE
    if args.max_pages < 1 or args.max_depth < 0 or args.delay < 0:
        print("baomi site scan：--max-pages 至少为 1，--max-depth 与 --delay 不能为负", file=sys.stderr)
        return USAGE
    since = None
    if args.since:
        try:
            since = load_run(args.since)
        except (OSError, ValueError) as exc:
            print(f"baomi site scan：无法读取上次的运行文件 {args.since}：{exc}", file=sys.stderr)
            return USAGE
        if since.get("start_url") != normalise(args.url):
            print(f"baomi site scan：注意，上次的检查从 {since.get('start_url')} 开始，本次从 {normalise(args.url)} 开始；"
                  "仍按网址对比。", file=sys.stderr)
    state_path = args.state or (args.output + ".state.jsonl" if args.output else None)
    done = None
    if args.resume:
        if state_path is None:
            print("baomi site scan：--resume 需要 --state 或 -o（进度文件的位置）", file=sys.stderr)
            return USAGE
        try:
            done = load_progress(state_path, normalise(args.url) or "")
        except (OSError, ValueError) as exc:
            print(f"baomi site scan：无法续查，进度文件 {state_path} 不可用：{exc}", file=sys.stderr)
            return USAGE
        print(f"续查：沿用已检查的 {len({e['url'] for e in done.values()})} 项", file=sys.stderr)
    opts = CrawlOptions(max_pages=args.max_pages, max_depth=args.max_depth, same_host=args.same_host,
                        allow_hosts=tuple(args.allow_host), delay_s=args.delay, ignore_robots=args.ignore_robots,
                        max_bytes=args.max_bytes * 1024 * 1024, max_total_bytes=args.max_total * 1024 * 1024,
                        max_time_s=args.max_time, max_redirects=args.max_redirects, timeout_s=args.timeout,
                        loopback_only=args.loopback_only, light=args.light, jobs=args.jobs,
                        scan_every_s=max(0.0, args.scan_every))
    tty = sys.stderr.isatty()

    def progress(ev: dict) -> None:
        if tty:
            msg = (f"抓取 {ev['fetched']}（待访问 {ev['queued']}，已扫描 {ev.get('scanned', 0)}）" if ev["stage"] == "crawl"
                   else f"扫描 {ev['scanned']}/{ev['total']}")
            print(f"\r{msg}\033[K", end="", file=sys.stderr, flush=True)

    writer = ProgressWriter(state_path, normalise(args.url) or "", args.resume) if state_path else None
    try:
        res = inspect(args.url, opts, since=since, progress=progress, done=done, on_scanned=writer)
    finally:
        if writer is not None:
            writer.close()
    if tty:
        print("\r\033[K", end="", file=sys.stderr)
    from ..config import ScanConfig
    from ..rules import Ruleset
    tax = Ruleset.load(ScanConfig.from_env().lexicons).taxonomy
    doc = build(res, tax, args.fail_on)
    fmt = _fmt(args)
    if args.output:
        if fmt == "xlsx":
            write_xlsx_report(doc, args.output)
        elif fmt == "json":
            write_json(doc, args.output)
        elif fmt == "html":
            Path(args.output).write_text(render_html(doc), encoding="utf-8")
        else:
            Path(args.output).write_text(render_text(doc), encoding="utf-8")
    elif fmt != "text":
        print("baomi site scan：xlsx/json/html 报告需要 -o 文件名", file=sys.stderr)
    save = args.save_run or (args.output + ".run.json" if args.output else None)
    if save:
        p = Path(save)
        if p.is_dir() or save.endswith("/"):
            p = p / (datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + ".run.json")
        save_run(run_state(res, since), p)
        doc["run_file"] = str(p)
    if not args.quiet:
        sys.stdout.write(render_text(doc))
        if save:
            print(f"运行文件：{doc['run_file']}（下次用 --since 对比）")
    return int(doc["exit_code"])
