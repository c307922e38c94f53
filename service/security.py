"""Passwords (argon2id), API keys (shown once, stored as sha256 of a 256-bit secret, scoped),
browser sessions (random cookie token stored hashed) with a per-session CSRF token."""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import ApiKey, User, WebSession

ROLES = ("author", "reviewer", "approver", "admin", "inspector")
STAFF = ("reviewer", "approver", "admin")          # roles that see every submission, not only their own
SCOPES = ("scan", "gate", "submit", "review", "approve", "admin", "inspect")
ROLE_SCOPES = {
    "author": {"scan", "submit"},
    "reviewer": {"scan", "review"},
    "approver": {"scan", "review", "approve", "gate"},
    "admin": set(SCOPES),
    "inspector": {"scan", "inspect"},        # 保密检查: inspections of the published site (service.site)
}
SESSION_COOKIE = "baomi_session"
CSRF_HEADER = "X-CSRF-Token"

_ph = PasswordHasher()
_DUMMY: str | None = None    # a hash to verify against for unknown users (same timing); made lazily


def _dummy() -> str:
    global _DUMMY
    if _DUMMY is None:
        _DUMMY = _ph.hash("dummy-password-for-timing")
    return _DUMMY


def use_fast_hasher_for_tests() -> None:
    """Cheap argon2 parameters (tests only: the shared CI machine has 2 cores). Verification
    reads the parameters from each stored hash, so both kinds verify."""
    global _ph, _DUMMY
    _ph = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    _DUMMY = None


def hash_password(pw: str) -> str:
    return _ph.hash(pw)


def verify_password(stored: str | None, pw: str) -> bool:
    try:
        return _ph.verify(stored or _dummy(), pw) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


PASSWORD_MIN = 12
ROLE_RANK = {"author": 0, "inspector": 1, "reviewer": 1, "approver": 2, "admin": 3}   # a move down ends the user's sessions


def password_problem(pw: str, username: str, display_name: str = "") -> str | None:
    """Why `pw` is not acceptable (Chinese, for the person), or None: at least PASSWORD_MIN
    characters, not the user name (nor containing it), and not guessable by zxcvbn (score < 3:
    common passwords, keyboard runs, repeats, dates, words with substitutions, the user's names)."""
    if len(pw) < PASSWORD_MIN:
        return f"密码至少 {PASSWORD_MIN} 个字符。"
    name = (username or "").casefold()
    if name and (pw.casefold() == name or (len(name) >= 3 and name in pw.casefold())):
        return "密码不能与用户名相同或包含用户名。"
    from zxcvbn import zxcvbn
    if zxcvbn(pw[:100], user_inputs=[x for x in (username, display_name) if x])["score"] < 3:
        return "密码过于常见或容易猜测（如常用密码、连续或重复字符、日期、单词），请换一个更长、更不规则的密码。"
    return None


def sha256_hex(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def new_api_key() -> tuple[str, str, str]:
    """-> (full key shown once, prefix, secret hash)."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"bm_{prefix}_{secret}", prefix, sha256_hex(secret)


def lookup_api_key(s: Session, presented: str) -> ApiKey | None:
    parts = presented.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != "bm":
        return None
    key = s.execute(select(ApiKey).where(ApiKey.prefix == parts[1])).scalar_one_or_none()
    if key is None or not hmac.compare_digest(key.secret_hash, sha256_hex(parts[2])):
        return None
    return key


# -- the API-key cache's epoch ---------------------------------------------------------------------
AUTH_EPOCH_FILE = "auth-epoch"


def auth_epoch(data_dir: Path) -> str:
    """The data directory's credential epoch: a random token rewritten (auth_epoch_bump) after
    every commit that revokes a key or changes a user's role or status, by any process of this
    install (server processes, `baomi apikey revoke`). "" before the first change."""
    try:
        return (data_dir / AUTH_EPOCH_FILE).read_text()
    except FileNotFoundError:
        return ""


def auth_epoch_bump(data_dir: Path) -> None:
    """A new epoch (atomic rename): every cached API-key check of every process is stale at once."""
    tmp = data_dir / f"{AUTH_EPOCH_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(16))
    os.replace(tmp, data_dir / AUTH_EPOCH_FILE)


def create_session(s: Session, user: User, ttl_s: int) -> tuple[str, WebSession]:
    """-> (cookie token, row). The row's csrf_token goes into pages/forms and the X-CSRF-Token header."""
    token = secrets.token_urlsafe(32)
    t = time.time()
    row = WebSession(id=sha256_hex(token), user_id=user.id, csrf_token=secrets.token_urlsafe(24),
                     expires_at=t + ttl_s, last_seen_at=t)
    s.add(row)
    return token, row


def end_sessions(s: Session, user_id: int) -> int:
    """Delete every session of a user (password changed, role lowered, deactivated) -> how many."""
    from sqlalchemy import delete
    return s.execute(delete(WebSession).where(WebSession.user_id == user_id)).rowcount or 0


def csrf_ok(expected: str | None, presented: str | None) -> bool:
    return bool(expected) and bool(presented) and hmac.compare_digest(expected, presented)


if os.environ.get("BAOMI_ARGON2_FAST") == "1":     # test servers only (see use_fast_hasher_for_tests)
    use_fast_hasher_for_tests()
