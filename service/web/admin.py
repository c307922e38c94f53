"""Admin pages: dashboard with server-rendered SVG plots, users and roles, API keys, the
lexicons and policy (view, and editing for admins). Writes go through service.accounts and
service.web.lexedit, the same functions as the API (checked and audited there)."""
from __future__ import annotations

import statistics
import time

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from sqlalchemy import select

from .. import accounts, remembered, workflow
from ..clock import beijing
from ..errors import APIError
from ..models import AuditEntry, Decision, FindingRow, ReportRow, Submission, User, Verdict, Version
from ..security import SESSION_COOKIE, sha256_hex
from ..workflow import check
from . import lexedit
from .charts import hbars, stacked_bars
from .common import ROLE_ZH, PageRoute, form_principal_async, page_principal, redirect, render, state

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PRECISION_DAYS = (30, 90)
BUCKETS = ((600, "<10分钟"), (3600, "10分钟–1小时"), (4 * 3600, "1–4小时"), (86400, "4–24小时"),
           (3 * 86400, "1–3天"), (float("inf"), ">3天"))


def _admin(request: Request):
    p = page_principal(request)
    check(p, "admin")
    return p


def _day(ts: float) -> str:
    return beijing(ts).strftime("%m-%d")


def dashboard_data(st, days: int = 14) -> dict:
    now = time.time()
    labels = [_day(now - 86400 * i) for i in range(days - 1, -1, -1)]
    idx = {d: i for i, d in enumerate(labels)}
    with st.db.read() as s:
        subs_per_day = [0] * days
        for (c,) in s.execute(select(Submission.created_at).where(Submission.created_at >= now - days * 86400)):
            if _day(c) in idx:
                subs_per_day[idx[_day(c)]] += 1
        # findings of submission versions (not CMS gate scans) per category prefix and day
        tax = st.taxonomy
        cat_series = {k: [0] * days for k in tax.family_names}
        q = (select(FindingRow.category, ReportRow.created_at).join(ReportRow, ReportRow.id == FindingRow.report_id)
             .join(Version, Version.report_id == ReportRow.id).where(ReportRow.created_at >= now - days * 86400))
        for cat, c in s.execute(q):
            k = tax.family_key(cat)
            if _day(c) in idx and k in cat_series:
                cat_series[k][idx[_day(c)]] += 1
        cat_series = {k: v for k, v in cat_series.items() if any(v)} or {"marking": [0] * days}
        # time to decision: submission created -> first review decision
        first: dict[str, float] = {}
        for sid, c in s.execute(select(Decision.submission_id, Decision.created_at)
                                .where(Decision.level == "review").order_by(Decision.created_at)):
            first.setdefault(sid, c)
        created = dict(s.execute(select(Submission.id, Submission.created_at)).all())
        waits = [first[k] - created[k] for k in first if k in created]
        hist = [0] * len(BUCKETS)
        for w in waits:
            hist[next(i for i, (lim, _) in enumerate(BUCKETS) if w < lim)] += 1
        totals = {"submissions": s.execute(select(Submission.id)).all().__len__(),
                  "open": s.execute(select(Submission.id).where(Submission.status.in_(
                      ("pending_review", "escalated", "pending_approval")))).all().__len__(),
                  "verdicts": s.execute(select(Verdict.id).where(Verdict.carried_from_id.is_(None))).all().__len__(),
                  "median_wait": statistics.median(waits) if waits else None}
    # precision per rule from the reviewers' verdicts (workflow.precision), worst first
    prec = {d: workflow.precision(st, d, at=now) for d in PRECISION_DAYS}
    p90 = {r["rule_id"]: r for r in prec[90]}
    rules = [{"rule_id": r["rule_id"], "category": r["category"], "d30": next(
        (x for x in prec[30] if x["rule_id"] == r["rule_id"]), None), "d90": r} for r in prec[90]]
    rules.sort(key=lambda x: ((x["d30"] or x["d90"])["precision"], x["d90"]["precision"], x["rule_id"]))
    prec_rows = [(r["rule_id"], p90[r["rule_id"]]["precision"],
                  f"{p90[r['rule_id']]['precision']:.0%}（{p90[r['rule_id']]['confirmed']}/{p90[r['rule_id']]['total']}）")
                 for r in rules]
    return {
        "totals": totals,
        "chart_subs": stacked_bars("每日提交申请数", labels, {"total": subs_per_day}, {"total": "申请"}),
        "chart_cats": stacked_bars("每日发现数（按类别）", labels, cat_series,
                                   {k: tax.family_zh(k) for k in cat_series}, {k: tax.family(k).colour for k in cat_series}),
        "chart_wait": hbars("从提交到审查决定的时间", [(lab, n, f"{n} 件") for (_, lab), n in zip(BUCKETS, hist)],
                            colour="#00897b"),
        "chart_prec": hbars("各规则精确率（近 90 天，审查结论：确认/接受风险 ÷ 全部）", prec_rows, max_value=1.0),
        "precision_rules": rules,
    }


async def _write_then_back(back: str, msg: str, fn, *args):
    """Run a write (checked and audited where it lives) off the event loop, then back to the page
    `back` with the message `msg`, or with the error's code."""
    try:
        await run_in_threadpool(fn, *args)
    except APIError as exc:
        return redirect(back, err=exc.code)
    return redirect(back, msg=msg)


@router.get("/admin")
def dashboard(request: Request):
    p = _admin(request)
    return render(request, "dashboard.html", dashboard_data(state(request)), p=p)


@router.get("/admin/users")
def users_page(request: Request):
    p = _admin(request)
    users = accounts.list_users(state(request), p)
    return render(request, "users.html", {"users": users, "roles": ROLE_ZH}, p=p)


@router.post("/admin/users")
async def users_create(request: Request):
    form, p = await form_principal_async(request)
    try:
        body = accounts.UserIn(username=form.get("username", ""), display_name=form.get("display_name", ""),
                               role=form.get("role", ""), password=form.get("password", ""))
    except ValidationError:
        return redirect("/admin/users", err="validation_error")
    return await _write_then_back("/admin/users", "user", accounts.create_user, state(request), p, body)


@router.post("/admin/users/{user_id}")
async def users_update(user_id: int, request: Request):
    form, p = await form_principal_async(request)
    try:
        body = accounts.UserPatch(role=form.get("role") or None,
                                  active=(form.get("active") == "1") if form.get("active") in ("0", "1") else None)
    except ValidationError:
        return redirect("/admin/users", err="validation_error")
    return await _write_then_back("/admin/users", "user", accounts.patch_user, state(request), p, user_id, body)


@router.post("/admin/users/{user_id}/unlock")
async def users_unlock(user_id: int, request: Request):
    form, p = await form_principal_async(request)
    return await _write_then_back("/admin/users", "unlocked", accounts.unlock, state(request), p, user_id)


def _keys_ctx(st, p) -> dict:
    keys = accounts.list_keys(st, p)
    with st.db.read() as s:
        names = {u.id: u.username for u in s.execute(select(User)).scalars()}
    return {"keys": keys, "names": names, "users": sorted(names.items())}


NEW_KEY_COOKIE = "baomi_new_key"


def _seal_new_key(st, session_token: str, full: str) -> str:
    """The new key for the one page that shows it (post/redirect/get): encrypted with the service
    key, bound to this session, in a short-lived cookie scoped to /admin/keys."""
    import base64
    aad = ("newkey:" + sha256_hex(session_token or "")).encode()
    return base64.urlsafe_b64encode(st.cipher.encrypt(full.encode(), aad=aad)).decode()


def _open_new_key(st, session_token: str, sealed: str) -> str | None:
    import base64
    try:
        aad = ("newkey:" + sha256_hex(session_token or "")).encode()
        return st.cipher.decrypt(base64.urlsafe_b64decode(sealed.encode()), aad=aad).decode()
    except Exception:        # noqa: BLE001 - another session's, tampered or stale: show nothing
        return None


@router.get("/admin/keys")
def keys_page(request: Request):
    p = _admin(request)
    st = state(request)
    ctx = _keys_ctx(st, p)
    sealed = request.cookies.get(NEW_KEY_COOKIE)
    new_key = _open_new_key(st, request.cookies.get(SESSION_COOKIE, ""), sealed) if sealed else None
    shown = None
    if new_key:
        prefix = new_key.split("_")[1] if new_key.count("_") >= 2 else ""
        shown = next((k.model_copy(update={"key": new_key}) for k in ctx["keys"] if k.prefix == prefix), None)
    resp = render(request, "keys.html", {**ctx, "new_key": shown}, p=p)
    if sealed:
        resp.delete_cookie(NEW_KEY_COOKIE, path="/admin/keys")    # shown once: a reload shows it no more
    return resp


@router.post("/admin/keys")
async def keys_create(request: Request):
    form, p = await form_principal_async(request)
    st = state(request)
    try:
        body = accounts.KeyIn(user_id=int(form.get("user_id", "0") or 0), name=form.get("name", ""),
                              scopes=form.getlist("scopes") or ["gate", "scan"])
    except (ValidationError, ValueError):
        return redirect("/admin/keys", err="validation_error")
    try:
        out = await run_in_threadpool(accounts.create_key, st, p, body)
    except APIError as exc:
        return redirect("/admin/keys", err=exc.code)
    # post/redirect/get: a reload of the page cannot create a second key; the full key is shown
    # once, on the page the redirect leads to (never in a URL or a log)
    resp = redirect("/admin/keys", msg="key_created")
    resp.set_cookie(NEW_KEY_COOKIE, _seal_new_key(st, request.cookies.get(SESSION_COOKIE, ""), out.key),
                    httponly=True, samesite="strict", secure=st.settings.cookie_secure, path="/admin/keys", max_age=300)
    return resp


@router.post("/admin/keys/{key_id}/revoke")
async def keys_revoke(key_id: int, request: Request):
    form, p = await form_principal_async(request)
    return await _write_then_back("/admin/keys", "key_revoked", accounts.revoke_key, state(request), p, key_id)


@router.get("/admin/policy")
def policy_page(request: Request):
    p = page_principal(request)
    check(p, "lexicon.view")
    st = state(request)
    base = lexedit.lexicon_dir(st)
    files = []
    for f in sorted(base.rglob("*")):
        if f.is_file() and f.suffix in (".toml", ".tsv", ".md") and f.stat().st_size < 512 * 1024:
            text = f.read_text("utf-8", errors="replace")
            files.append({"name": str(f.relative_to(base)), "size": f.stat().st_size, "editable": f.suffix == ".toml",
                          "lines": text.count("\n") + 1, "text": text[:60000], "cut": len(text) > 60000})
    with st.db.read() as s:
        history = s.execute(select(AuditEntry).where(AuditEntry.action == "lexicon.updated")
                            .order_by(AuditEntry.seq.desc()).limit(20)).scalars().all()
        history = [{"ts": h.ts, "actor": h.actor, "file": h.object_id, "before": h.before, "after": h.after}
                   for h in history]
    return render(request, "policy.html", {"files": files, "ruleset_hash": st.get_scanner().ruleset_hash,
                                           "history": history}, p=p)


@router.get("/admin/policy/edit")
def policy_edit(request: Request):
    p = _admin(request)
    rel = request.query_params.get("file", "")
    path = lexedit.resolve(state(request), rel)
    return render(request, "policy_edit.html", {"file": rel, "text": path.read_text("utf-8", errors="replace"),
                                                "error": ""}, p=p)


@router.post("/admin/policy/edit")
async def policy_save(request: Request):
    form, p = await form_principal_async(request)
    check(p, "admin")
    rel, text = form.get("file", ""), form.get("text", "")
    if not isinstance(rel, str) or not isinstance(text, str):
        return redirect("/admin/policy", err="validation_error")
    try:
        await run_in_threadpool(lexedit.save, state(request), p.actor, rel, text)
    except APIError as exc:
        if exc.status in (404, 413):
            raise
        # show the edit again with the reason; nothing was written
        return render(request, "policy_edit.html", {"file": rel, "text": text, "error": exc.message}, status=422, p=p)
    return redirect("/admin/policy", msg="lexicon")


# -- the fingerprint allowlist (remembered verdicts, service.remembered) -----------------------------
@router.get("/admin/allowlist")
def allowlist_page(request: Request):
    p = page_principal(request)
    check(p, "allowlist.view")
    st = state(request)
    show = request.query_params.get("show", "active")
    entries = remembered.list_entries(st, include_inactive=show == "all")
    return render(request, "allowlist.html", {"entries": entries, "show": show, "can_edit": workflow.can(p, "allowlist.edit"),
                                              "SCOPE_ZH": remembered.SCOPE_ZH, "LABEL_ZH": remembered.LABEL_ZH}, p=p)


@router.post("/admin/allowlist/{entry_id}/{how}")
async def allowlist_end(entry_id: int, how: str, request: Request):
    form, p = await form_principal_async(request)
    if how not in ("revoke", "expire"):
        return redirect("/admin/allowlist", err="validation_error")
    st = state(request)

    def end() -> None:
        check(p, "allowlist.edit")
        remembered.end_entry(st, p.actor, p.user_id, entry_id, how)
    return await _write_then_back("/admin/allowlist", "entry_revoked" if how == "revoke" else "entry_expired", end)
