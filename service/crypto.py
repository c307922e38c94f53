"""Encryption at rest for drafts, full reports and finding details: AES-256-GCM, key from env, a
file, or generated on first start into <data_dir>/keys/draft.key (mode 0600). The audit chain's
HMAC key: <data_dir>/keys/audit.key (or BAOMI_AUDIT_KEY_FILE), made at first start, mode 0600."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
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


# -- the audit key --------------------------------------------------------------------------------
@dataclass(frozen=True)
class AuditKey:
    """HMAC key of the audit chain, kept outside the database (a copy of the database alone
    cannot be re-chained). keyed_from: the first entry chained with it (entries before it, from
    a database older than the key, are plain SHA-256 and rely on checkpoints)."""
    key: bytes
    keyed_from: int

    def mac(self, label: str, data: str) -> str:
        return hmac.new(self.key, f"{label}\n{data}".encode(), hashlib.sha256).hexdigest()


def load_audit_key(path: Path, next_seq) -> AuditKey:
    """Read the audit key file, or create it (0600, in a 0700 directory) on first start;
    `next_seq()` is the chain's next sequence number, recorded as keyed_from at creation."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        doc = {"v": 1, "key": base64.urlsafe_b64encode(os.urandom(32)).decode(), "keyed_from": int(next_seq())}
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:       # another process of this service made it first
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(json.dumps(doc))
                fh.flush()
                os.fsync(fh.fileno())
    doc = json.loads(path.read_text())
    key = base64.urlsafe_b64decode(doc["key"].encode())
    if len(key) != 32:
        raise ValueError("audit key must be 32 bytes")
    return AuditKey(key, int(doc["keyed_from"]))
