"""Issue 13, workflow integrity: the red-team findings (../shared/findings/redteam.md) as tests,
on SQLite and PostgreSQL. Separation of duties (R1) here; the other items in the files named
in service/README.md ("Red-team findings")."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from service.models import Decision, Submission
from support.service_helpers import BACKENDS, running_service, wait_submission

DRAFT = "内部资料，联系电话 13800138000。"


@pytest.fixture(params=BACKENDS)
def svc(request, tmp_path):
    with running_service(tmp_path, request.param) as s:
        s.users(alice="author", rita="reviewer", rex="reviewer", apollo="approver", root="admin", boss="admin")
        s.cms = s.key_client(s.api_key("alice", scopes=("gate", "scan")))
        yield s


def judge_all(c, sub: dict, verdict: str = "accepted_risk") -> list[int]:
    codes = []
    for f in sub["report"]["findings"]:
        r = c.put(f"/api/v1/submissions/{sub['id']}/findings/{f['id']}/verdict",
                  json={"verdict": verdict, "reason": "公开的单位电话"})
        codes.append(r.status_code)
    return codes


def submitted(svc, who: str, text: str = DRAFT) -> dict:
    c = svc.login(who)
    r = c.post("/api/v1/submissions", json={"text": text, "title": "t"})
    assert r.status_code == 202, r.text
    return wait_submission(c, r.json()["id"])


# -- R1 separation of duties ------------------------------------------------------------------------
def test_r1a_admin_cannot_approve_own_submission_and_gate_holds(svc):
    """R1 (a): admin submits, a reviewer approves the review, the same admin signs -> refused,
    and the gate keeps review (not allow)."""
    sub = submitted(svc, "root")
    rita = svc.login("rita")
    assert set(judge_all(rita, sub)) == {200}
    assert rita.post(f"/api/v1/submissions/{sub['id']}/review", json={"decision": "approve"}).status_code == 200
    root = svc.login("root")
    r = root.post(f"/api/v1/submissions/{sub['id']}/approval", json={"decision": "approve"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "separation_of_duties", r.text
    assert r.json()["error"]["conflict"] == "submitter"
    g = svc.cms.post("/api/v1/gate", json={"text": DRAFT}).json()
    assert g["decision"] == "review" and g["allow"] is False
    # another admin may sign; then the gate lets the same text through
    r = svc.login("boss").post(f"/api/v1/submissions/{sub['id']}/approval", json={"decision": "approve"})
    assert r.status_code == 200, r.text
    assert svc.cms.post("/api/v1/gate", json={"text": DRAFT}).json()["allow"] is True


def test_r1b_admin_cannot_review_or_judge_own_submission(svc):
    sub = submitted(svc, "root")
    root = svc.login("root")
    codes = judge_all(root, sub)
    assert codes and set(codes) == {403}
    r = root.post(f"/api/v1/submissions/{sub['id']}/review", json={"decision": "approve"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "separation_of_duties"
    r = root.post(f"/api/v1/submissions/{sub['id']}/review", json={"decision": "reject", "reason": "不予发布"})
    assert r.status_code == 403


def test_r1c_author_promoted_later_cannot_review_own_submission(svc):
    sub = submitted(svc, "alice")
    boss = svc.login("boss")
    uid = next(u["id"] for u in boss.get("/api/v1/admin/users").json() if u["username"] == "alice")
    assert boss.patch(f"/api/v1/admin/users/{uid}", json={"role": "reviewer"}).status_code == 200
    alice = svc.login("alice")
    assert set(judge_all(alice, sub)) == {403}
    r = alice.post(f"/api/v1/submissions/{sub['id']}/review", json={"decision": "approve"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "separation_of_duties"
    # and promoted to approver, she cannot sign it either
    assert set(judge_all(svc.login("rita"), sub)) == {200}
    assert svc.login("rita").post(f"/api/v1/submissions/{sub['id']}/review",
                                  json={"decision": "approve"}).status_code == 200
    assert boss.patch(f"/api/v1/admin/users/{uid}", json={"role": "approver"}).status_code == 200
    r = svc.login("alice").post(f"/api/v1/submissions/{sub['id']}/approval", json={"decision": "approve"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "separation_of_duties"


def test_r1_who_judged_findings_does_not_also_sign(svc):
    """Verdicts by one admin, the review decision by a reviewer: that admin still may not sign."""
    sub = submitted(svc, "alice")
    assert set(judge_all(svc.login("root"), sub)) == {200}
    assert svc.login("rita").post(f"/api/v1/submissions/{sub['id']}/review",
                                  json={"decision": "approve"}).status_code == 200
    r = svc.login("root").post(f"/api/v1/submissions/{sub['id']}/approval", json={"decision": "approve"})
    assert r.status_code == 403 and r.json()["error"]["conflict"] == "reviewer"
    assert svc.login("apollo").post(f"/api/v1/submissions/{sub['id']}/approval",
                                    json={"decision": "approve"}).status_code == 200


def test_r1_approver_does_not_take_the_review_decision(svc):
    """The approver neither gets the review form nor may post the review decision; the record
    carries no 保密审查 row by the approver."""
    sub = submitted(svc, "alice")
    ap = svc.login("apollo")
    assert set(judge_all(ap, sub)) == {403}
    r = ap.post(f"/api/v1/submissions/{sub['id']}/review", json={"decision": "request_changes", "reason": "同意发布。"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "role_forbidden"
    page = _web(svc, "apollo").get(f"/s/{sub['id']}").text
    assert 'action="/s/%s/review"' % sub["id"] not in page and "保密审查决定" not in page
    assert 'class="vform"' not in page
    # the reviewer's form has no decision chosen in advance
    page = _web(svc, "rita").get(f"/s/{sub['id']}").text
    form = page[page.index('action="/s/%s/review"' % sub["id"]):]
    form = form[:form.index("</form>")]
    assert "checked" not in form and "required" in form
    with svc.st.db.read() as s:
        assert not s.query(Decision).filter(Decision.submission_id == sub["id"]).all()


def test_r1_gate_ignores_a_self_approved_row_written_before_the_rules(svc):
    """A submission marked approved by its own submitter (old data, or written by hand) does not
    turn review into allow."""
    sub = submitted(svc, "root")
    with svc.st.db.write() as s:
        row = s.get(Submission, sub["id"])
        row.status, row.reviewer_id, row.approver_id = "approved", row.owner_id, row.owner_id
    g = svc.cms.post("/api/v1/gate", json={"text": DRAFT}).json()
    assert g["decision"] == "review" and g["allow"] is False and g["approved_submission_id"] is None


def _web(svc, username: str) -> TestClient:
    c = TestClient(svc.app, base_url="http://testserver")
    tok = re.search(r'name="login_csrf" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"login_csrf": tok, "username": username, "password": svc.passwords[username],
                               "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return c


# -- R3 API-key scopes on every route ------------------------------------------------------------------
def _key(svc, admin: str, user: str, scopes: list[str]) -> TestClient:
    c = svc.login(admin)
    uid = next(u["id"] for u in c.get("/api/v1/admin/users").json() if u["username"] == user)
    r = c.post("/api/v1/admin/api-keys", json={"user_id": uid, "scopes": scopes, "name": "k"})
    assert r.status_code == 201, r.text
    return svc.key_client(r.json()["key"])


def test_r3_a_scan_key_reads_no_submission_draft_record_or_audit(svc):
    sub = submitted(svc, "alice")
    sid = sub["id"]
    rid = sub["report"]["report_id"]
    scan = _key(svc, "root", "rita", ["scan"])               # a reviewer's key, scope scan only
    for path in ("/api/v1/submissions", f"/api/v1/submissions/{sid}", f"/api/v1/submissions/{sid}?segments=true",
                 f"/api/v1/submissions/{sid}/record.html", f"/api/v1/submissions/{sid}/record.pdf",
                 f"/api/v1/submissions/{sid}/record.docx",
                 f"/api/v1/submissions/{sid}/audit"):
        r = scan.get(path)
        assert r.status_code == 403 and r.json()["error"]["code"] == "scope_forbidden", (path, r.status_code)
    # staff reach through a key only with the review scope: the scan key reads back only its own reports
    r = scan.get(f"/api/v1/reports/{rid}?segments=true")
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_owner"
    own = scan.post("/api/v1/scan", json={"text": DRAFT})
    assert own.status_code == 200 and scan.get(f"/api/v1/reports/{own.json()['report_id']}").status_code == 200
    # and cannot act in the workflow
    for f in sub["report"]["findings"]:
        r = scan.put(f"/api/v1/submissions/{sid}/findings/{f['id']}/verdict", json={"verdict": "confirmed"})
        assert r.status_code == 403
    # with the review scope the same reviewer's key reads the queue
    assert _key(svc, "root", "rita", ["review"]).get("/api/v1/submissions").json()["total"] >= 1


def test_r3_a_gate_key_cannot_publish_and_allowlist_needs_approve(svc):
    sub = submitted(svc, "root")
    rita, boss = svc.login("rita"), svc.login("boss")
    judge_all(rita, sub)
    assert rita.post(f"/api/v1/submissions/{sub['id']}/review", json={"decision": "approve"}).status_code == 200
    assert boss.post(f"/api/v1/submissions/{sub['id']}/approval", json={"decision": "approve"}).status_code == 200
    gate = _key(svc, "boss", "root", ["gate"])                # the owner's (an admin's) gate-only key
    r = gate.post(f"/api/v1/submissions/{sub['id']}/publish", json={"url": "https://x.example/1"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "scope_forbidden"
    assert gate.get(f"/api/v1/submissions/{sub['id']}").status_code == 403
    scan = _key(svc, "root", "apollo", ["scan"])              # an approver's scan key
    r = scan.get("/api/v1/admin/allowlist")
    assert r.status_code == 403 and r.json()["error"]["code"] == "scope_forbidden"
    assert _key(svc, "root", "apollo", ["approve"]).get("/api/v1/admin/allowlist").status_code == 200
    # a key never opens a page, whatever its scopes
    full = _key(svc, "boss", "root", ["scan", "gate", "submit", "review", "approve", "admin"])
    for path in ("/me", "/queue", f"/s/{sub['id']}", "/admin", "/admin/keys"):
        r = full.get(path, follow_redirects=False)
        assert r.status_code == 403 and "pages_need_session" in r.text, path
    r = full.post("/admin/keys", data={"name": "x"}, follow_redirects=False)
    assert r.status_code == 403


# -- R4, R12, R13 login throttling, password policy, the last admin ---------------------------------------
@pytest.fixture(params=BACKENDS)
def lsvc(request, tmp_path):
    with running_service(tmp_path, request.param, workers=0, login_free_per_account=3,
                         login_free_per_address=8, login_backoff_s=30) as s:
        s.backend = request.param
        s.user("author", "author", "Correct-Horse-77-Battery")
        s.user("root", "admin")
        yield s


def _login(c, user, pw):
    return c.post("/api/v1/auth/login", json={"username": user, "password": pw})


def test_r4_thirty_wrong_passwords_then_the_right_one_is_refused_until_unlocked(lsvc):
    c = lsvc.client
    codes = [_login(c, "author", f"wrong-{i}").status_code for i in range(30)]
    assert codes[:3] == [401] * 3 and codes[3] == 401 and set(codes[4:]) == {429}
    r = _login(c, "author", "Correct-Horse-77-Battery")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.json()["error"]["code"] == "too_many_attempts"
    # the admin sees the lock and lifts it
    admin = lsvc.login("root")
    u = next(u for u in admin.get("/api/v1/admin/users").json() if u["username"] == "author")
    assert u["locked_until"] is not None
    assert admin.post(f"/api/v1/admin/users/{u['id']}/unlock").json()["was_locked"] is True
    assert _login(c, "author", "Correct-Horse-77-Battery").status_code == 200


def test_r4_the_wait_doubles_with_each_failure_after_the_free_ones(lsvc):
    from service.models import LoginThrottle
    c = lsvc.client
    for _ in range(3):
        assert _login(c, "author", "x").status_code == 401
    waits = []
    for _ in range(3):
        assert _login(c, "author", "x").status_code == 401          # counted: starts a wait
        r = _login(c, "author", "x")
        assert r.status_code == 429
        waits.append(int(r.headers["Retry-After"]))
        with lsvc.st.db.write() as s:                                  # the wait runs out (time passes)
            for row in s.query(LoginThrottle).filter(LoginThrottle.key.like("u:%")):
                row.locked_until = 0.0
    assert waits[0] <= 30 and 55 <= waits[1] <= 60 and 115 <= waits[2] <= 120, waits


def test_r4_per_address_limit_across_user_names(lsvc):
    c = lsvc.client
    codes = [_login(c, f"nobody{i}", "x").status_code for i in range(10)]
    assert codes[:8] == [401] * 8 and codes[9] == 429
    # another client address is not held back by this one
    other = TestClient(lsvc.app, base_url="http://testserver", client=("10.9.8.7", 5000))
    assert _login(other, "author", "Correct-Horse-77-Battery").status_code == 200


def test_r13_unknown_names_are_not_kept_in_clear_and_rows_are_bounded(lsvc):
    from sqlalchemy import func, select
    from service.models import AuditEntry
    canary = "Canary-Pw-7f3a9c"          # e.g. a password typed into the user-name box
    c = lsvc.client
    for _ in range(30):
        _login(c, canary, "x")
    with lsvc.st.db.read() as s:
        rows = s.execute(select(AuditEntry).where(AuditEntry.action.like("auth.login%"))).scalars().all()
        dump = " ".join(f"{e.actor} {e.object_id} {e.before} {e.after}" for e in rows)
        n = s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        actors = [e.actor for e in rows]
    assert canary not in dump and canary.casefold() not in dump
    assert all(a.startswith("unknown#") for a in actors)
    assert 3 <= len(rows) <= 6 and n < 12, (len(rows), n)
    if lsvc.backend == "sqlite":
        db = lsvc.settings.data_dir / "baomi.db"
        blob = b"".join(p.read_bytes() for p in db.parent.glob("baomi.db*"))
        assert canary.encode() not in blob


def test_r12_password_policy(lsvc):
    admin = lsvc.login("root")
    for pw in ("aaaaaaaaaa", "1234567890", "aaaaaaaaaaaa", "123456789012", "password1234", "qwertyuiop12",
               "newuser-2024", "newusernewuser"):
        r = admin.post("/api/v1/admin/users", json={"username": "newuser", "role": "author", "password": pw})
        assert r.status_code == 422 and r.json()["error"]["code"] == "weak_password", pw
    r = admin.post("/api/v1/admin/users", json={"username": "newuser", "role": "author", "password": "Vt8#lake-Ochre-mill"})
    assert r.status_code == 201
    r = admin.patch(f"/api/v1/admin/users/{r.json()['id']}", json={"password": "1234567890ab"})
    assert r.status_code == 422


def test_r12_the_last_active_admin_stays(lsvc):
    admin = lsvc.login("root")
    me = admin.get("/api/v1/auth/me").json()["id"]
    for body in ({"active": False}, {"role": "approver"}):
        r = admin.patch(f"/api/v1/admin/users/{me}", json=body)
        assert r.status_code == 409 and r.json()["error"]["code"] == "last_admin"
    other = admin.post("/api/v1/admin/users", json={"username": "root2", "role": "admin",
                                                    "password": "Vt8#lake-Ochre-mill"}).json()["id"]
    assert admin.patch(f"/api/v1/admin/users/{me}", json={"role": "approver"}).status_code == 200
    # root is no admin any more; root2, the last one, cannot leave either
    lsvc.passwords["root2"] = "Vt8#lake-Ochre-mill"
    r2 = lsvc.login("root2")
    assert r2.patch(f"/api/v1/admin/users/{other}", json={"active": False}).json()["error"]["code"] == "last_admin"


# -- R5 sessions ------------------------------------------------------------------------------------------
def test_r5_password_reset_and_lower_role_end_every_session(lsvc):
    lsvc.user("bee", "reviewer", "Correct-Horse-88-Battery")
    b1, b2 = lsvc.login("bee"), lsvc.login("bee")
    admin = lsvc.login("root")
    uid = b1.get("/api/v1/auth/me").json()["id"]
    assert admin.patch(f"/api/v1/admin/users/{uid}", json={"password": "Vt8#lake-Ochre-mill"}).status_code == 200
    assert b1.get("/api/v1/auth/me").status_code == 401 and b2.get("/api/v1/auth/me").status_code == 401
    lsvc.passwords["bee"] = "Vt8#lake-Ochre-mill"
    b3 = lsvc.login("bee")
    assert admin.patch(f"/api/v1/admin/users/{uid}", json={"role": "approver"}).status_code == 200
    assert b3.get("/api/v1/auth/me").status_code == 200           # raised: the session stays
    assert admin.patch(f"/api/v1/admin/users/{uid}", json={"role": "author"}).status_code == 200
    assert b3.get("/api/v1/auth/me").status_code == 401           # lowered: it ends


def test_r5_cli_passwd_ends_sessions(lsvc):
    import os
    import subprocess
    import sys
    lsvc.user("cee", "author", "Correct-Horse-99-Battery")
    c = lsvc.login("cee")
    args = [sys.executable, "-m", "scanner.cli", "user", "passwd", "cee", "--data-dir", str(lsvc.settings.data_dir)]
    if lsvc.settings.db_url:
        args += ["--db-url", lsvc.settings.db_url]
    env = {**os.environ, "BAOMI_LIGHT_SCANNER": "1", "BAOMI_ARGON2_FAST": "1"}
    r = subprocess.run(args + ["--password", "12345678901234"], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 1 and "weak password" in r.stderr
    assert c.get("/api/v1/auth/me").status_code == 200
    r = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert c.get("/api/v1/auth/me").status_code == 401


def test_r5_idle_and_absolute_expiry(lsvc):
    from service.models import WebSession
    c1, c2 = lsvc.login("author"), lsvc.login("author")
    assert lsvc.settings.session_idle_s == 1800 and lsvc.settings.session_ttl_s == 8 * 3600
    with lsvc.st.db.write() as s:
        rows = s.query(WebSession).order_by(WebSession.created_at).all()
        rows[-2].last_seen_at = rows[-2].last_seen_at - 1801           # idle for longer than session_idle_s
        rows[-1].expires_at = rows[-1].created_at - 1                  # past its absolute expiry
    assert c1.get("/api/v1/auth/me").status_code == 401
    assert c2.get("/api/v1/auth/me").status_code == 401
    c3 = lsvc.login("author")
    with lsvc.st.db.write() as s:                                      # in use: the idle clock restarts
        row = s.query(WebSession).order_by(WebSession.created_at.desc()).first()
        row.last_seen_at -= 1700
    assert c3.get("/api/v1/auth/me").status_code == 200
    with lsvc.st.db.read() as s:
        assert s.query(WebSession).order_by(WebSession.created_at.desc()).first().last_seen_at > time_now() - 60


def time_now() -> float:
    import time
    return time.time()


# -- R9, R10 bad bytes -----------------------------------------------------------------------------------
def test_r9_nul_bytes_in_path_query_and_login_name_are_400(svc):
    a = svc.login("alice")
    for path in ("/api/v1/submissions/%00", "/api/v1/reports/%00abc", "/api/v1/jobs/a%00b", "/s/%00",
                 "/api/v1/submissions?owner=a%00b", "/api/v1/submissions?status=x%00"):
        r = a.get(path)
        assert r.status_code == 400 and r.json()["error"]["code"] == "nul_byte", (path, r.status_code)
    r = svc.client.post("/api/v1/auth/login", json={"username": "ad\u0000min", "password": "x"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "nul_byte"
    # the connection stays usable and the service is fine
    assert a.get("/api/v1/submissions").status_code == 200


def test_r10_deeply_nested_json_is_400(svc):
    a = svc.login("alice")
    deep = '{"text":' + "[" * 100000 + "]" * 100000 + "}"
    r = a.post("/api/v1/scan", content=deep, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    title = '{"text": "x", "title": ' + '{"a":' * 5000 + "1" + "}" * 5000 + "}"
    r = a.post("/api/v1/submissions", content=title, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = a.post("/api/v1/gate", content=deep, headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 403)


# -- matched text at rest -----------------------------------------------------------------------------
def test_finding_details_are_encrypted_at_rest_and_purged_with_the_body(svc):
    from service.jobs import purge_expired
    from service.models import FindingRow
    text = "关于表彰的通知\n联系人王小明，身份证号110105199003071234，手机13912345678。"
    sub = submitted(svc, "alice", text)
    exps = [f["explanation"] for f in sub["report"]["findings"] if f["explanation"]]
    assert exps
    with svc.st.db.read() as s:
        rows = s.query(FindingRow).filter(FindingRow.report_id == sub["report"]["report_id"]).all()
        assert rows and all(r.detail_enc and r.explanation == "" and r.suggestion == "" and r.location == "{}"
                            for r in rows)
    if not svc.settings.db_url:                     # SQLite: the file itself
        blob = b"".join(p.read_bytes() for p in svc.settings.data_dir.glob("baomi.db*"))
        for e in exps:
            assert e.encode() not in blob, e
    # the record still explains each finding
    rita = svc.login("rita")
    html = rita.get(f"/api/v1/submissions/{sub['id']}/record.html").text
    assert exps[0] in html
    # the retention purge takes the details with the report body
    purge_expired(svc.st, at=10 ** 11)
    with svc.st.db.read() as s:
        rows = s.query(FindingRow).filter(FindingRow.report_id == sub["report"]["report_id"]).all()
        assert rows and all(r.detail_enc is None and r.explanation == "" for r in rows)
    assert rita.get(f"/api/v1/submissions/{sub['id']}/record.html").status_code == 200


def test_plain_details_from_before_are_sealed_at_start(svc):
    from service.jobs import startup_sweep
    from service.models import FindingRow
    sub = submitted(svc, "alice", "联系人王小明，手机13912345678。")
    with svc.st.db.write() as s:           # a row as written before issue 13
        r = s.query(FindingRow).filter(FindingRow.report_id == sub["report"]["report_id"]).first()
        r.detail_enc, r.explanation, r.suggestion, r.location = None, "旧的说明 13912345678", "旧建议", '{"p": 1}'
        rid = r.id
    assert startup_sweep(svc.st)["finding_details_sealed"] == 1
    from service.reports import finding_detail
    with svc.st.db.read() as s:
        r = s.get(FindingRow, rid)
        assert r.explanation == "" and r.location == "{}" and finding_detail(s, r)["explanation"] == "旧的说明 13912345678"
