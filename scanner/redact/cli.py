"""`baomi redact FILE -o OUT [--categories pii. secret. ...] [--mask block|keep-ends]`.

Scans FILE, writes the redacted copy in the same format to OUT, re-scans OUT and says what is
left. Exit codes:
  0  copy written, the re-scan finds nothing of the redacted categories;
  1  copy written, but the re-scan still finds some (or some finding could not be placed): do
     not publish it as it is;
  3  FILE could not be read or its format has no redacted copy (nothing written);
  64 usage error.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import MODES, RedactError, redact_bytes, remaining
from .ops import DEFAULT_PREFIXES

EXIT_CLEAN, EXIT_LEFT, EXIT_UNREADABLE, EXIT_USAGE = 0, 1, 3, 64


def add_redact_parser(sub) -> None:
    p = sub.add_parser("redact", help="生成脱敏副本（保持原格式：docx、xlsx、pptx、txt、pdf）",
                       description="扫描文件，按发现生成原格式的脱敏副本，并对副本重新扫描。")
    p.add_argument("path", help="待脱敏的文件")
    p.add_argument("--output", "-o", required=True, help="脱敏副本的路径")
    p.add_argument("--categories", nargs="+", default=None, metavar="CATEGORY",
                   help="要脱敏的类别或前缀（默认：" + " ".join(DEFAULT_PREFIXES) + "；密级标志总是删除）")
    p.add_argument("--mask", choices=MODES, default="block",
                   help="遮盖方式：block = 每个字符换成 ■（默认）；keep-ends = 139****2468、某某")
    p.add_argument("--light", action="store_true", help="轻量模式：不加载模型、不做文字识别")
    p.set_defaults(func=run_redact)


def run_redact(args: argparse.Namespace) -> int:
    from .. import get_scanner
    src = Path(args.path)
    if not src.is_file():
        print(f"baomi redact：找不到文件 {src}", file=sys.stderr)
        return EXIT_USAGE
    if os.path.abspath(args.output) == os.path.abspath(src):
        print("baomi redact：副本路径不能与原文件相同", file=sys.stderr)
        return EXIT_USAGE
    scanner = get_scanner(light=args.light)
    data = src.read_bytes()
    report = scanner.scan_bytes(data, source=src.name, isolated=True)
    unreadable = [e for e in report.errors if e.code.startswith("extract.") and not report.segments]
    if unreadable:
        print(f"baomi redact：无法读取 {src.name}：{unreadable[0].message}", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        red = redact_bytes(data, report, categories=args.categories, mode=args.mask)
    except RedactError as exc:
        print(f"baomi redact：{exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    except Exception as exc:   # a part the redactor cannot rewrite: nothing is written
        print(f"baomi redact：无法生成脱敏副本（{type(exc).__name__}）", file=sys.stderr)
        return EXIT_UNREADABLE
    Path(args.output).write_bytes(red.data)
    again = scanner.scan_bytes(red.data, source=Path(args.output).name, isolated=True)
    left = remaining(again, args.categories)
    print(f"已写出脱敏副本 {args.output}：处理 {red.count} 处（{'、'.join(red.categories) or '无'}）")
    if left or red.unplaced:
        print(f"注意：副本重新扫描仍有 {len(left)} 处所选类别的发现，{red.unplaced} 处未能定位；"
              "请人工处理后再发布。", file=sys.stderr)
        return EXIT_LEFT
    print("副本重新扫描：所选类别无发现。")
    return EXIT_CLEAN
