"""Shared plumbing for the pages: Jinja2 (autoescape everywhere), the CSP header, the page
principal (session cookie; CSRF token in a form field for every POST), errors as HTML pages."""
from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from pathlib import Path
from urllib.parse import quote

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape

from scanner.taxonomy import DECISION_ZH, LAYER_ZH, OTHER, OTHER_FAMILY, SEVERITY_ZH, Taxonomy

from .. import workflow
from ..clock import BEIJING
from ..record import fmt_ts
from ..deps import Principal, get_principal
from ..errors import APIError, err
from ..models import WebSession
from ..security import SESSION_COOKIE, csrf_ok, sha256_hex

HERE = Path(__file__).resolve().parent
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
LOGIN_CSRF_COOKIE = "baomi_login_csrf"

ROLE_ZH = {"author": "作者", "reviewer": "保密审查员", "approver": "审批人", "admin": "管理员", "inspector": "保密检查员"}
_SAFE_CODE = re.compile(r"^[a-z0-9_.]{1,64}$")


# Categories, layers, severities and decisions are the scanner's vocabulary (scanner.taxonomy): a
# page reads the taxonomy of the running rules (`tax` in every template). Class names come from
# the taxonomy's family keys only, never from document data.
@pass_context
def _cat_key(ctx, category: str) -> str:
    return ctx["tax"].family_key(category)


@pass_context
def _cat_label(ctx, category: str) -> str:
    return ctx["tax"].category_zh(category)


def layer_key(layer: str) -> str:
    return layer if layer in LAYER_ZH else OTHER


_COLOUR = re.compile(r"^#[0-9a-fA-F]{3,8}$")


def _css_string(text: str) -> str:
    """A CSS string literal that no glyph can break out of: every character as a hex escape."""
    return '"' + "".join(f"\\{ord(ch):x} " for ch in text) + '"'


def taxonomy_css(tax: Taxonomy) -> str:
    """The stylesheet of the category families: colour variables, glyphs, and the plain highlight,
    badge, list and PDF-box rules of every family (app.css adds the built-in families' shapes).
    Family names are validated by the taxonomy ([a-z][a-z0-9_]*); colours are checked here."""
    fams = [*tax.families.values(), OTHER_FAMILY]
    var = []
    rules = []
    for f in fams:
        c = f.colour if _COLOUR.match(f.colour) else OTHER_FAMILY.colour
        b = f.background if _COLOUR.match(f.background) else OTHER_FAMILY.background
        var.append(f"--c-{f.name}:{c};--b-{f.name}:{b}")
        n = f.name
        rules.append(f"mark.c-{n}{{background:var(--b-{n});border-bottom:2px solid var(--c-{n})}}"
                     f".t-{n}.anc::before{{content:{_css_string(f.icon)};background:var(--c-{n})}}"
                     f".badge.t-{n}{{background:var(--c-{n})}}.finding.c-{n}{{border-left-color:var(--c-{n})}}"
                     f"rect.box.c-{n}{{stroke:var(--c-{n})}}")
    return ":root{" + ";".join(var) + "}\n" + "\n".join(rules) + "\n"


def fmt_iso(s: str) -> str:
    try:
        return dt.datetime.fromisoformat(s).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return s or ""


def age_zh(ts: float | None, now: float | None = None) -> str:
    if not ts:
        return ""
    d = max(0.0, (now or time.time()) - ts)
    if d < 3600:
        return f"{int(d // 60)} 分钟"
    if d < 86400:
        return f"{d / 3600:.1f} 小时"
    return f"{d / 86400:.1f} 天"


env = Environment(loader=FileSystemLoader(str(HERE / "templates")),
                  autoescape=select_autoescape(default=True, default_for_string=True),
                  trim_blocks=True, lstrip_blocks=True)
env.filters.update(ts=fmt_ts, iso=fmt_iso, age=age_zh, cat_key=_cat_key, cat_label=_cat_label)
env.globals.update(ROLE_ZH=ROLE_ZH, SEVERITY_ZH=SEVERITY_ZH, DECISION_ZH=DECISION_ZH, LAYER_ZH=LAYER_ZH,
                   quote=quote, can=workflow.can)


def page_headers(extra: dict | None = None) -> dict:
    h = {"Content-Security-Policy": CSP, "Cache-Control": "no-store"}
    h.update(extra or {})
    return h


def render(request: Request, template: str, ctx: dict, status: int = 200, p: Principal | None = None) -> HTMLResponse:
    ctx = dict(ctx)
    ctx.setdefault("tax", state(request).taxonomy)
    ctx.setdefault("me", p)
    ctx.setdefault("csrf", p.csrf_token if p else "")
    ctx["request_path"] = request.url.path
    msg = request.query_params.get("msg", "")
    ctx.setdefault("flash", FLASH.get(msg, ""))
    code = request.query_params.get("err", "")
    ctx.setdefault("flash_error", ERR_ZH.get(code, f"操作未完成（{code}）。" if _SAFE_CODE.match(code) else "") if code else "")
    html = env.get_template(template).render(**ctx)
    return HTMLResponse(html, status_code=status, headers=page_headers())


FLASH = {"submitted": "已提交，自动审查进行中。", "version": "新版本已提交，自动审查进行中。",
         "verdict": "审查结论已保存。", "reviewed": "审查决定已提交。", "signed": "审批意见已提交。",
         "withdrawn": "申请已撤回。", "published": "已标记为已发布。", "user": "用户已保存。",
         "key_revoked": "密钥已吊销。", "logout": "已退出登录。", "unlocked": "已解除登录锁定。", "key_created": "密钥已创建。",
         "lexicon": "规则/词表已保存并生效（已记入审计日志）。",
         "batch": "批量审查结论已保存。", "allowlisted": "已加入白名单：之后的扫描与发布闸门将按范围自动套用。",
         "entry_revoked": "白名单条目已撤销。", "entry_expired": "白名单条目已设为到期。"}
ERR_ZH = {"csrf_rejected": "请求来源校验失败（CSRF），请刷新页面后重试。",
          "reason_required": "请填写理由。", "filter_required": "批量审查须至少选择一个筛选条件。",
          "verdict_not_promotable": "只有判定为误报或接受风险的发现可以加入白名单。",
          "allowlist_block_refused": "禁止发布级别的发现（如密级标志）不能加入白名单。",
          "already_allowlisted": "该发现在此范围内已有生效的白名单条目。",
          "expiry_invalid": "有效期须晚于今天，且不超过三年。", "scope_invalid": "适用范围不可用（如未填写拟发布渠道）。",
          "entry_inactive": "该条目已失效。", "verdicts_missing": "还有发现未给出审查结论。",
          "confirmed_risk_open": "存在已确认的风险，不能同意发布，请退回修改。",
          "invalid_state": "当前状态不能执行此操作。", "separation_of_duties": "审批人不能与审查人为同一人。",
          "invalid_credentials": "用户名或密码错误。", "unsupported_type": "不支持的文件类型（按内容识别）。",
          "empty_file": "文件为空，无法审查。", "validation_error": "请填写必填项。",
          "encrypted_or_legacy_office": "文件为加密的 Office 文档或旧版格式，请另存为 docx 后重新提交。",
          "username_taken": "用户名已存在。", "queue_full": "审查队列已满，请稍后重试。",
          "too_many_jobs": "您提交的待处理任务过多，请稍后重试。", "body_too_large": "文件超过大小上限。",
          "not_owner": "只有申请人可以执行此操作。", "role_forbidden": "当前角色无权执行此操作。",
          "scope_forbidden": "该凭据没有执行此操作的权限范围。",
          "too_many_attempts": "登录失败次数过多，请稍后再试；账号被锁定时可请管理员解除。",
          "weak_password": "密码不符合要求：至少 12 个字符，不含用户名，不能是常见或容易猜测的密码。",
          "last_admin": "这是最后一个启用的管理员账号，不能停用或降级。",
          "invalid_url": "起始网址必须以 http:// 或 https:// 开头。", "invalid_schedule": "检查计划或时间格式不正确。",
          "invalid_option": "抓取参数超出范围。", "site_host_forbidden": "该网站不在本服务允许检查的范围内。",
          "site_run_busy": "该网站已有一次检查在排队或进行中。",
          "user_not_found": "用户不存在。", "storage_full": "存储空间不足，暂时无法接收文件，请稍后重试。"}


def safe_next(url: str | None) -> str:
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url and len(url) < 500:
        return url
    return "/"


def redirect(url: str, **params) -> RedirectResponse:
    q = "&".join(f"{k}={quote(str(v))}" for k, v in params.items() if v)
    if q:
        base, _, frag = url.partition("#")
        url = base + ("&" if "?" in base else "?") + q + (("#" + frag) if frag else "")
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def state(request: Request):
    return request.app.state.svc


def page_principal(request: Request) -> Principal:
    """GET pages: the session's principal, or APIError 401 (turned into a redirect to /login)."""
    if request.headers.get("authorization") or request.headers.get("x-api-key"):
        raise err(403, "pages_need_session", "页面只能通过登录会话访问。")
    return get_principal(request, state(request))


def form_principal(request: Request, form) -> Principal:
    """POST pages: the form's csrf_token must match the session's token, and the Origin /
    Sec-Fetch-Site checks of deps.get_principal apply as for the API."""
    st = state(request)
    token = request.cookies.get(SESSION_COOKIE)
    presented = form.get("csrf_token") if form is not None else None
    if token and isinstance(presented, str):
        with st.db.read() as s:
            row = s.get(WebSession, sha256_hex(token))
            if row is not None and csrf_ok(row.csrf_token, presented):
                request.scope["baomi.csrf_checked"] = True
    return page_principal(request)


async def form_principal_async(request: Request):
    form = await request.form(max_files=0, max_fields=40, max_part_size=64 * 1024)
    p = await run_in_threadpool(form_principal, request, form)
    return form, p


def error_page(request: Request, exc: APIError) -> Response:
    if exc.status == 401:
        nxt = request.url.path if request.method == "GET" else "/"
        return redirect("/login", next=nxt)
    html = env.get_template("error.html").render(
        tax=state(request).taxonomy, me=None, csrf="", status=exc.status, code=exc.code if _SAFE_CODE.match(exc.code) else "error",
        message=exc.message, request_path=request.url.path, flash="", flash_error="")
    return HTMLResponse(html, status_code=exc.status, headers=page_headers(exc.headers))


class PageRoute(APIRoute):
    """Every page route: only the session cookie counts (an API key, whatever its scopes, gets
    403 pages_need_session before the handler runs: keys are for the API, where every route
    requires an action of the permissions table); APIError -> an HTML error page (401 -> login),
    CSP on every answer."""

    def get_route_handler(self):
        orig = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                if request.headers.get("authorization") or request.headers.get("x-api-key"):
                    raise err(403, "pages_need_session", "页面只能通过登录会话访问。")
                resp = await orig(request)
            except APIError as exc:
                return error_page(request, exc)
            if "content-security-policy" not in resp.headers:
                resp.headers["Content-Security-Policy"] = CSP
            return resp
        return handler


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)
