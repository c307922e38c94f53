"""Request dependencies as Annotated aliases: the service state, the authenticated principal,
and `Requires(action)`, the role and scope check of an action in the workflow's permissions
table. Every denial is 401 (who are you) or 403 (not allowed) with a code."""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import bindparam, select

from . import audit, workflow
from .errors import err
from .models import User, WebSession
from .principal import Principal
from .security import (CSRF_HEADER, ROLE_SCOPES, SESSION_COOKIE, auth_epoch, csrf_ok, lookup_api_key,
                       sha256_hex)
from .state import ServiceState

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def get_state(request: Request) -> ServiceState:
    return request.app.state.svc


State = Annotated[ServiceState, Depends(get_state)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _from_api_key(st: ServiceState, raw: str, ip: str) -> Principal:
    """The principal of an API key. A key that passed is remembered (by the SHA-256 of what was
    presented, at most KEY_CACHE_MAX) under the data directory's credential epoch
    (security.auth_epoch), which every revocation and user change rewrites after its commit: a
    revoked key or a disabled account fails at once, in every process. SQLite only (one host, one
    data directory); with PostgreSQL every request reads the database (instances may run on several
    hosts, each with a data directory of its own, where one host's epoch file says nothing of another's
    change: tests/service/test_key_cache.py checks both on real databases)."""
    cache = st.key_cache if st.db.is_sqlite else None
    digest = epoch = ""
    if cache is not None:
        digest, epoch = sha256_hex(raw), auth_epoch(st.settings.data_dir)    # the epoch before the read
        hit = cache.get(digest)
        if hit is not None and hit[0] == epoch:
            return replace(hit[1], scopes=set(hit[1].scopes), ip=ip)
    p = _read_api_key(st, raw, ip)
    if cache is not None:
        if len(cache) >= KEY_CACHE_MAX:
            cache.clear()
        cache[digest] = (epoch, replace(p, scopes=set(p.scopes)))
    return p


KEY_CACHE_MAX = 1024


def _read_api_key(st: ServiceState, raw: str, ip: str) -> Principal:
    with st.db.read() as s:
        key = lookup_api_key(s, raw)
        if key is None:
            raise err(401, "invalid_api_key", "API 密钥无效。")
        if key.revoked_at is not None:
            raise err(401, "api_key_revoked", "API 密钥已被吊销。")
        user = s.get(User, key.user_id)
        if user is None or not user.active:
            raise err(401, "account_disabled", "账号已停用。")
        return Principal(user.id, user.username, user.display_name, user.role, "apikey",
                         {x for x in key.scopes.split(",") if x}, key.id, None, ip)


def _csrf_reject(st: ServiceState, p: Principal, request: Request, why: str):
    with st.db.write() as s:
        audit.append(s, p.actor, "csrf_rejected", "request", request.url.path[:64], after={"why": why})
    raise err(403, "csrf_rejected", "请求来源校验失败（CSRF），请刷新页面后重试。")


_SESSION_USER = (select(WebSession.id.label("sid"), WebSession.user_id, WebSession.csrf_token, WebSession.created_at,
                        WebSession.expires_at, WebSession.last_seen_at, User.username, User.display_name,
                        User.role, User.active)
                 .join(User, User.id == WebSession.user_id).where(WebSession.id == bindparam("sid")))


def get_principal(request: Request, st: State) -> Principal:
    ip = client_ip(request)
    if "api_key" in request.query_params:
        raise err(401, "api_key_in_query", "API 密钥不得放在 URL 中，请使用 Authorization 请求头。")
    auth = request.headers.get("authorization", "")
    raw = request.headers.get("x-api-key", "")
    if auth.lower().startswith("bearer "):
        raw = auth[7:].strip()
    if raw:
        return _from_api_key(st, raw, ip)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise err(401, "auth_required", "需要登录或提供 API 密钥。")
    # the session and its user in one Core query on a pooled connection (no ORM session, identity
    # map or two primary-key loads: ~1 ms of CPU per request less); not past its absolute
    # expiry, nor idle longer than session_idle_s, the account active
    with st.db.read_engine.connect() as conn:
        row = conn.execute(_SESSION_USER, {"sid": sha256_hex(token)}).first()
    t = time.time()
    if row is None or row.expires_at < t or t - (row.last_seen_at or row.created_at) > st.settings.session_idle_s \
            or not row.active:
        raise err(401, "session_expired", "登录已过期，请重新登录。")
    p = Principal(row.user_id, row.username, row.display_name, row.role, "session",
                  set(ROLE_SCOPES[row.role]), None, row.csrf_token, ip)
    seen, sid = row.last_seen_at or row.created_at, row.sid
    if time.time() - seen > min(60.0, st.settings.session_idle_s / 4):
        # the idle clock restarts (written at most once a minute per session: no write per request)
        with st.db.write() as s:
            ws = s.get(WebSession, sid)
            if ws is not None:
                ws.last_seen_at = time.time()
    if request.method in UNSAFE:
        site = request.headers.get("sec-fetch-site", "")
        if site and site not in ("same-origin", "none"):
            _csrf_reject(st, p, request, "sec_fetch_site")
        origin = request.headers.get("origin")
        if origin and origin.rstrip("/") != str(request.base_url).rstrip("/"):
            _csrf_reject(st, p, request, "origin")
        if not csrf_ok(p.csrf_token, request.headers.get(CSRF_HEADER)):
            # pages posting forms check the form field themselves via security.csrf_ok
            if not request.scope.get("baomi.csrf_checked"):
                _csrf_reject(st, p, request, "token")
    return p


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def Requires(action: str):
    """A route dependency: the principal's role and scope must allow `action` (403 otherwise),
    as `workflow.PERMISSIONS` says. Checks against a submission's state and people run in the
    workflow functions themselves.

        @router.post("/scan", dependencies=[Requires("scan")])"""
    workflow.PERMISSIONS[action]           # an unknown action fails when the route is defined

    async def _requires(p: CurrentPrincipal) -> Principal:
        # a check of the principal in memory: run on the event loop (a sync dependency would take
        # a worker thread and two thread switches per request)
        workflow.check(p, action)
        return p
    _requires.action = action              # type: ignore[attr-defined]  (which action a route requires)
    return Depends(_requires)
