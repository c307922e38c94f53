"""保密检查 (inspection of what is already published): a polite, bounded crawler of a site's pages
and attachments, each scanned by the scanner in its sandboxed batch pool, reported per URL with a
take-down suggestion, and compared with a previous run.

- fetch.py: the HTTP client (http.client; scope and address checks before every hop, limits);
- links.py: title and links of an HTML page;
- crawl.py: the run (crawl -> scan -> compare), `inspect()`;
- state.py: the run file `--since` reads (URLs, hashes, decisions; never text);
- report.py: the report (JSON, xlsx, HTML, text) with stable codes;
- cli.py: `baomi site scan URL`.
"""
from __future__ import annotations

from .crawl import CrawlOptions, CrawlResult, inspect
from .report import build
from .state import load_run, run_state, save_run

__all__ = ["CrawlOptions", "CrawlResult", "inspect", "build", "load_run", "run_state", "save_run"]
