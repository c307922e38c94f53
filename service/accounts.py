"""Accounts: logging in and out (browser sessions), users and roles, API keys. The API routes
(service.routers.auth), the pages (service.web) and the CLI call these functions; every change
is checked against the workflow's permissions table and written to the audit log."""
from __future__ import annotations

import math
import time
from typing import Literal, get_args

from pydantic import BaseModel, Field
from sqlalchemy import func, select

from . import audit
from .errors import err
from .models import ApiKey, LoginThrottle, User, WebSession
from .principal import Principal
from .security import (ROLE_RANK, ROLES, SCOPES, auth_epoch_bump, create_session, end_sessions, hash_password, new_api_key,
                       password_problem, sha256_hex, verify_password)
from .state import ServiceState
from .workflow import check

Role = Literal["author", "reviewer", "approver", "admin", "inspector"]
Scope = Literal["scan", "gate", "submit", "review", "approve", "admin", "inspect"]
assert get_args(Role) == ROLES and get_args(Scope) == SCOPES    # the request models accept exactly these


# -- sessions ----------------------------------------------------------------------------------------
def _throttle_keys(st: ServiceState, username: str, ip: str) -> list[tuple[str, int]]:
    """(key, free attempts): the account (a keyed hash of the name as typed: unknown names are
    counted too, and no name is kept in clear) and the client address."""
    return [("u:" + name_mac(st, username)[:40], st.settings.login_free_per_account),
            ("ip:" + (ip or "-")[:64], st.settings.login_free_per_address)]


def name_mac(st: ServiceState, username: str) -> str:
    """A keyed hash (the audit key) of a typed user name: what the audit log and the throttle keep
    of a name that is no account (it may be a password typed into the wrong box)."""
    return st.db.audit_key.mac("login-name", username.strip().casefold())


def _retry_after(s, keys: list[tuple[str, int]], t: float) -> float:
    rows = [s.get(LoginThrottle, k) for k, _ in keys]
    return max([r.locked_until - t for r in rows if r is not None] + [0.0])


def _count_failure(s, st: ServiceState, key: str, free: int, t: float) -> tuple[LoginThrottle, bool]:
    """One more failure on `key` -> (row, a new wait was imposed). Failures older than the window
    (and no wait running) start over; beyond `free` each failure doubles the wait."""
    row = s.get(LoginThrottle, key)
    if row is None:
        row = LoginThrottle(key=key, failures=0, first_failure=t, last_failure=t, locked_until=0.0)
        s.add(row)
    elif t - row.first_failure > st.settings.login_window_s and row.locked_until <= t:
        row.failures, row.first_failure = 0, t
    row.failures += 1
    row.last_failure = t
    if row.failures > free:
        wait = min(st.settings.login_backoff_s * 2 ** (row.failures - free - 1), st.settings.login_backoff_max_s)
        row.locked_until = t + wait
        return row, True
    return row, False


def login(st: ServiceState, username: str, password: str, ip: str) -> tuple[str, str, User]:
    """-> (cookie token, csrf token, user); 401 invalid_credentials; 429 too_many_attempts with
    Retry-After while the account or the address waits (checked before the password: no argon2
    work, no audit row). Failures are audited up to the free attempts and whenever a wait starts
    (so a flood adds a bounded number of rows); an unknown name is kept as a keyed hash only."""
    if "\x00" in username or "\x00" in password:
        raise err(400, "nul_byte", "用户名或密码中含有非法字符（NUL）。")
    t = time.time()
    keys = _throttle_keys(st, username, ip)
    with st.db.write() as s:
        wait = _retry_after(s, keys, t)
    if wait > 0:
        raise err(429, "too_many_attempts", f"登录失败次数过多，请 {math.ceil(wait)} 秒后再试；账号被锁定时可请管理员解除。",
                  headers={"Retry-After": str(math.ceil(wait))}, retry_after=math.ceil(wait))
    with st.db.write() as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
        ok = verify_password(user.password_hash if user else None, password)
        if not ok or not user.active:
            (acct, acct_locked), (_, ip_locked) = [_count_failure(s, st, k, free, t) for k, free in keys]
            known = user is not None
            actor = audit.Actor(user.id if known else None,
                                username[:64] if known else "unknown#" + name_mac(st, username)[:16],
                                user.role if known else "", ip)
            if acct.failures <= keys[0][1] or acct_locked or ip_locked:
                audit.append(s, actor, "auth.login_throttled" if acct_locked or ip_locked else "auth.login_failed",
                             "user", str(user.id) if known else "",
                             after={"failures": acct.failures, "account_wait": acct_locked, "address_wait": ip_locked})
            s.commit()
            raise err(401, "invalid_credentials", "用户名或密码错误。")
        row = s.get(LoginThrottle, keys[0][0])
        if row is not None:
            s.delete(row)
        token, row = create_session(s, user, st.settings.session_ttl_s)
        audit.append(s, audit.Actor(user.id, user.username, user.role, ip), "auth.login", "user", str(user.id))
        return token, row.csrf_token, user


def unlock(st: ServiceState, p: Principal, user_id: int) -> dict:
    """An admin lifts the login wait of an account."""
    check(p, "admin")
    with st.db.write() as s:
        u = s.get(User, user_id)
        if u is None:
            raise err(404, "user_not_found", "用户不存在。")
        row = s.get(LoginThrottle, "u:" + name_mac(st, u.username)[:40])
        was = bool(row and row.locked_until > time.time())
        if row is not None:
            s.delete(row)
        audit.append(s, p.actor, "user.unlocked", "user", str(u.id), after={"was_locked": was})
        return {"id": u.id, "was_locked": was}


def locked_until(st: ServiceState, s, u: User) -> float | None:
    row = s.get(LoginThrottle, "u:" + name_mac(st, u.username)[:40])
    return row.locked_until if row is not None and row.locked_until > time.time() else None


def logout(st: ServiceState, p: Principal, token: str | None) -> None:
    """End the session of cookie `token` (if any); the logout is on record."""
    with st.db.write() as s:
        if token:
            row = s.get(WebSession, sha256_hex(token))
            if row:
                s.delete(row)
        audit.append(s, p.actor, "auth.logout", "user", str(p.user_id))


# -- users ----------------------------------------------------------------------------------------
class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    display_name: str = Field("", max_length=64)
    role: Role
    password: str = Field(min_length=1, max_length=256, description="至少 12 个字符，不含用户名，不是常见密码")


class UserPatch(BaseModel):
    role: Role | None = None
    active: bool | None = None
    password: str | None = Field(None, min_length=1, max_length=256)


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    locked_until: float | None = Field(None, description="登录等待到（失败次数过多）/ login wait until")


def _user_out(u: User, locked: float | None = None) -> UserOut:
    return UserOut(id=u.id, username=u.username, display_name=u.display_name, role=u.role, active=u.active,
                   locked_until=locked)


def check_password(pw: str, username: str, display_name: str = "") -> None:
    """422 weak_password with the reason (service.security.password_problem)."""
    why = password_problem(pw, username, display_name)
    if why:
        raise err(422, "weak_password", why)


def list_users(st: ServiceState, p: Principal) -> list[UserOut]:
    check(p, "admin")
    with st.db.read() as s:
        return [_user_out(u, locked_until(st, s, u)) for u in s.execute(select(User).order_by(User.id)).scalars()]


def create_user(st: ServiceState, p: Principal, body: UserIn) -> UserOut:
    check(p, "admin")
    check_password(body.password, body.username, body.display_name)
    with st.db.write() as s:
        if s.execute(select(User).where(User.username == body.username)).first():
            raise err(409, "username_taken", "用户名已存在。")
        u = User(username=body.username, display_name=body.display_name or body.username,
                 role=body.role, password_hash=hash_password(body.password))
        s.add(u)
        s.flush()
        audit.append(s, p.actor, "user.created", "user", str(u.id), after={"username": u.username, "role": u.role})
        return _user_out(u)


def patch_user(st: ServiceState, p: Principal, user_id: int, body: UserPatch) -> UserOut:
    check(p, "admin")
    with st.db.write() as s:
        u = s.get(User, user_id)
        if u is None:
            raise err(404, "user_not_found", "用户不存在。")
        before = {"role": u.role, "active": u.active}
        if body.password is not None:
            check_password(body.password, u.username, u.display_name)
        demoted = body.role is not None and ROLE_RANK[body.role] < ROLE_RANK[u.role]
        if u.role == "admin" and u.active and (demoted or body.active is False):
            others = s.execute(select(func.count()).select_from(User).where(
                User.role == "admin", User.active.is_(True), User.id != u.id)).scalar_one()
            if not others:
                raise err(409, "last_admin", "这是最后一个启用的管理员账号，不能停用或降级；请先设置另一名管理员。")
        if body.role is not None:
            u.role = body.role
        if body.active is not None:
            u.active = body.active
        if body.password is not None:
            u.password_hash = hash_password(body.password)
        # a new password, a lower role or a deactivation ends every session of the user
        ended = end_sessions(s, u.id) if (body.password is not None or demoted or body.active is False) else 0
        audit.append(s, p.actor, "user.updated", "user", str(u.id), before=before,
                     after={"role": u.role, "active": u.active, "password_reset": body.password is not None,
                            "sessions_ended": ended})
        out = _user_out(u)
    auth_epoch_bump(st.settings.data_dir)         # committed: cached API-key checks of the user are stale
    return out


# -- API keys -------------------------------------------------------------------------------------
class KeyIn(BaseModel):
    user_id: int = Field(description="密钥代表的用户 / the user the key acts as")
    name: str = Field("", max_length=100, description="用途说明，如“门户网站 CMS” / label")
    scopes: list[Scope] = Field(default_factory=lambda: ["scan", "gate"])


class KeyOut(BaseModel):
    id: int
    user_id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: float
    revoked_at: float | None = None
    key: str | None = Field(None, description="完整密钥，仅在创建时返回一次 / full key, shown once")


def _key_out(k: ApiKey, full: str | None = None) -> KeyOut:
    return KeyOut(id=k.id, user_id=k.user_id, name=k.name, prefix=k.prefix,
                  scopes=[x for x in k.scopes.split(",") if x], created_at=k.created_at,
                  revoked_at=k.revoked_at, key=full)


def make_key(s, actor: audit.Actor, user_id: int, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """Inside a write transaction: a new key for `user_id` -> (row, the full key, shown once)."""
    full, prefix, h = new_api_key()
    k = ApiKey(user_id=user_id, name=name, prefix=prefix, secret_hash=h,
               scopes=",".join(sorted(set(scopes) & set(SCOPES))))
    s.add(k)
    s.flush()
    audit.append(s, actor, "apikey.created", "api_key", str(k.id),
                 after={"user_id": user_id, "scopes": k.scopes, "prefix": prefix})
    return k, full


def create_key(st: ServiceState, p: Principal, body: KeyIn) -> KeyOut:
    check(p, "admin")
    with st.db.write() as s:
        if s.get(User, body.user_id) is None:
            raise err(404, "user_not_found", "用户不存在。")
        k, full = make_key(s, p.actor, body.user_id, body.name, list(body.scopes))
        return _key_out(k, full)


def list_keys(st: ServiceState, p: Principal) -> list[KeyOut]:
    check(p, "admin")
    with st.db.read() as s:
        return [_key_out(k) for k in s.execute(select(ApiKey).order_by(ApiKey.id)).scalars()]


def revoke_key(st: ServiceState, p: Principal, key_id: int) -> KeyOut:
    check(p, "admin")
    with st.db.write() as s:
        k = s.get(ApiKey, key_id)
        if k is None:
            raise err(404, "api_key_not_found", "密钥不存在。")
        if k.revoked_at is None:
            k.revoked_at = time.time()
            audit.append(s, p.actor, "apikey.revoked", "api_key", str(k.id))
        out = _key_out(k)
    auth_epoch_bump(st.settings.data_dir)         # committed: no process's cached check of it stands
    return out
