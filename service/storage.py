"""Durable, encrypted blob store for uploaded drafts.

Write-ahead protocol: encrypt, write data/tmp/<uuid>.part (0600), fsync,
rename to data/blobs/<uuid>, fsync the directory; only then is a row committed and the upload
acknowledged. File names are UUIDs: nothing of the user's file name reaches the file system.
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
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise StorageFull() from None
            raise

    def _put(self, data: bytes) -> str:
        blob_id = str(uuid.uuid4())
        part = self.tmp / f"{blob_id}.part"
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
        n = 0
        cutoff = time.time() - older_than_s
        for p in [*self.tmp.glob("*.part"), *self.tmp.glob("*.work")]:
            try:
                if p.stat().st_mtime <= cutoff:
                    p.unlink()
                    n += 1
            except FileNotFoundError:
                pass
        return n

    def list_ids(self) -> set[str]:
        return {p.name for p in self.blobs.iterdir() if p.is_file()}


def _safe(blob_id: str) -> str:
    return str(uuid.UUID(blob_id))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
