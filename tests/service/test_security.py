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
        s.user("alice", "author")
        s.user("rita", "reviewer")
        s.user("rex", "reviewer")
        s.user("apollo", "approver")
        s.user("root", "admin")
        s.user("boss", "admin")
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
