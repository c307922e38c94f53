"""Service settings from the environment (prefix BAOMI_) via pydantic-settings."""
from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from scanner.config import Isolation


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BAOMI_", extra="ignore")

    data_dir: Path = Path("var")
    # the 一事一审 number of a new submission: {prefix}〔{year}〕{seq}号 (service/recordno.py); numbers
    # already given out never change
    record_prefix: str = "保审"
    # SQLAlchemy URL; empty -> SQLite file in data_dir. postgresql://... is mapped to psycopg 3.
    db_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    # request body cap for every route (413 beyond; counted while streaming, so chunked too)
    max_body_bytes: int = 20 << 20
    # seconds allowed to receive a whole request body (slowloris guard) -> 408
    body_timeout_s: float = 20.0
    # slow and idle clients (service.httpproto): a connection that has not sent a complete request
    # head within header_timeout_s of opening (or of its last response) is closed; an idle
    # keep-alive connection is closed after keepalive_s; at most limit_concurrency connections and
    # tasks at once in the whole service (503 beyond; each of the `processes` HTTP processes admits
    # its share, limit_per_process)
    header_timeout_s: float = 10.0
    keepalive_s: float = 5.0
    limit_concurrency: int = 200
    # text scans up to this many characters answer synchronously; longer ones become jobs
    sync_max_chars: int = 50_000
    # uploaded files up to this size answer synchronously on /scan and /gate
    sync_max_file_bytes: int = 1 << 20
    # bounded job queue: queued+running >= this -> 503 with Retry-After
    queue_max: int = 200
    # per-principal cap on its own queued+running jobs -> 429
    queue_max_per_principal: int = 50
    # job worker threads per server process
    workers: int = 2
    # synchronous scans running at once in one server process (/scan, /gate; 0 = the cores left to
    # each server process: cores // processes, at least 1): the others wait their turn in order
    # instead of all sharing one interpreter lock, so a scan takes its own time plus its wait and the
    # slowest requests are not stretched by dozens of concurrent ones (p99 under load)
    scan_concurrency: int = 0
    # HTTP server processes (uvicorn workers; each also runs `workers` job threads; 0 = one per
    # core). Scanning is CPU-bound Python: one process uses one core.
    http_workers: int = 0
    job_lease_s: float = 120.0
    job_max_attempts: int = 3
    # a full disk is temporary: workers claim no job while the data directory has less free space
    # than this, and a job that hit a full disk waits storage_retry_s without its attempt counting
    storage_min_free_bytes: int = 2 << 20
    storage_retry_s: float = 5.0
    # where uploaded files are parsed (BAOMI_ISOLATED): "auto" = every format that needs a parser in
    # the sandboxed child, plain text in process; "always" = every file in the child; "off" = none.
    # true/false/1/0/yes/no/on are read as always/off (scanner.config.Isolation.parse).
    isolated: Isolation = Isolation.AUTO
    light_scanner: bool = False
    # 保密检查 (service.site): hosts an inspection may start from (comma-separated; empty = any host
    # an inspector gives), the cap on resources per run, the least delay between requests, connect
    # only to loopback (tests, demos), the site runner thread and how often it looks for due work
    site_hosts: str = ""
    site_max_pages: int = 2000
    site_min_delay_s: float = 1.0
    site_loopback_only: bool = False
    site_runner: bool = True
    site_poll_s: float = 5.0
    # read pictures and scanned pages (OCR, BAOMI_OCR): unset = on, except with light_scanner, where
    # image content goes to review (extract.ocr_unavailable); true = on even with light_scanner
    ocr: bool | None = None
    # the CMS gate answers fast: the name tagger runs only where personal data is cued (a name alone
    # is low severity and never changes a decision); "all" for the full tagger, "off" for none
    gate_names_scope: str = "cue"
    # encryption key for drafts at rest: BAOMI_ENCRYPTION_KEY (urlsafe base64, 32 bytes) or a file
    encryption_key: str = ""
    encryption_key_file: Path | None = None
    retention_days: float = 90.0
    # browser sessions: absolute lifetime from login, and idle time without a request (both end it)
    session_ttl_s: int = 8 * 3600
    session_idle_s: int = 30 * 60
    cookie_secure: bool = False
    # the audit chain's HMAC key (created at first start, 0600; default DATA_DIR/keys/audit.key) and
    # the append-only file of signed checkpoints of its head (default DATA_DIR/audit-checkpoints.jsonl)
    audit_key_file: Path | None = None
    audit_checkpoint_file: Path | None = None
    # the install secret keying the findings' HMAC fingerprints (issue 16; created at first start,
    # 0600; default DATA_DIR/fingerprint.key, where the scanner looks under BAOMI_DATA_DIR): scans,
    # submissions and the gate use the same key,
    # so remembered verdicts and allowlist entries match across them and only on this install
    fingerprint_key_file: Path | None = None
    # failed logins: free attempts per account and per client address (within login_window_s of
    # the first failure), then each failure doubles the wait from login_backoff_s up to
    # login_backoff_max_s (429 with Retry-After; an admin can lift an account's lock)
    login_free_per_account: int = 5
    login_free_per_address: int = 20
    login_window_s: float = 900.0
    login_backoff_s: float = 2.0
    login_backoff_max_s: float = 900.0
    create_demo_accounts: bool = True

    @field_validator("isolated", mode="before")
    @classmethod
    def _isolation(cls, v: Any) -> Isolation:
        return Isolation.parse(v)

    @property
    def audit_key_path(self) -> Path:
        return self.audit_key_file or self.data_dir / "keys" / "audit.key"

    @property
    def fingerprint_key_path(self) -> Path:
        return self.fingerprint_key_file or self.data_dir / "fingerprint.key"

    @property
    def checkpoint_path(self) -> Path:
        return self.audit_checkpoint_file or self.data_dir / "audit-checkpoints.jsonl"

    @property
    def processes(self) -> int:
        """How many server processes `baomi serve` runs (http_workers; 0 = one per core)."""
        return self.http_workers if self.http_workers > 0 else max(1, os.cpu_count() or 1)

    @property
    def limit_per_process(self) -> int:
        """Each HTTP process's share of limit_concurrency (uvicorn counts per process): the whole
        service never holds more than limit_concurrency connections or tasks. At least 2: uvicorn
        counts the connection asking, so a limit of 1 would refuse every request."""
        return max(2, self.limit_concurrency // self.processes)

    @cached_property
    def resolved_db_url(self) -> str:
        url = self.db_url.strip()
        if not url:
            return f"sqlite:///{(self.data_dir / 'baomi.db').resolve()}"
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            return "postgresql+psycopg://" + url.split("://", 1)[1]
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_db_url.startswith("sqlite")
