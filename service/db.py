"""Engines and transactions.

SQLite (embedded default): WAL, busy_timeout, foreign keys, synchronous=FULL, and every write
transaction opened with BEGIN IMMEDIATE (a deferred read-then-write transaction fails with
"database is locked" without honouring the busy timeout). Reads use a separate engine with
plain deferred transactions. PostgreSQL: one engine; job claiming uses FOR UPDATE SKIP LOCKED.
"""
from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from collections.abc import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# the newest migration in service/migrations/versions (tests/service/test_storage.py checks it)
HEAD_REVISION = "0007_record_no"


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    eng = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                        pool_size=20, max_overflow=30, pool_timeout=60)

    @event.listens_for(eng, "connect")
    def _on_connect(dbapi_conn, _rec):
        dbapi_conn.isolation_level = None       # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    @event.listens_for(eng, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return eng


class Database:
    def __init__(self, url: str):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            path = url.split("sqlite:///", 1)[1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.write_engine = _sqlite_engine(url, immediate=True)
            self.read_engine = _sqlite_engine(url, immediate=False)
        else:
            self.write_engine = create_engine(url, pool_size=20, max_overflow=30, pool_timeout=60,
                                              pool_pre_ping=True)
            self.read_engine = self.write_engine
        self.audit_key = None       # service.crypto.AuditKey, set by ServiceState.build: the audit chain's HMAC key
        self.cipher = None          # service.crypto.Cipher, set by ServiceState.build: encrypted finding details
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)
        self._write_lock = threading.RLock()
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction (BEGIN IMMEDIATE on SQLite, waiting up to busy_timeout for the
        writer lock), committed on success, rolled back on any error."""
        if self.is_sqlite:
            # one writer at a time is SQLite's model: queue this process's writers on a lock
            # (FIFO-ish) instead of letting them spin in SQLite's busy handler
            with self._write_lock:
                yield from self._write_txn()
        else:
            yield from self._write_txn()

    def _write_txn(self):
        s = self._write()
        s.info["audit_key"], s.info["cipher"] = self.audit_key, self.cipher
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        s = self._read()
        s.info["audit_key"], s.info["cipher"] = self.audit_key, self.cipher
        try:
            yield s
        finally:
            s.rollback()
            s.close()

    def current_revision(self) -> str | None:
        from sqlalchemy import text
        try:
            with self.write_engine.connect() as conn:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:
            return None

    def migrate(self) -> None:
        """Upgrade to the head revision; a database already at HEAD_REVISION skips alembic (start-up time)."""
        if self.current_revision() == HEAD_REVISION:
            return
        import logging
        logging.getLogger("alembic").setLevel(logging.WARNING)
        from alembic import command
        from alembic.config import Config
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["engine"] = self.write_engine
        command.upgrade(cfg, "head")

    def dispose(self) -> None:
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()
