"""Engines and transactions.

SQLite (embedded default): WAL, busy_timeout, foreign keys, synchronous=FULL, and every write
transaction opened with BEGIN IMMEDIATE (a deferred read-then-write transaction fails with
"database is locked" without honouring the busy timeout). Reads use a separate engine with
plain deferred transactions. PostgreSQL: one engine; job claiming uses FOR UPDATE SKIP LOCKED.

Writers of one SQLite file queue on a lock: a thread lock inside the process, and an exclusive
flock on `<db file>.writelock` across the service's processes (`--http-workers`), so a writer
waits in the kernel's queue for its turn instead of in SQLite's busy handler, which sleeps and
retries (up to 100 ms a time, no order: under load some writers starved for seconds). Other
programs on the same file (the CLI) still meet busy_timeout.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path
from collections.abc import Callable, Iterator
from typing import TypeVar

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


T = TypeVar("T")


class _Grouped:
    """One call of Database.write_grouped: its function, outcome, and the event it waits on."""
    __slots__ = ("fn", "result", "exc", "event", "lead")

    def __init__(self, fn):
        self.fn, self.result, self.exc = fn, None, None
        self.event, self.lead = threading.Event(), False


class Database:
    def __init__(self, url: str):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._lock_path: Path | None = None
        if self.is_sqlite:
            path = url.split("sqlite:///", 1)[1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                self._lock_path = Path(path + ".writelock")
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
        self._lock_depth = 0        # nesting of write() in the thread holding _write_lock
        self._group_lock = threading.Lock()     # write_grouped's queue and lead
        self._pending: list[_Grouped] = []
        self._leading = False
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction (BEGIN IMMEDIATE on SQLite, waiting up to busy_timeout for the
        writer lock), committed on success, rolled back on any error."""
        if self.is_sqlite:
            # one writer at a time is SQLite's model: queue this process's writers on a lock
            # (FIFO-ish) instead of letting them spin in SQLite's busy handler
            with self._write_lock, self._file_lock():
                yield from self._write_txn()
        else:
            yield from self._write_txn()

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """The exclusive flock of the SQLite file's writers across processes, taken under
        _write_lock by its outermost holder (a nested write of the same thread already has it)."""
        if self._lock_path is None or self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._lock_depth = 1
            yield
        finally:
            self._lock_depth = 0
            os.close(fd)        # closing the descriptor releases the lock

    def write_grouped(self, fn: Callable[[Session], T]) -> T:
        """fn(session) in a write transaction that concurrent callers share: one commit (one
        fsync, one turn of the writer lock) for every call that queued while the previous group
        was committing. Each call runs in its own SAVEPOINT, in the order the calls arrived, so a
        call that raises has its own work rolled back, raises to its caller alone, and the others
        commit. Returns fn's result only after the commit (an answer given means the rows are
        durable); a failed commit raises to every caller of the group.

        The first caller leads: it takes the writer lock, drains the queue, commits and hands the
        lead to the oldest call that queued meanwhile (so no caller waits on more than the group
        before its own). fn must only write through the session (no commit, no other session)."""
        it = _Grouped(fn)
        with self._group_lock:
            self._pending.append(it)
            if not self._leading:
                self._leading = it.lead = True
        if not it.lead:
            it.event.wait()          # done by a leader, or woken to lead
        if it.lead:
            with self._group_lock:
                batch, self._pending = self._pending, []
            try:
                self._commit_group(batch)
            finally:
                with self._group_lock:
                    if self._pending:
                        nxt = self._pending[0]
                        nxt.lead = True
                        nxt.event.set()
                    else:
                        self._leading = False
        if it.exc is not None:
            raise it.exc
        return it.result

    def _commit_group(self, batch: list[_Grouped]) -> None:
        if len(batch) == 1:
            # alone in its group (the common case at moderate load): the transaction holds only this
            # call's work, so its rollback is the savepoint's; SAVEPOINT and RELEASE cost ~0.5 ms
            it = batch[0]
            try:
                with self.write() as s:
                    it.result = it.fn(s)
            except BaseException as exc:
                it.result, it.exc = None, exc
                if not isinstance(exc, Exception):
                    raise
            finally:
                it.lead = False
                it.event.set()
            return
        try:
            with self.write() as s:
                for it in batch:
                    sp = s.begin_nested()
                    try:
                        it.result = it.fn(s)
                        sp.commit()
                    except Exception as exc:
                        sp.rollback()
                        it.exc = exc
        except BaseException as exc:      # the commit (or the lock) failed: nobody's rows are kept
            for it in batch:
                it.result, it.exc = None, it.exc or exc
            if not isinstance(exc, Exception):
                raise
        finally:
            for it in batch:
                it.lead = False
                it.event.set()

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
