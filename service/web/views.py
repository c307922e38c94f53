"""The pages: login, author pre-check and versions, review queue, document view with highlights
and verdicts, approver sign-off, audit trail. Every action calls the same service.workflow and
service.accounts functions as the JSON API, and what a page offers is what workflow.can() allows,
so rules, states and audit entries are the API's."""
from __future__ import annotations

import difflib
import time
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select

from scanner.taxonomy import DECISION_ZH, VISIBLE_LAYERS

from .. import accounts, audit, remembered, workflow
from ..deps import Principal, client_ip
from ..errors import APIError, err
from ..intake import read_draft
from ..models import Submission, User, Version
from ..queue import check_queue
from ..security import SESSION_COOKIE, csrf_ok
from ..workflow import STATUS_ZH, STEPS, VERDICT_ZH, check
from .common import (ERR_ZH, LOGIN_CSRF_COOKIE, PageRoute, form_principal, form_principal_async,
                     new_login_csrf, page_principal, redirect, render, safe_next, state, taxonomy_css)
from .highlight import document_view
from .pdfview import PICTURE_TYPES, image_boxes, page_boxes, render_page
from .auditview import rows_zh
from .redact import redacted_copy

router = APIRouter(route_class=PageRoute, include_in_schema=False)

HOME = {"author": "/me", "reviewer": "/queue", "approver": "/queue?status=pending_approval", "admin": "/admin",
        "inspector": "/site"}


@router.get("/ui/taxonomy.css")
def taxonomy_stylesheet(request: Request):
    """The category families' colours and glyphs, from the running rules' taxonomy."""
    return Response(taxonomy_css(state(request).taxonomy), media_type="text/css; charset=utf-8",
                    headers={"Cache-Control": "no-cache"})


# -- login / logout -------------------------------------------------------------------------------
@router.get("/")
def home(request: Request):
    try:
        p = page_principal(request)
    except APIError:
        return redirect("/login")
    return redirect(HOME.get(p.role, "/me"))


@router.get("/login")
def login_page(request: Request):
    tok = new_login_csrf()
    resp = render(request, "login.html", {"login_csrf": tok, "next": safe_next(request.query_params.get("next")),
                                           "error": request.query_params.get("err") == "invalid_credentials"})
    resp.set_cookie(LOGIN_CSRF_COOKIE, tok, httponly=True, samesite="strict", path="/login", max_age=3600)
    return resp


@router.post("/login")
async def login_post(request: Request):
    form = await request.form(max_files=0, max_fields=10, max_part_size=4096)
    nxt = safe_next(form.get("next") if isinstance(form.get("next"), str) else "/")
    if not csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), form.get("login_csrf")):
        return redirect("/login", err="csrf_rejected")
    user, pw = form.get("username"), form.get("password")
    if not isinstance(user, str) or not isinstance(pw, str) or len(user) > 64 or len(pw) > 256:
        return redirect("/login", err="invalid_credentials")
    st = state(request)
    try:
        token, _csrf, u = await run_in_threadpool(accounts.login, st, user, pw, client_ip(request))
    except APIError as exc:
        code = exc.code if exc.code == "too_many_attempts" else "invalid_credentials"
        return redirect("/login", err=code, next=nxt if nxt != "/" else "")
    resp = redirect(nxt if nxt != "/" else HOME.get(u.role, "/me"))
    resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=st.settings.cookie_secure,
                    max_age=st.settings.session_ttl_s, path="/")
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return resp


@router.post("/logout")
async def logout_post(request: Request):
    form, p = await form_principal_async(request)
    await run_in_threadpool(accounts.logout, state(request), p, request.cookies.get(SESSION_COOKIE))
    resp = redirect("/login", msg="logout")
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


# -- author -----------------------------------------------------------------------------------------
@router.get("/me")
def my_submissions(request: Request):
    p = page_principal(request)
    st = state(request)
    with st.db.read() as s:
        q = select(Submission).where(Submission.owner_id == p.user_id).order_by(Submission.created_at.desc())
        items = [workflow.submission_summary(s, x) for x in s.execute(q).scalars()]
    return render(request, "mine.html", {"items": items, "now": time.time()}, p=p)


def _new_ctx(request: Request, fields: dict | None = None, error: str = "") -> dict:
    from scanner.extract import formats
    from ..middleware import size_zh
    return {"f": fields or {}, "error": error, "max_size": size_zh(state(request).settings.max_body_bytes),
            "formats": formats.listing()}


@router.get("/new")
def new_page(request: Request):
    p = page_principal(request)
    check(p, "submit")
    return render(request, "new.html", _new_ctx(request), p=p)


async def _upload(request: Request, sub_id: str | None) -> Response:
    st = state(request)
    fields = workflow.FIELDS if sub_id is None else ("note",)
    back = "/new" if sub_id is None else f"/s/{sub_id}"
    # parse once (Starlette caches the form; read_draft below reads the same one), check the CSRF
    # token before anything is stored or judged
    form = await request.form(max_files=1, max_fields=len(fields) + 5, max_part_size=64 * 1024)
    tok = form.get("csrf_token")
    p = await run_in_threadpool(form_principal, request, {"csrf_token": tok if isinstance(tok, str) else ""})
    check(p, "submit" if sub_id is None else "resubmit")
    kept = {k: form.get(k) for k in fields if isinstance(form.get(k), str)}

    def again(exc: APIError):
        # a new submission's form comes back with what was typed (only the file must be chosen again)
        if sub_id is None:
            return render(request, "new.html", _new_ctx(request, kept, ERR_ZH.get(exc.code, exc.message)),
                          status=exc.status if 400 <= exc.status < 600 else 400, p=p)
        return redirect(back, err=exc.code)
    try:
        d = await read_draft(request, text_fields=fields + ("csrf_token",))
    except APIError as exc:
        return again(exc)
    d.fields.pop("csrf_token", None)
    if sub_id is None and not d.fields.get("title"):
        return again(err(422, "validation_error", "请填写信息名称。"))
    try:
        await run_in_threadpool(check_queue, st, p)
        new_id, _ = await run_in_threadpool(workflow.store_version, st, p, d, sub_id, d.fields, None)
    except APIError as exc:
        return again(exc)
    return redirect(f"/s/{new_id}", msg="submitted" if sub_id is None else "version")


@router.post("/new")
async def new_post(request: Request):
    return await _upload(request, None)


@router.post("/s/{sub_id}/version")
async def version_post(sub_id: str, request: Request):
    return await _upload(request, sub_id)


# -- the submission page (pre-check, document view, review, approval) ------------------------------
def _names(s) -> dict[int, str]:
    return {u.id: (u.display_name or u.username) for u in s.execute(select(User)).scalars()}


def text_changes(old_segs: list[dict], new_segs: list[dict], limit: int = 80) -> list[tuple[str, str]]:
    """What changed in the visible text between two versions: [("-"|"+", paragraph)], at most
    `limit` lines (the findings diff says what changed in the risks)."""
    a = [s.get("text", "") for s in old_segs if s.get("layer") in VISIBLE_LAYERS]
    b = [s.get("text", "") for s in new_segs if s.get("layer") in VISIBLE_LAYERS]
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        out += [("-", t) for t in a[i1:i2]] + [("+", t) for t in b[j1:j2]]
        if len(out) >= limit:
            return out[:limit] + [("…", "")]
    return out


SEVERITIES = ("critical", "high", "medium", "low", "info")
SORT_ZH = {"position": "按位置", "category": "按类别", "severity": "按严重程度", "layer": "按内容层",
           "state": "按审查状态"}


def page_filter(request: Request) -> tuple[workflow.FindingFilter, str]:
    """The review page's finding filter and sort from its query (cat, sev, layer, state, q, sort)."""
    qp = request.query_params

    def arg(name: str, limit: int = 200) -> str:
        v = qp.get(name, "")
        return v[:limit] if v.isprintable() else ""
    sort = qp.get("sort", "position")
    return (workflow.FindingFilter(category=arg("cat"), severity=arg("sev"), layer=arg("layer"), state=arg("state"),
                                   text=arg("q")), sort if sort in workflow.SORTS else "position")


def load_page(st, p: Principal, sub_id: str, version: int | None, only: bool,
              flt: workflow.FindingFilter | None = None, sort: str = "position") -> dict:
    data = workflow.submission_detail(st, p, sub_id, segments=True, version=version)
    with st.db.read() as s:
        names = _names(s)
        sub = s.get(Submission, sub_id)
        acts = workflow.allowed(p, sub) | workflow.allowed(p, sub, ("allowlist.promote",))
        vers = s.execute(select(Version).where(Version.submission_id == sub_id)).scalars().all()
        cur_ver = next(v for v in vers if v.number == (version or data["current_version"]))
        media_type = cur_ver.media_type
    rep = data.get("report") or {}
    view = document_view(rep, only_findings=only, taxonomy=st.taxonomy) if rep else None
    diff = data.get("diff")
    if diff:
        prev = workflow.submission_detail(st, p, sub_id, segments=True, version=diff["from_version"])["report"] or {}
        old = {f["fingerprint"]: f for f in prev.get("findings") or []}
        new = {f["fingerprint"]: f for f in rep.get("findings") or []}
        diff = {**diff,
                "resolved": [old.get(x["fingerprint"], x) for x in diff["resolved"]],
                "added": [new.get(x["fingerprint"], x) for x in diff["added"]],
                "text": text_changes(prev.get("segments") or [], rep.get("segments") or [])}
    flt = flt or workflow.FindingFilter()
    all_groups = workflow.group_findings((view or {}).get("findings") or [])
    groups = workflow.group_findings(workflow.select_findings((view or {}).get("findings") or [], flt, sort))
    verdicts = [g.get("verdict") for g in all_groups]
    counts = {"total": len(all_groups), "findings": len(rep.get("findings") or []),
              "open": sum(g["state"] == "open" for g in all_groups),
              "not_needed": sum(g["state"] == "not_needed" for g in all_groups),
              "allowlisted": sum(g["state"] == "allowlisted" for g in all_groups),
              "carried": sum(g["state"] == "carried" for g in all_groups),
              **{k: sum(bool(v) and v["verdict"] == k for v in verdicts) for k in workflow.VERDICTS}}
    status = data["status"]
    is_current = version in (None, data["current_version"])
    step = next((i for i, (_, sts) in enumerate(STEPS) if status in sts), -1)
    return {"sub": data, "view": view, "diff": diff, "names": names, "counts": counts,
            "is_pdf": media_type == "application/pdf" and bool(view) and not rep.get("purged"),
            "is_image": media_type in PICTURE_TYPES and bool(view) and not rep.get("purged"),
            "version": version or data["current_version"], "is_current": is_current,
            # what the page offers is what the workflow allows (decisions only on the current version)
            "can_verdict": is_current and "verdict" in acts,
            "can_promote": is_current and "allowlist.promote" in acts,
            "groups": groups, "flt": flt, "sort": sort, "filtered": bool(flt),
            "shown_findings": sum(len(g["occurrences"]) for g in groups),
            "cat_counts": workflow.category_counts((view or {}).get("findings") or []),
            "layers_present": sorted({f.get("layer", "") for f in (view or {}).get("findings") or []}),
            "SEVERITIES": SEVERITIES, "STATES_ZH": workflow.FINDING_STATE_ZH, "SORT_ZH": SORT_ZH,
            "SCOPE_ZH": remembered.SCOPE_ZH,
            "today": time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400)),
            "can_review": is_current and "review" in acts,
            "can_sign": is_current and "approval" in acts,
            "is_owner": data["owner"]["id"] == p.user_id,
            "can_resubmit": "resubmit" in acts,
            "can_withdraw": "withdraw" in acts,
            "can_publish": "publish" in acts,
            "steps": [x[0] for x in STEPS], "step": step, "only": only, "sub_row_channel": data["channel"],
            "VERDICT_ZH": VERDICT_ZH, "STATUS_ZH": STATUS_ZH, "LEVEL_ZH": workflow.LEVEL_ZH, "report": rep}


@router.get("/s/{sub_id}")
def submission_page(sub_id: str, request: Request):
    p = page_principal(request)
    flt, sort = page_filter(request)
    ctx = load_page(state(request), p, sub_id, _version(request), request.query_params.get("only") == "1", flt, sort)
    if ctx["is_pdf"]:
        try:
            ctx["pdf_pages"] = page_boxes(state(request), sub_id, ctx["version"], ctx["view"]["findings"],
                                          ctx["report"].get("segments") or [])
        except APIError as exc:          # the text view stands on its own when a page can't be drawn
            ctx["pdf_error"] = exc.message
    elif ctx["is_image"]:                # an uploaded picture, with the boxes of its OCR findings
        ctx["pdf_pages"] = image_boxes(sub_id, ctx["version"], ctx["view"]["findings"],
                                       ctx["report"].get("segments") or [])
    if request.query_params.get("msg") in ("submitted", "version") and ctx["sub"]["status"] != "scanning":
        ctx["flash"] = "已提交，自动审查已完成。"        # not "in progress" above finished results
    return render(request, "submission.html", ctx, p=p)


def _version(request: Request) -> int | None:
    v = request.query_params.get("v")
    return int(v) if v and v.isdigit() and 0 < int(v) < 100000 else None


def _reason(form, limit: int = 4000) -> str:
    r = form.get("reason", "")
    return r[:limit] if isinstance(r, str) else ""


def _choice(form, name: str, allowed) -> str:
    v = form.get(name)
    if v not in allowed:
        raise ValueError(name)
    return v


async def _act(request: Request, sub_id: str, fn, ok: str, back: str = "") -> Response:
    """One form post on a submission: CSRF-checked principal, then `fn(st, p, form)` (a workflow
    call, the API's own), then a redirect with the outcome."""
    form, p = await form_principal_async(request)
    back = f"/s/{sub_id}{back}"
    try:
        await run_in_threadpool(fn, state(request), p, form)
    except ValueError:
        return redirect(back, err="validation_error")
    except APIError as exc:
        return redirect(back, err=exc.code)
    return redirect(back if back.count("#") else f"/s/{sub_id}", msg=ok)


@router.post("/s/{sub_id}/verdict/{finding_id}")
async def verdict_post(sub_id: str, finding_id: int, request: Request):
    return await _act(request, sub_id, lambda st, p, f: workflow.put_verdict(
        st, p, sub_id, finding_id, _choice(f, "verdict", workflow.VERDICTS), _reason(f, 2000)),
        "verdict", f"#f-{finding_id}")


@router.post("/s/{sub_id}/verdicts")
async def batch_verdict_post(sub_id: str, request: Request):
    """A batch verdict for what the page's filter shows (the filter comes back in the form)."""
    form, p = await form_principal_async(request)

    def field(name: str) -> str:
        v = form.get(name)
        return v[:200] if isinstance(v, str) else ""
    flt = workflow.FindingFilter(category=field("cat"), severity=field("sev"), layer=field("layer"),
                                 state=field("state"), text=field("q"))
    back = "?" + urlencode({k: v for k, v in (("cat", flt.category), ("sev", flt.severity), ("layer", flt.layer),
                                              ("state", flt.state), ("q", flt.text)) if v})
    try:
        res = await run_in_threadpool(workflow.batch_verdict, state(request), p, sub_id, flt,
                                      _choice(form, "verdict", workflow.VERDICTS), _reason(form, 2000))
    except ValueError:
        return redirect(f"/s/{sub_id}{back}", err="validation_error")
    except APIError as exc:
        return redirect(f"/s/{sub_id}{back}", err=exc.code)
    return redirect(f"/s/{sub_id}{back}&n={res['count']}", msg="batch")


@router.post("/s/{sub_id}/allowlist/{finding_id}")
async def promote_post(sub_id: str, finding_id: int, request: Request):
    return await _act(request, sub_id, lambda st, p, f: workflow.promote(
        st, p, sub_id, finding_id, _choice(f, "scope", remembered.SCOPE_KINDS), _reason(f, 500),
        f.get("expires") if isinstance(f.get("expires"), str) else None), "allowlisted", f"#f-{finding_id}")


@router.post("/s/{sub_id}/review")
async def review_post(sub_id: str, request: Request):
    return await _act(request, sub_id, lambda st, p, f: workflow.apply(
        st, p, sub_id, "review", _choice(f, "decision", workflow.decisions("review")), _reason(f)), "reviewed")


@router.post("/s/{sub_id}/approval")
async def approval_post(sub_id: str, request: Request):
    return await _act(request, sub_id, lambda st, p, f: workflow.apply(
        st, p, sub_id, "approval", _choice(f, "decision", workflow.decisions("approval")), _reason(f)), "signed")


@router.post("/s/{sub_id}/withdraw")
async def withdraw_post(sub_id: str, request: Request):
    return await _act(request, sub_id, lambda st, p, f: workflow.apply(
        st, p, sub_id, "withdraw", reason=_reason(f, 2000)), "withdrawn")


@router.post("/s/{sub_id}/publish")
async def publish_post(sub_id: str, request: Request):
    return await _act(request, sub_id, lambda st, p, f: workflow.apply(
        st, p, sub_id, "publish", url=f.get("url")[:1000] if isinstance(f.get("url"), str) else ""), "published")


@router.get("/s/{sub_id}/redacted.txt")
def redacted(sub_id: str, request: Request):
    p, st, data, rep, number = _for_copy(request, sub_id)
    text = redacted_copy(rep, data["title"], number, st.taxonomy)
    return _copy_response(st, p, sub_id, data, number, "txt", text.encode("utf-8"), "text/plain; charset=utf-8")


def _for_copy(request: Request, sub_id: str):
    """(principal, state, detail, report, version number) of a copy download; access checked."""
    p = page_principal(request)
    st = state(request)
    version = _version(request)
    data = workflow.submission_detail(st, p, sub_id, segments=True, version=version)
    rep = data.get("report")
    if not rep or rep.get("purged"):
        raise err(409, "report_unavailable", "自动审查尚未完成或草稿已按保留期清除。")
    return p, st, data, rep, version or data["current_version"]


def _copy_response(st, p, sub_id: str, data: dict, number: int, kind: str, body: bytes, media_type: str):
    """Audit the download and answer with the copy as an attachment (ASCII name + UTF-8 name)."""
    with st.db.write() as s:
        audit.append(s, p.actor, "redacted_copy.downloaded", "submission", sub_id,
                     after={"version": number, "format": kind})
    name = f"脱敏副本-{data['title'][:40]}-v{number}.{kind}"
    return Response(body, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename=\"redacted.{kind}\"; filename*=UTF-8''{quote(name, safe='')}"})


@router.get("/s/{sub_id}/redacted")
def redacted_original(sub_id: str, request: Request):
    """The redacted copy in the draft's own format (scanner.redact, run in a limited child)."""
    from scanner.redact import SUPPORTED, remaining
    from scanner.redact.child import ChildFailed, redact_isolated

    from ..reports import scan_draft
    p, st, data, rep, number = _for_copy(request, sub_id)
    with st.db.read() as s:
        v = s.execute(select(Version).where(Version.submission_id == sub_id, Version.number == number)).scalar_one_or_none()
        if v is None:
            raise err(404, "version_not_found", "版本不存在。")
        if v.purged_at is not None or not v.blob_id:
            raise err(410, "purged", "草稿已按保留期清除。")
        media_type, blob_id = v.media_type, v.blob_id
    kind = SUPPORTED.get((media_type or "").split(";")[0].strip())
    if kind is None:
        raise err(415, "redact_unsupported", "该格式暂不提供原格式脱敏副本，请下载文本脱敏副本。")
    try:
        out = redact_isolated(st.blobs.get(blob_id), dict(rep, media_type=media_type))
    except ChildFailed as exc:
        raise err(422, "redact_incomplete" if exc.code == 5 else "redact_failed", str(exc))
    # the copy is scanned again before anyone gets it: nothing of the redacted categories may be left
    left = remaining(scan_draft(st, out, f"redacted.{kind}"))
    if left:
        raise err(422, "redact_incomplete", f"脱敏副本重新扫描仍发现 {len(left)} 处需脱敏的内容（个人信息、口令密钥、"
                                           "坐标或密级标志），不提供该副本，请在原文件中处理后重新提交。")
    return _copy_response(st, p, sub_id, data, number, kind, out, media_type.split(";")[0])


@router.get("/s/{sub_id}/audit")
def audit_page(sub_id: str, request: Request):
    p = page_principal(request)
    st = state(request)
    rows = workflow.audit_trail(st, p, sub_id)
    with st.db.read() as s:
        title = workflow.load(s, p, sub_id).title
    return render(request, "audit.html", {"rows": rows_zh(rows), "sub_id": sub_id, "title": title}, p=p)


@router.get("/s/{sub_id}/v/{number}/page/{page}.png")
def page_png(sub_id: str, number: int, page: int, request: Request):
    p = page_principal(request)
    png = render_page(state(request), p, sub_id, number, page)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, no-store"})


# -- review queue ---------------------------------------------------------------------------------
AGE = {"1d": 86400, "3d": 3 * 86400, "7d": 7 * 86400}


@router.get("/queue")
def queue(request: Request):
    p = page_principal(request)
    check(p, "queue.view")
    qp = request.query_params
    status = qp.get("status", "pending_review,escalated")
    decision = qp.get("decision") or None
    category = qp.get("category") or None
    owner = qp.get("owner") or None
    age = qp.get("age", "")
    st = state(request)
    res = workflow.list_submissions(st, p, status=status or None, decision=decision, owner=owner,
                                    category=category, limit=500)
    now = time.time()
    items = res["items"]
    if age in AGE:
        items = [i for i in items if now - i["created_at"] >= AGE[age]]
    all_counts = workflow.list_submissions(st, p, limit=1)["counts"]
    with st.db.read() as s:
        owners = sorted({u.username for u in s.execute(select(User).where(User.role.in_(workflow.AUTHORS))).scalars()})
    return render(request, "queue.html", {
        "items": items, "counts": all_counts, "status": status, "decision": decision or "", "category": category or "",
        "owner": owner or "", "age": age, "owners": owners, "now": now, "STATUS_ZH": STATUS_ZH,
        "DECISIONS": DECISION_ZH}, p=p)
