"""Keyed fingerprints (issue 16): a finding's fingerprint is HMAC-SHA256 over its rule and its
normalised matched text, keyed with an install secret, so a short value (a mobile number: 1e8
candidates) cannot be recovered from a fingerprint without the key. For the same key the
fingerprint is stable across versions: the input is exactly `rule_id \\0 text without white space`
and the output the first 32 hex digits.

The key is a file of 64 hex digits, created on first use with mode 0600:
    $BAOMI_FINGERPRINT_KEY_FILE, else $BAOMI_DATA_DIR/fingerprint.key (the service's data directory),
    else ~/.config/baomi/fingerprint.key (the command line's default).
Reports carry `fingerprint_key_id` (a hash of the key, not the key) so fingerprints made with
different keys are never compared by mistake.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

FINGERPRINT_HEX = 32


def normalised(text: str) -> str:
    return "".join(text.split())


def fingerprint(key: bytes, rule_id: str, text: str) -> str:
    msg = f"{rule_id}\x00{normalised(text)}".encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()[:FINGERPRINT_HEX]


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"baomi-fingerprint-key\x00" + key).hexdigest()[:12]


def default_key_path() -> Path:
    explicit = os.environ.get("BAOMI_FINGERPRINT_KEY_FILE")
    if explicit:
        return Path(explicit)
    data_dir = os.environ.get("BAOMI_DATA_DIR")
    if data_dir:
        return Path(data_dir) / "fingerprint.key"
    return Path.home() / ".config" / "baomi" / "fingerprint.key"


def load_or_create_key(path: str | os.PathLike | None = None) -> bytes:
    """The install secret at `path` (default: default_key_path()), created on first use."""
    p = Path(path) if path else default_key_path()
    try:
        return _read(p)
    except FileNotFoundError:
        pass
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    try:
        os.link(tmp, p)          # atomic: a concurrent first use keeps whichever key landed first
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return _read(p)


def _read(p: Path) -> bytes:
    raw = p.read_text(encoding="ascii").strip()
    key = bytes.fromhex(raw)
    if len(key) < 16:
        raise ValueError(f"fingerprint key in {p} is too short (need at least 32 hex digits)")
    return key
