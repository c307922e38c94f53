"""`baomi` command line: scan (files, directories), serve, audit, train.

Exit codes for a publishing gate: 0 pass, 1 review, 2 block, 3 could not scan (see --fail-on);
78 a rule, term, policy or setting is invalid (the message names the file, rule and field).
"""
from __future__ import annotations

import argparse
import sys

from .errors import ConfigError

EX_CONFIG = 78      # sysexits.h: configuration error (never 0: a gate that cannot load its rules stops)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("serve", "audit", "worker", "user", "apikey", "purge"):
        # service subcommands live with the service (issue: the service)
        from service.cli import main as service_main
        return service_main(argv) or 0
    parser = argparse.ArgumentParser(prog="baomi", description="Baomi 保密审查扫描器（离线）")
    sub = parser.add_subparsers(dest="command", required=True)
    from .scan_cli import add_scan_parser
    add_scan_parser(sub)
    from .baseline import add_baseline_parser
    add_baseline_parser(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:          # a bad rule, term, policy or setting: say which, no traceback
        print(f"配置错误（规则、词表、策略或环境变量）：{exc}", file=sys.stderr)
        return EX_CONFIG


if __name__ == "__main__":
    sys.exit(main())
