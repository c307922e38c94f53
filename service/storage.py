"""Durable, encrypted blob store for uploaded drafts.

Write-ahead protocol: encrypt, write data/tmp/<uuid>.<pid>.part (0600), fsync,
rename to data/blobs/<uuid>, fsync the directory; only then is a row committed and the upload
acknowledged. File names are UUIDs (and the writer's process id for temporary files): nothing of
the user's file name reaches the file system.
"""
from __future__ import annotations

import errno
import os
import time
import uuid
from pathlib import Path

from .crypto import Cipher
from .faults import fault


class StorageFull(Exception):
    pass


FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def disk_full(exc: BaseException) -> bool:
    """Is `exc` the storage running out (temporary: 507 / retry later), not a bug? A full disk
    or quota on a file (ENOSPC, EDQUOT, EFBIG), SQLite's "database or disk is full", PostgreSQL's
    disk_full (SQLSTATE 53100)."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, StorageFull):
            return True
        if isinstance(exc, OSError) and exc.errno in FULL_ERRNOS:
            return True
        if "database or disk is full" in str(exc) or getattr(exc, "sqlstate", None) == "53100" \
                or getattr(exc, "pgcode", None) == "53100":
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
        seen += 1
    return False


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


class BlobStore:
    def __init__(self, data_dir: Path, cipher: Cipher):
        self.tmp = data_dir / "tmp"
        self.blobs = data_dir / "blobs"
        for d in (self.tmp, self.blobs):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.cipher = cipher

    def put(self, data: bytes) -> str:
        """-> blob id. A full disk (ENOSPC, EDQUOT, EFBIG) raises StorageFull; nothing is left."""
        try:
            return self._put(data)
        except OSError as exc:
            if exc.errno in FULL_ERRNOS:
                raise StorageFull() from None
            raise

    def _put(self, data: bytes) -> str:
        blob_id = str(uuid.uuid4())
        part = self.tmp / tmp_name(blob_id, "part")
        enc = self.cipher.encrypt(data, aad=blob_id.encode())
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(enc)
                fh.flush()
                os.fsync(fh.fileno())
            fault("after_tmp_write")
            os.replace(part, self.blobs / blob_id)
            _fsync_dir(self.blobs)
            fault("after_rename")
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        return blob_id

    def get(self, blob_id: str) -> bytes:
        return self.cipher.decrypt((self.blobs / _safe(blob_id)).read_bytes(), aad=blob_id.encode())

    def exists(self, blob_id: str) -> bool:
        return (self.blobs / _safe(blob_id)).exists()

    def delete(self, blob_id: str) -> None:
        (self.blobs / _safe(blob_id)).unlink(missing_ok=True)

    def sweep_tmp(self, older_than_s: float = 0.0) -> int:
        """Remove temporary files (.part, .work) left by a process that is gone: a server process
        starting next to live siblings (`--http-workers`, one restarted after a crash) must not
        delete the files they are writing. A file of a live process is kept unless it is a day
        old (a process id reused after a reboot)."""
        n = 0
        t = time.time()
        cutoff = t - older_than_s
        for p in [*self.tmp.glob("*.part"), *self.tmp.glob("*.work")]:
            try:
                mtime = p.stat().st_mtime
                if mtime <= cutoff and (not _writer_alive(p.name) or mtime < t - 86400):
                    p.unlink()
                    n += 1
            except FileNotFoundError:
                pass
        return n

    def list_ids(self) -> set[str]:
        return {p.name for p in self.blobs.iterdir() if p.is_file()}


def tmp_name(file_id: str, kind: str) -> str:
    """The name of a temporary file in data/tmp: <uuid>.<writer's pid>.<kind> (part, work)."""
    return f"{file_id}.{os.getpid()}.{kind}"


def _writer_alive(name: str) -> bool:
    """Is the process that wrote temporary file `name` (tmp_name) another live process? A name
    without a process id (written before it was in the name) has no live writer."""
    parts = name.split(".")
    pid = int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else 0
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:     # alive, under another user
        return True
    return True


def _safe(blob_id: str) -> str:
    return str(uuid.UUID(blob_id))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
