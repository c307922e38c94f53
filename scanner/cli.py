"""`baomi` command line: scan (files, directories), serve, audit, train.

Exit codes for a publishing gate: 0 pass, 1 review, 2 block, 3 could not scan (see --fail-on).
"""
from __future__ import annotations

import argparse
import sys


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
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
