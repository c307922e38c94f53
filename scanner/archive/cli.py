"""`baomi archive scan DIR|ZIP [--catalog 目录.xlsx|.csv] -o RESULT.xlsx`: the archive review register.

Exit codes: 0 done (the register says what each item is), 3 some item could not be read completely
(its row says 待人工确定: fail closed), 64 usage, 78 a rule file is invalid (scanner.cli)."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys

USAGE_ERROR = 64
COULD_NOT_SCAN = 3


def add_archive_parser(sub) -> None:
    p = sub.add_parser("archive", help="档案保密审查 / archive review",
                       description="档案保密审查：逐件给出保密属性、开放建议与保密期限判断，输出登记表（xlsx）。")
    asub = p.add_subparsers(dest="archive_command", required=True, metavar="ACTION")
    s = asub.add_parser("scan", help="扫描档案目录或 ZIP，写出审查登记表",
                        description="扫描档案目录或 ZIP 中的每个文件（需要时做图片文字识别），结合目录（档号、题名、形成日期、"
                                    "保管期限）给出建议保密属性、密级、保密期限到期情况和开放建议。")
    s.add_argument("source", help="档案目录或 ZIP 文件")
    s.add_argument("--catalog", "-c", help="档案目录（目录.xlsx 或 .csv，含 档号、题名、形成日期、保管期限 列）")
    s.add_argument("--output", "-o", required=True, help="结果登记表 RESULT.xlsx")
    s.add_argument("--jobs", "-j", type=int, default=0, help="进程数（默认全部核心）")
    s.add_argument("--no-resume", action="store_true", help="不续扫：重新扫描全部文件")
    s.add_argument("--light", action="store_true", help="轻量模式：不加载模型、不做图片文字识别")
    s.add_argument("--dask", metavar="ADDRESS", help="在 Dask 集群上扫描（tcp://调度器:8786，或 local 启动本机集群）")
    s.add_argument("--as-of", help="审查基准日 YYYY-MM-DD（默认今天），用于判断保密期限是否届满、是否满25年")
    s.add_argument("--progress", action="store_true", default=None, help="显示进度（终端中默认显示）")
    s.set_defaults(func=run_archive_scan)


def run_archive_scan(args: argparse.Namespace) -> int:
    from . import run_archive
    if not os.path.exists(args.source):
        print(f"baomi archive scan：找不到 {args.source}", file=sys.stderr)
        return USAGE_ERROR
    if args.catalog and not os.path.isfile(args.catalog):
        print(f"baomi archive scan：找不到目录文件 {args.catalog}", file=sys.stderr)
        return USAGE_ERROR
    try:
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else None
    except ValueError:
        print("baomi archive scan：--as-of 应为 YYYY-MM-DD", file=sys.stderr)
        return USAGE_ERROR
    try:
        res = run_archive(args.source, args.output, catalog=args.catalog, jobs=args.jobs or None,
                          resume=not args.no_resume, light=args.light, dask=args.dask,
                          n_workers=args.jobs or None, as_of=as_of, progress=args.progress)
    except ValueError as exc:          # an unreadable catalogue: say so, no traceback
        print(f"baomi archive scan：{exc}", file=sys.stderr)
        return USAGE_ERROR
    t = res.totals
    print(f"档案 {t.items} 件：" + "，".join(f"{k} {v}" for k, v in sorted(t.attribute.items()))
          + f"；开放审核候选 {t.opening_review}；登记表 {res.xlsx}", file=sys.stderr)
    return COULD_NOT_SCAN if t.errors else 0
