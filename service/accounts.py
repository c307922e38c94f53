"""Accounts: logging in and out (browser sessions), users and roles, API keys. The API routes
(service.routers.auth), the pages (service.web) and the CLI call these functions; every change
is checked against the workflow's permissions table and written to the audit log."""
from __future__ import annotations

import time
from typing import Literal, get_args

from pydantic import BaseModel, Field
from sqlalchemy import select

from . import audit
from .errors import err
from .models import ApiKey, User, WebSession
from .principal import Principal
from .security import ROLES, SCOPES, create_session, hash_password, new_api_key, sha256_hex, verify_password
from .state import ServiceState
from .workflow import check

Role = Literal["author", "reviewer", "approver", "admin"]
Scope = Literal["scan", "gate", "submit", "review", "approve", "admin"]
assert get_args(Role) == ROLES and get_args(Scope) == SCOPES    # the request models accept exactly these


# -- sessions -------------------------------------------------------------------------------------
def login(st: ServiceState, username: str, password: str, ip: str) -> tuple[str, str, User]:
    """-> (cookie token, csrf token, user), or 401 invalid_credentials (audited)."""
    with st.db.write() as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
        ok = verify_password(user.password_hash if user else None, password)
        if not ok or not user.active:
            audit.append(s, audit.Actor(user.id if user else None, username[:64], user.role if user else "", ip),
                         "auth.login_failed", "user", str(user.id) if user else "")
            s.commit()
            raise err(401, "invalid_credentials", "用户名或密码错误。")
        token, row = create_session(s, user, st.settings.session_ttl_s)
        audit.append(s, audit.Actor(user.id, user.username, user.role, ip), "auth.login", "user", str(user.id))
        return token, row.csrf_token, user


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
    password: str = Field(min_length=10, max_length=256)


class UserPatch(BaseModel):
    role: Role | None = None
    active: bool | None = None
    password: str | None = Field(None, min_length=10, max_length=256)


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    active: bool


def _user_out(u: User) -> UserOut:
    return UserOut(id=u.id, username=u.username, display_name=u.display_name, role=u.role, active=u.active)


def list_users(st: ServiceState, p: Principal) -> list[UserOut]:
    check(p, "admin")
    with st.db.read() as s:
        return [_user_out(u) for u in s.execute(select(User).order_by(User.id)).scalars()]


def create_user(st: ServiceState, p: Principal, body: UserIn) -> UserOut:
    check(p, "admin")
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
        if body.role is not None:
            u.role = body.role
        if body.active is not None:
            u.active = body.active
        if body.password is not None:
            u.password_hash = hash_password(body.password)
        audit.append(s, p.actor, "user.updated", "user", str(u.id), before=before,
                     after={"role": u.role, "active": u.active, "password_reset": body.password is not None})
        return _user_out(u)


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
        return _key_out(k)
