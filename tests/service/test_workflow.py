"""The whole 申请 → 保密审查 → 修改 → 审批 → 发布 workflow through HTTP, on SQLite and PostgreSQL."""
from __future__ import annotations

import re

import pytest

from support.service_helpers import BACKENDS, running_service, valid_id_number, wait_submission

MARKED = "秘密★5年\n关于2027年度某项工作安排的通知\n各单位：现将有关事项通知如下。"


@pytest.fixture(params=BACKENDS)
def svc(request, tmp_path):
    with running_service(tmp_path, request.param) as s:
        s.users(alice="author", bob="author", rita="reviewer", apollo="approver", root="admin")
        s.cms_key = s.api_key("root", scopes=("gate", "scan"))
        yield s


def test_full_workflow(svc):
    author, reviewer, approver = svc.login("alice"), svc.login("rita"), svc.login("apollo")
    cms = svc.key_client(svc.cms_key)
    idn = valid_id_number()
    v1 = f"关于开展社区志愿服务活动的通知\n联系人张某，身份证号{idn}，欢迎报名参加。"
    v2 = "关于开展社区志愿服务活动的通知\n请有意参加的同志于本周五前向社区服务中心报名。"

    # 1. author submits with the 申请 fields
    r = author.post("/api/v1/submissions", json={
        "text": v1, "title": "社区志愿服务活动通知", "purpose": "动员报名", "channel": "单位门户网站",
        "scope": "社会公开", "summary": "志愿服务活动安排"})
    assert r.status_code == 202, r.text
    sub_id = r.json()["id"]
    assert r.headers["Location"].endswith(sub_id)

    # 2. scan runs as a job; the report lists the ID number; the decision is review
    sub = wait_submission(author, sub_id)
    assert sub["status"] == "pending_review"
    rep = sub["report"]
    assert rep["decision"] == "review"
    cats = [f["category"] for f in rep["findings"]]
    assert "pii.id_card" in cats, cats
    assert all("id" in f and f["verdict"] is None for f in rep["findings"])

    # the CMS gate does not let the unreviewed draft through
    g = cms.post("/api/v1/gate", json={"text": v1}).json()
    assert g["allow"] is False and g["decision"] == "review"

    # approving without verdicts is refused with a code
    r = reviewer.post(f"/api/v1/submissions/{sub_id}/review", json={"decision": "approve"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "verdicts_missing"

    # 3. reviewer verdicts: the ID number is confirmed; everything else judged too
    for f in rep["findings"]:
        verdict = "confirmed" if f["category"] == "pii.id_card" else "false_positive"
        r = reviewer.put(f"/api/v1/submissions/{sub_id}/findings/{f['id']}/verdict",
                         json={"verdict": verdict, "reason": "公开通知中不得出现个人身份证号" if verdict == "confirmed" else "非敏感内容"})
        assert r.status_code == 200, r.text
    # with a confirmed risk the reviewer cannot approve
    r = reviewer.post(f"/api/v1/submissions/{sub_id}/review", json={"decision": "approve"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "confirmed_risk_open"

    # 4. changes requested
    r = reviewer.post(f"/api/v1/submissions/{sub_id}/review",
                      json={"decision": "request_changes", "reason": "请删除身份证号后重新提交"})
    assert r.status_code == 200 and r.json()["status"] == "changes_requested"

    # 5. new version; versions kept, findings diffed
    r = author.post(f"/api/v1/submissions/{sub_id}/versions", json={"text": v2, "note": "已删除身份证号"})
    assert r.status_code == 202, r.text
    sub = wait_submission(author, sub_id)
    assert sub["current_version"] == 2 and len(sub["versions"]) == 2
    assert sub["status"] == "pending_review"
    assert "pii.id_card" in [d["category"] for d in sub["diff"]["resolved"]]
    assert not any(f["category"] == "pii.id_card" for f in sub["report"]["findings"])
    old = author.get(f"/api/v1/submissions/{sub_id}?version=1").json()
    assert any(f["category"] == "pii.id_card" for f in old["report"]["findings"])

    # 6. reviewer approves (verdicts on every remaining finding first)
    for f in sub["report"]["findings"]:
        assert reviewer.put(f"/api/v1/submissions/{sub_id}/findings/{f['id']}/verdict",
                            json={"verdict": "accepted_risk", "reason": "公开信息"}).status_code == 200
    r = reviewer.post(f"/api/v1/submissions/{sub_id}/review", json={"decision": "approve", "reason": "同意发布"})
    assert r.status_code == 200 and r.json()["status"] == "pending_approval", r.text

    # the reviewer cannot sign as approver (role), and the author cannot either
    assert reviewer.post(f"/api/v1/submissions/{sub_id}/approval", json={"decision": "approve"}).status_code == 403
    assert author.post(f"/api/v1/submissions/{sub_id}/approval", json={"decision": "approve"}).status_code == 403

    # 7. approver signs
    r = approver.post(f"/api/v1/submissions/{sub_id}/approval", json={"decision": "approve", "reason": "批准"})
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text

    # 8. the CMS gate allows that content, blocks a marked draft
    g = cms.post("/api/v1/gate", json={"text": v2}).json()
    assert g["allow"] is True and g["decision"] in ("pass", "review")
    g = cms.post("/api/v1/gate", json={"text": MARKED}).json()
    assert g["allow"] is False and g["decision"] == "block"
    assert any("marking" in x for x in g["reasons"])
    # the first, unapproved version is still held
    g = cms.post("/api/v1/gate", json={"text": v1}).json()
    assert g["allow"] is False

    # publication marked by the author
    r = author.post(f"/api/v1/submissions/{sub_id}/publish", json={"url": "https://portal.example/notice/1"})
    assert r.status_code == 200 and r.json()["status"] == "published"

    # the record (审查单) as HTML and PDF
    html = author.get(f"/api/v1/submissions/{sub_id}/record.html")
    assert html.status_code == 200
    for s in ("上网信息发布保密审查单", "社区志愿服务活动通知", "单位门户网站", "社会公开", "rita", "apollo",
              "同意发布", "退回修改", "请删除身份证号后重新提交"):
        assert s in html.text, s
    assert idn not in html.text          # the matched value is not printed in the record
    pdf = author.get(f"/api/v1/submissions/{sub_id}/record.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and len(pdf.content) > 1500
    assert "filename*=UTF-8''" in pdf.headers["content-disposition"]
    import pypdfium2 as pdfium
    doc = pdfium.PdfDocument(pdf.content)
    text = "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    for s in ("上网信息发布保密审查单", "保密审查人签字", "审批人签字", "盖章", "同意发布", "rita", "apollo"):
        assert s in text, s
    assert not re.search(r"\b(?:pii|marking|secret|hidden)\.[a-z_]+", text) and idn not in text   # no English codes

    # the audit trail has every step, none with draft text or the matched value
    trail = reviewer.get(f"/api/v1/submissions/{sub_id}/audit").json()
    actions = [e["action"] for e in trail]
    for a in ("submission.created", "scan.completed", "review.verdict", "review.request_changes",
              "submission.version_added", "review.approve", "approval.approve", "publication.published"):
        assert a in actions, a
    assert idn not in str(trail) and "志愿服务活动" not in str(trail)
    admin = svc.login("root")
    assert admin.get("/api/v1/admin/audit/verify").json()["ok"] is True

    # the documented response schemas describe what the API really returns
    from service import schemas
    schemas.SubmissionDetailOut.model_validate(author.get(f"/api/v1/submissions/{sub_id}?segments=true").json())
    schemas.SubmissionListOut.model_validate(reviewer.get("/api/v1/submissions").json())
    for e in trail:
        schemas.AuditEntryOut.model_validate(e)
    schemas.ReportOut.model_validate(author.post("/api/v1/scan", json={"text": MARKED}).json())
    schemas.ErrorOut.model_validate(author.get("/api/v1/submissions/nope").json())
    schemas.HealthOut.model_validate(svc.client.get("/healthz").json())


def test_author_isolation_and_listing(svc):
    a, b, rev = svc.login("alice"), svc.login("bob"), svc.login("rita")
    ida = a.post("/api/v1/submissions", json={"text": "甲的草稿", "title": "甲"}).json()["id"]
    idb = b.post("/api/v1/submissions", json={"text": "乙的草稿", "title": "乙"}).json()["id"]
    assert [i["id"] for i in a.get("/api/v1/submissions").json()["items"]] == [ida]
    r = a.get(f"/api/v1/submissions/{idb}")
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_owner"
    assert a.get(f"/api/v1/submissions/{idb}/record.html").status_code == 403
    assert a.post(f"/api/v1/submissions/{idb}/withdraw", json={}).status_code == 403
    listed = rev.get("/api/v1/submissions").json()
    assert {i["id"] for i in listed["items"]} == {ida, idb}
    assert rev.get("/api/v1/submissions?owner=bob").json()["items"][0]["id"] == idb
    # withdraw by the owner
    wait_submission(a, ida)
    r = a.post(f"/api/v1/submissions/{ida}/withdraw", json={"reason": "不再发布"})
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert a.post(f"/api/v1/submissions/{ida}/versions", json={"text": "x"}).status_code == 409


def test_reject_escalate_and_separation_of_duties(svc):
    a, rev, appr = svc.login("alice"), svc.login("rita"), svc.login("apollo")
    sid = a.post("/api/v1/submissions", json={"text": MARKED, "title": "带密级标志"}).json()["id"]
    sub = wait_submission(a, sid)
    assert sub["report"]["decision"] == "block"
    r = rev.post(f"/api/v1/submissions/{sid}/review", json={"decision": "escalate"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "reason_required"
    r = rev.post(f"/api/v1/submissions/{sid}/review", json={"decision": "escalate", "reason": "提交保密办定密"})
    assert r.json()["status"] == "escalated"
    # the 保密办 (an admin) reviews the escalated item and then cannot also sign it off
    root = svc.login("root")
    for f in sub["report"]["findings"]:
        root.put(f"/api/v1/submissions/{sid}/findings/{f['id']}/verdict", json={"verdict": "false_positive", "reason": "已解密"})
    r = root.post(f"/api/v1/submissions/{sid}/review", json={"decision": "approve", "reason": "已解密"})
    assert r.status_code == 200
    r = root.post(f"/api/v1/submissions/{sid}/approval", json={"decision": "approve"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "separation_of_duties"
    # an approved marked draft still never passes the gate: block is never turned into allow
    assert appr.post(f"/api/v1/submissions/{sid}/approval", json={"decision": "approve"}).status_code == 200
    g = svc.key_client(svc.cms_key).post("/api/v1/gate", json={"text": MARKED}).json()
    assert g["decision"] == "block" and g["allow"] is False


def _approved(svc, author, text="关于开展植树活动的通知"):
    """A submission taken through review and approval by rita and apollo -> its id."""
    rev, appr = svc.login("rita"), svc.login("apollo")
    sid = author.post("/api/v1/submissions", json={"text": text, "title": "植树"}).json()["id"]
    sub = wait_submission(author, sid)
    for f in sub["report"]["findings"]:
        rev.put(f"/api/v1/submissions/{sid}/findings/{f['id']}/verdict", json={"verdict": "accepted_risk", "reason": "可公开"})
    assert rev.post(f"/api/v1/submissions/{sid}/review", json={"decision": "approve"}).status_code == 200
    assert appr.post(f"/api/v1/submissions/{sid}/approval", json={"decision": "approve"}).status_code == 200
    return sid


def test_publish_needs_the_submit_scope(svc):
    """Publishing is a state change like any other: an API key without the `submit` scope (a
    CMS gate key) cannot mark a submission published, even the owner's."""
    a = svc.login("alice")
    sid = _approved(svc, a)
    for scopes in (("gate",), ("gate", "scan")):
        r = svc.key_client(svc.api_key("alice", scopes=scopes)).post(f"/api/v1/submissions/{sid}/publish", json={})
        assert r.status_code == 403 and r.json()["error"] == {
            "code": "scope_forbidden", "message": "该凭据没有执行此操作的权限范围。", "required_scope": "submit"}
    assert a.get(f"/api/v1/submissions/{sid}").json()["status"] == "approved"
    r = svc.key_client(svc.api_key("alice", scopes=("submit",))).post(f"/api/v1/submissions/{sid}/publish",
                                                                      json={"url": "https://portal.example/1"})
    assert r.status_code == 200 and r.json()["status"] == "published"


def test_a_step_in_the_wrong_state_is_409(svc):
    """Every transition answers 409 invalid_state (with the state) when the submission is not in
    one of its source states."""
    a, rev = svc.login("alice"), svc.login("rita")
    sid = _approved(svc, a)
    r = rev.post(f"/api/v1/submissions/{sid}/review", json={"decision": "reject", "reason": "再看看"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_state" and r.json()["error"]["state"] == "approved"
    assert a.post(f"/api/v1/submissions/{sid}/withdraw", json={}).json()["status"] == "withdrawn"
    for path, body in (("withdraw", {}), ("publish", {}), ("approval", {"decision": "approve"})):
        c = svc.login("apollo") if path == "approval" else a
        r = c.post(f"/api/v1/submissions/{sid}/{path}", json=body)
        assert r.status_code == 409 and r.json()["error"]["state"] == "withdrawn", (path, r.text)
