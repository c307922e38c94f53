"""Encryption at rest for drafts and full reports: AES-256-GCM, key from env, a file, or
generated on first start into <data_dir>/keys/draft.key (mode 0600)."""
from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"BMK1"


def load_key(env_value: str, key_file: Path | None, data_dir: Path) -> bytes:
    if env_value:
        key = base64.urlsafe_b64decode(env_value.encode() + b"=" * (-len(env_value) % 4))
    else:
        path = key_file or (data_dir / "keys" / "draft.key")
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)))
                fh.flush()
                os.fsync(fh.fileno())
        raw = path.read_bytes().strip()
        key = base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
    if len(key) != 32:
        raise ValueError("encryption key must be 32 bytes (urlsafe base64)")
    return key


class Cipher:
    def __init__(self, key: bytes):
        self._aead = AESGCM(key)

    def encrypt(self, data: bytes, aad: bytes = b"") -> bytes:
        nonce = os.urandom(12)
        return MAGIC + nonce + self._aead.encrypt(nonce, data, aad)

    def decrypt(self, blob: bytes, aad: bytes = b"") -> bytes:
        if not blob.startswith(MAGIC):
            raise ValueError("not an encrypted blob")
        return self._aead.decrypt(blob[4:16], blob[16:], aad)
