"""Login / logout / me (browser sessions), users and API keys (admin) over HTTP; the rules
are service.accounts'."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from .. import accounts, audit
from ..accounts import KeyIn, KeyOut, UserIn, UserOut, UserPatch
from ..deps import CurrentPrincipal, Requires, State, client_ip
from ..schemas import VerifyOut, errors
from ..security import ROLE_SCOPES, SESSION_COOKIE

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


@router.post("/auth/login", response_model=MeOut, summary="登录 / log in",
             description="用户名密码登录，设置 HttpOnly 会话 Cookie，返回 CSRF 令牌。\n\nLog in; sets an HttpOnly session cookie and returns the CSRF token for unsafe requests.")
def login(body: LoginIn, request: Request, response: Response, st: State):
    token, csrf, user = accounts.login(st, body.username, body.password, client_ip(request))
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=st.settings.cookie_secure, max_age=st.settings.session_ttl_s, path="/")
    return MeOut(id=user.id, username=user.username, display_name=user.display_name, role=user.role,
                 scopes=sorted(ROLE_SCOPES[user.role]),
                 via="session", csrf_token=csrf)


@router.post("/auth/logout", status_code=204, summary="退出登录 / log out",
             description="删除当前会话。\n\nDeletes the current session.")
def logout(request: Request, p: CurrentPrincipal, st: State):
    accounts.logout(st, p, request.cookies.get(SESSION_COOKIE))
    resp = Response(status_code=204)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/auth/me", response_model=MeOut, summary="当前身份 / who am I",
            description="返回当前用户、角色、权限范围与 CSRF 令牌。\n\nCurrent user, role, scopes and CSRF token.")
def me(p: CurrentPrincipal):
    return me_out(p)


# -- users and API keys (admin) ----------------------------------------------------------------------
@router.get("/admin/users", response_model=list[UserOut], summary="用户列表 / list users",
            dependencies=[Requires("admin")], description="仅管理员。\n\nAdmin only.")
def list_users(p: CurrentPrincipal, st: State):
    return accounts.list_users(st, p)


@router.post("/admin/users", response_model=UserOut, status_code=201, summary="创建用户 / create user",
             dependencies=[Requires("admin")],
             description="仅管理员。密码以 argon2id 哈希保存。\n\nAdmin only; passwords stored as argon2id hashes.")
def create_user(body: UserIn, p: CurrentPrincipal, st: State):
    return accounts.create_user(st, p, body)


@router.patch("/admin/users/{user_id}", response_model=UserOut, summary="修改用户 / update user",
              dependencies=[Requires("admin")],
              description="修改角色、停用或重置密码（仅管理员）。\n\nChange role, deactivate, reset password (admin only).")
def patch_user(user_id: int, body: UserPatch, p: CurrentPrincipal, st: State):
    return accounts.patch_user(st, p, user_id, body)


@router.post("/admin/users/{user_id}/unlock", summary="解除登录锁定 / lift a login lock",
             dependencies=[Requires("admin")],
             description="登录失败次数过多后账号需等待；管理员可立即解除（仅管理员）。\n\n"
                         "After too many failed logins an account waits; an admin lifts it (admin only).")
def unlock_user(user_id: int, p: CurrentPrincipal, st: State):
    return accounts.unlock(st, p, user_id)


@router.post("/admin/api-keys", response_model=KeyOut, status_code=201, summary="创建 API 密钥 / create API key",
             dependencies=[Requires("admin")],
             description="为 CMS 等客户端创建密钥；完整密钥只显示这一次，库中仅存哈希。\n\nCreates a key; the full key is shown once, only its hash is stored.")
def create_key(body: KeyIn, p: CurrentPrincipal, st: State):
    return accounts.create_key(st, p, body)


@router.get("/admin/api-keys", response_model=list[KeyOut], summary="API 密钥列表 / list API keys",
            dependencies=[Requires("admin")], description="仅显示前缀，不显示密钥。\n\nPrefixes only.")
def list_keys(p: CurrentPrincipal, st: State):
    return accounts.list_keys(st, p)


@router.delete("/admin/api-keys/{key_id}", response_model=KeyOut, summary="吊销 API 密钥 / revoke API key",
               dependencies=[Requires("admin")],
               description="吊销后立即失效（401 api_key_revoked）。\n\nRevoked keys fail with 401 api_key_revoked.")
def revoke_key(key_id: int, p: CurrentPrincipal, st: State):
    return accounts.revoke_key(st, p, key_id)


@router.get("/admin/audit/verify", summary="校验审计链 / verify the audit chain", dependencies=[Requires("admin")],
            responses={200: {"model": VerifyOut}, **errors(401, 403)},
            description="重新计算哈希链，发现被修改或删除的记录时返回 broken_at。\n\nRecomputes the hash chain; reports broken_at on an edited or deleted entry.")
def audit_verify(st: State):
    cps = audit.read_checkpoints(st.settings.checkpoint_path)
    with st.db.read() as s:
        return audit.verify(s, cps).to_dict()
