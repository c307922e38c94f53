"""Login / logout / me (browser sessions), users and API keys (admin)."""
from __future__ import annotations

import time
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from .. import audit
from ..deps import CurrentPrincipal, State, client_ip, require
from ..errors import err
from ..models import ApiKey, User
from ..security import (ROLE_SCOPES, SCOPES, SESSION_COOKIE, create_session, hash_password,
                        new_api_key, sha256_hex, verify_password)
from ..models import WebSession
from ..schemas import VerifyOut, errors

router = APIRouter(prefix="/api/v1", tags=["auth 身份与权限"])


class LoginIn(BaseModel):
    username: str = Field(max_length=64, description="用户名 / user name")
    password: str = Field(max_length=256, description="密码 / password")


class MeOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str = Field(description="角色 author/reviewer/approver/admin")
    scopes: list[str]
    via: str
    csrf_token: str | None = Field(None, description="会话的 CSRF 令牌：在 X-CSRF-Token 请求头或表单字段 csrf_token 中回传")


def me_out(p) -> MeOut:
    return MeOut(id=p.user_id, username=p.username, display_name=p.display_name, role=p.role,
                 scopes=sorted(p.scopes), via=p.via, csrf_token=p.csrf_token)


def do_login(st, username: str, password: str, ip: str):
    """Shared with the pages: -> (cookie token, csrf token, user) or raises 401."""
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


@router.post("/auth/login", response_model=MeOut, summary="登录 / log in",
             description="用户名密码登录，设置 HttpOnly 会话 Cookie，返回 CSRF 令牌。\n\nLog in; sets an HttpOnly session cookie and returns the CSRF token for unsafe requests.")
def login(body: LoginIn, request: Request, response: Response, st: State):
    token, csrf, user = do_login(st, body.username, body.password, client_ip(request))
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=st.settings.cookie_secure, max_age=st.settings.session_ttl_s, path="/")
    return MeOut(id=user.id, username=user.username, display_name=user.display_name, role=user.role,
                 scopes=sorted(ROLE_SCOPES[user.role]),
                 via="session", csrf_token=csrf)


@router.post("/auth/logout", status_code=204, summary="退出登录 / log out",
             description="删除当前会话。\n\nDeletes the current session.")
def logout(request: Request, p: CurrentPrincipal, st: State):
    token = request.cookies.get(SESSION_COOKIE)
    with st.db.write() as s:
        if token:
            row = s.get(WebSession, sha256_hex(token))
            if row:
                s.delete(row)
        audit.append(s, p.actor, "auth.logout", "user", str(p.user_id))
    resp = Response(status_code=204)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/auth/me", response_model=MeOut, summary="当前身份 / who am I",
            description="返回当前用户、角色、权限范围与 CSRF 令牌。\n\nCurrent user, role, scopes and CSRF token.")
def me(p: CurrentPrincipal):
    return me_out(p)


# -- users (admin) --------------------------------------------------------------------------------
class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    display_name: str = Field("", max_length=64)
    role: Literal["author", "reviewer", "approver", "admin"]
    password: str = Field(min_length=10, max_length=256)


class UserPatch(BaseModel):
    role: Literal["author", "reviewer", "approver", "admin"] | None = None
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


@router.get("/admin/users", response_model=list[UserOut], summary="用户列表 / list users",
            description="仅管理员。\n\nAdmin only.")
def list_users(p: CurrentPrincipal, st: State):
    require(p, roles=("admin",), scope="admin")
    with st.db.read() as s:
        return [_user_out(u) for u in s.execute(select(User).order_by(User.id)).scalars()]


@router.post("/admin/users", response_model=UserOut, status_code=201, summary="创建用户 / create user",
             description="仅管理员。密码以 argon2id 哈希保存。\n\nAdmin only; passwords stored as argon2id hashes.")
def create_user(body: UserIn, p: CurrentPrincipal, st: State):
    require(p, roles=("admin",), scope="admin")
    with st.db.write() as s:
        if s.execute(select(User).where(User.username == body.username)).first():
            raise err(409, "username_taken", "用户名已存在。")
        u = User(username=body.username, display_name=body.display_name or body.username,
                 role=body.role, password_hash=hash_password(body.password))
        s.add(u)
        s.flush()
        audit.append(s, p.actor, "user.created", "user", str(u.id), after={"username": u.username, "role": u.role})
        return _user_out(u)


@router.patch("/admin/users/{user_id}", response_model=UserOut, summary="修改用户 / update user",
              description="修改角色、停用或重置密码（仅管理员）。\n\nChange role, deactivate, reset password (admin only).")
def patch_user(user_id: int, body: UserPatch, p: CurrentPrincipal, st: State):
    require(p, roles=("admin",), scope="admin")
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


# -- API keys (admin) -------------------------------------------------------------------------------
class KeyIn(BaseModel):
    user_id: int = Field(description="密钥代表的用户 / the user the key acts as")
    name: str = Field("", max_length=100, description="用途说明，如“门户网站 CMS” / label")
    scopes: list[Literal["scan", "gate", "submit", "review", "approve", "admin"]] = Field(
        default_factory=lambda: ["scan", "gate"])


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


def make_key(s, actor, user_id: int, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    full, prefix, h = new_api_key()
    k = ApiKey(user_id=user_id, name=name, prefix=prefix, secret_hash=h,
               scopes=",".join(sorted(set(scopes) & set(SCOPES))))
    s.add(k)
    s.flush()
    audit.append(s, actor, "apikey.created", "api_key", str(k.id),
                 after={"user_id": user_id, "scopes": k.scopes, "prefix": prefix})
    return k, full


@router.post("/admin/api-keys", response_model=KeyOut, status_code=201, summary="创建 API 密钥 / create API key",
             description="为 CMS 等客户端创建密钥；完整密钥只显示这一次，库中仅存哈希。\n\nCreates a key; the full key is shown once, only its hash is stored.")
def create_key(body: KeyIn, p: CurrentPrincipal, st: State):
    require(p, roles=("admin",), scope="admin")
    with st.db.write() as s:
        if s.get(User, body.user_id) is None:
            raise err(404, "user_not_found", "用户不存在。")
        k, full = make_key(s, p.actor, body.user_id, body.name, list(body.scopes))
        return _key_out(k, full)


@router.get("/admin/api-keys", response_model=list[KeyOut], summary="API 密钥列表 / list API keys",
            description="仅显示前缀，不显示密钥。\n\nPrefixes only.")
def list_keys(p: CurrentPrincipal, st: State):
    require(p, roles=("admin",), scope="admin")
    with st.db.read() as s:
        return [_key_out(k) for k in s.execute(select(ApiKey).order_by(ApiKey.id)).scalars()]


@router.delete("/admin/api-keys/{key_id}", response_model=KeyOut, summary="吊销 API 密钥 / revoke API key",
               description="吊销后立即失效（401 api_key_revoked）。\n\nRevoked keys fail with 401 api_key_revoked.")
def revoke_key(key_id: int, p: CurrentPrincipal, st: State):
    require(p, roles=("admin",), scope="admin")
    with st.db.write() as s:
        k = s.get(ApiKey, key_id)
        if k is None:
            raise err(404, "api_key_not_found", "密钥不存在。")
        if k.revoked_at is None:
            k.revoked_at = time.time()
            audit.append(s, p.actor, "apikey.revoked", "api_key", str(k.id))
        return _key_out(k)


@router.get("/admin/audit/verify", summary="校验审计链 / verify the audit chain",
            responses={200: {"model": VerifyOut}, **errors(401, 403)},
            description="重新计算哈希链，发现被修改或删除的记录时返回 broken_at。\n\nRecomputes the hash chain; reports broken_at on an edited or deleted entry.")
def audit_verify(p: CurrentPrincipal, st: State):
    require(p, roles=("admin",), scope="admin")
    with st.db.read() as s:
        return audit.verify(s).to_dict()
