"""Issue 16, the service side: keyed fingerprints per install, verdicts carried over to the next
version, only deciding findings need a verdict, batch verdicts by filter, filters/sorting/grouping,
allowlist entries promoted from verdicts (scopes, expiry, revoke) in later scans and the gate, the
precision dashboard from real verdicts. Real service, real database (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
import os
import stat
import time

import pytest
from sqlalchemy import select, update

from scanner.fingerprint import fingerprint, key_id
from service.models import AuditEntry, FindingAllow, Verdict
from support.service_helpers import BACKENDS, running_service, wait_submission

MOBILE, LANDLINE, HOST = "13912345678", "010-65123456", "10.12.3.45"
TEXT = (f"关于开展社区活动的通知\n联系人手机{MOBILE}，请于周五前报名。办公电话：{LANDLINE}。\n"
        f"报名系统服务器{HOST}已上线。联系人手机{MOBILE}。")


def _svc(tmp_path, backend="sqlite"):
    return running_service(tmp_path, backend)


@pytest.fixture(params=BACKENDS)
def svc(request, tmp_path):
    with _svc(tmp_path, request.param) as s:
        _people(s)
        yield s


@pytest.fixture
def svc1(tmp_path):
    with _svc(tmp_path) as s:
        _people(s)
        yield s


def _people(s):
    s.users(alice="author", bob="author", rita="reviewer", rex="reviewer", apollo="approver", root="admin")


def submit(client, text, channel="单位门户网站", title="活动通知"):
    r = client.post("/api/v1/submissions", json={"text": text, "title": title, "channel": channel})
    assert r.status_code == 202, r.text
    return wait_submission(client, r.json()["id"])


def by_cat(sub, cat):
    return [f for f in sub["report"]["findings"] if f["category"] == cat]


def test_fingerprint_key_is_the_installs_and_shared_by_scan_gate_and_submissions(svc1, tmp_path):
    key_file = svc1.settings.data_dir / "fingerprint.key"
    assert key_file.exists() and stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    key = bytes.fromhex(key_file.read_text().strip())
    alice = svc1.login("alice")
    sub = submit(alice, TEXT)
    f = by_cat(sub, "pii.phone")[0]
    want = fingerprint(key, f["rule_id"], f["text"])
    assert f["fingerprint"] == want
    assert sub["report"]["fingerprint_key_id"] == key_id(key)
    scan = svc1.key_client(svc1.api_key("root", ("gate", "scan")))
    rep = scan.post("/api/v1/scan", json={"text": TEXT}).json()
    assert {x["fingerprint"] for x in rep["findings"]} == {x["fingerprint"] for x in sub["report"]["findings"]}
    g = scan.post("/api/v1/gate", json={"text": TEXT + "\n（闸门）"}).json()
    gate_rep = svc1.login("root").get(f"/api/v1/reports/{g['report_id']}").json()
    assert want in {x["fingerprint"] for x in gate_rep["findings"]}
    # another install has another key: the same finding has another fingerprint
    with running_service(tmp_path / "other") as other:
        other.user("carol", "author")
        sub2 = submit(other.login("carol"), TEXT)
        assert by_cat(sub2, "pii.phone")[0]["fingerprint"] != want


def test_only_deciding_findings_need_a_verdict_and_approval_ignores_low(svc):
    alice, rita = svc.login("alice"), svc.login("rita")
    sub = submit(alice, TEXT)
    low = [f for f in sub["report"]["findings"] if f["severity"] == "low"]
    assert low and all(not f["needs_verdict"] and f["state"] == "not_needed" for f in low)
    for f in sub["report"]["findings"]:
        if f["needs_verdict"] and f["verdict"] is None:
            r = rita.put(f"/api/v1/submissions/{sub['id']}/findings/{f['id']}/verdict",
                         json={"verdict": "accepted_risk", "reason": "活动联系人同意公开"})
            assert r.status_code == 200, r.text
    r = rita.post(f"/api/v1/submissions/{sub['id']}/review", json={"decision": "approve"})
    assert r.status_code == 200, r.text


def test_group_verdict_covers_every_occurrence(svc1):
    alice, rita = svc1.login("alice"), svc1.login("rita")
    sub = submit(alice, TEXT)
    mobiles = [f for f in by_cat(svc1.login("alice").get(f"/api/v1/submissions/{sub['id']}").json(), "pii.phone")
               if f["text"] == MOBILE]
    assert len(mobiles) == 2 and mobiles[0]["group"] == mobiles[1]["group"]
    r = rita.put(f"/api/v1/submissions/{sub['id']}/findings/{mobiles[0]['id']}/verdict",
                 json={"verdict": "false_positive", "reason": "单位公开电话"})
    assert r.json()["occurrences"] == 2
    view = rita.get(f"/api/v1/submissions/{sub['id']}/findings", params={"category": "pii.phone"}).json()
    g = next(x for x in view["groups"] if x["group"] == mobiles[0]["group"])
    assert len(g["occurrences"]) == 2 and all(o["verdict"]["verdict"] == "false_positive" for o in g["occurrences"])


def test_verdicts_carry_over_to_the_next_version(svc):
    alice, rita, rex = svc.login("alice"), svc.login("rita"), svc.login("rex")
    sub = submit(alice, TEXT)
    sid = sub["id"]
    host = by_cat(sub, "secret.intranet")[0]
    mobile = next(f for f in by_cat(sub, "pii.phone") if f["text"] == MOBILE)
    rita.put(f"/api/v1/submissions/{sid}/findings/{host['id']}/verdict", json={"verdict": "confirmed", "reason": ""})
    rita.put(f"/api/v1/submissions/{sid}/findings/{mobile['id']}/verdict",
             json={"verdict": "accepted_risk", "reason": "联系人同意公开手机号"})
    given = _verdict_times(svc)
    r = rita.post(f"/api/v1/submissions/{sid}/review", json={"decision": "request_changes", "reason": "删除服务器地址"})
    assert r.status_code == 200
    v2 = TEXT.replace(f"报名系统服务器{HOST}已上线。", "报名系统已上线。") + "\n另：备用联系人手机13600001111。"
    assert alice.post(f"/api/v1/submissions/{sid}/versions", json={"text": v2}).status_code == 202
    sub2 = wait_submission(alice, sid)
    assert sub2["current_version"] == 2
    assert not by_cat(sub2, "secret.intranet")
    kept = [f for f in by_cat(sub2, "pii.phone") if f["text"] == MOBILE]
    new = next(f for f in by_cat(sub2, "pii.phone") if f["text"] == "13600001111")
    assert kept and all(f["verdict"]["verdict"] == "accepted_risk" and f["verdict"]["carried_from_version"] == 1
                        and f["state"] == "carried" for f in kept)
    assert all(f["state_label"] == "沿用第 1 版的结论" for f in kept)       # one wording: page, record, API
    assert kept[0]["verdict"]["reason"] == "联系人同意公开手机号"
    assert kept[0]["verdict"]["created_at"] == given[mobile["id"]]          # who and when: the original
    users = {u["username"]: u["id"] for u in svc.login("root").get("/api/v1/admin/users").json()}
    assert kept[0]["verdict"]["user_id"] == users["rita"]
    assert new["verdict"] is None and new["state"] == "open"
    # a finding of the earlier version takes no verdict and no allowlist entry now
    for path, body in (("verdict", {"verdict": "confirmed", "reason": ""}),
                       ("allowlist", {"scope": "everywhere", "reason": "测试理由"})):
        r = (rita.put if path == "verdict" else rex.post)(f"/api/v1/submissions/{sid}/findings/{host['id']}/{path}", json=body)
        assert r.status_code == 404 and r.json()["error"]["code"] == "finding_not_found", (path, r.text)
    # one audit entry says how many were carried
    with svc.st.db.read() as s:
        carried = [json.loads(e.after) for e in s.execute(select(AuditEntry).where(
            AuditEntry.object_id == sid, AuditEntry.action == "review.verdicts_carried")).scalars()]
    assert carried == [{"version": 2, "from_version": 1, "count": len(kept)}]
    # the review page says it with the same words (the finding and the state filter)
    page = rita.get(f"/s/{sid}").text
    assert '<span class="carried">沿用第 1 版的结论</span>' in page
    assert '<option value="carried" >沿用上一版的结论</option>' in page
    # the reviewer can change a carried verdict: it is then theirs and no longer carried
    r = rex.put(f"/api/v1/submissions/{sid}/findings/{kept[0]['id']}/verdict",
                json={"verdict": "confirmed", "reason": ""})
    assert r.status_code == 200
    f = next(x for x in wait_submission(alice, sid)["report"]["findings"] if x["id"] == kept[0]["id"])
    assert f["verdict"]["verdict"] == "confirmed" and f["verdict"]["carried_from_version"] is None
    assert f["verdict"]["user_id"] == users["rex"] and f["state"] == "judged" and f["state_label"] == "已审查"


def _verdict_times(svc):
    with svc.st.db.read() as s:
        return {v.finding_id: v.created_at for v in s.execute(select(Verdict)).scalars()}


def test_batch_verdict_by_filter_with_one_audit_entry(svc):
    alice, rita = svc.login("alice"), svc.login("rita")
    sub = submit(alice, TEXT)
    sid = sub["id"]
    url = f"/api/v1/submissions/{sid}/verdicts"
    r = rita.post(url, json={"filter": {}, "verdict": "false_positive", "reason": "全部误报"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "filter_required"
    r = rita.post(url, json={"filter": {"category": "pii.phone"}, "verdict": "false_positive", "reason": "x"})
    assert r.status_code == 422
    # the author may not judge their own submission
    r = alice.post(url, json={"filter": {"category": "pii"}, "verdict": "false_positive", "reason": "活动联系电话"})
    assert r.status_code == 403
    r = rita.post(url, json={"filter": {"category": "pii", "text": MOBILE[-4:]}, "verdict": "false_positive",
                             "reason": "活动联系电话，可公开"})
    assert r.status_code == 200, r.text
    assert r.json() == {"verdict": "false_positive", "count": 2, "groups": 1}
    sub = wait_submission(alice, sid)
    judged = {f["text"]: f["verdict"] for f in sub["report"]["findings"]}
    assert judged[MOBILE]["verdict"] == "false_positive" and judged[MOBILE]["batch"]
    assert judged[HOST] is None and judged[LANDLINE] is None
    # severity filter; only_open leaves the judged ones alone
    r = rita.post(url, json={"filter": {"severity": "medium"}, "verdict": "confirmed", "reason": "需删除"})
    assert r.json()["count"] == 1
    sub = wait_submission(alice, sid)
    judged = {f["text"]: f["verdict"]["verdict"] if f["verdict"] else None for f in sub["report"]["findings"]}
    assert judged == {MOBILE: "false_positive", HOST: "confirmed", LANDLINE: None}
    with svc.st.db.read() as s:
        rows = [json.loads(e.after) for e in s.execute(select(AuditEntry).where(
            AuditEntry.object_id == sid, AuditEntry.action == "review.verdict_batch")).scalars()]
    assert [x["count"] for x in rows] == [2, 1]
    assert rows[0]["filter"]["text"] is True and MOBILE[-4:] not in json.dumps(rows)   # never the text


def test_findings_filters_sort_and_counts(svc1):
    alice, rita = svc1.login("alice"), svc1.login("rita")
    sub = submit(alice, TEXT + "\n本通知不得外传。")
    url = f"/api/v1/submissions/{sub['id']}/findings"
    allv = rita.get(url).json()
    assert allv["total_findings"] == 5 and allv["total_groups"] == 4
    assert allv["categories"]["pii.phone"] == {"findings": 3, "groups": 2, "open": 1}
    assert allv["categories"]["secret.intranet"]["open"] == 1
    assert allv["needs_verdict"] == 3 and allv["states"]["not_needed"] == 1
    assert [g["text"] for g in rita.get(url, params={"severity": "low"}).json()["groups"]] == [LANDLINE]
    assert [g["category"] for g in rita.get(url, params={"category": "secret"}).json()["groups"]] == ["secret.intranet"]
    assert rita.get(url, params={"layer": "comment"}).json()["groups"] == []
    assert {g["text"] for g in rita.get(url, params={"state": "open"}).json()["groups"]} == {MOBILE, HOST, "不得外传"}
    by_sev = [g["severity"] for g in rita.get(url, params={"sort": "severity"}).json()["groups"]]
    rank = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
    assert by_sev == sorted(by_sev, key=lambda x: -rank[x]) and by_sev[-1] == "low"
    by_cat_ = [g["category"] for g in rita.get(url, params={"sort": "category"}).json()["groups"]]
    assert by_cat_ == sorted(by_cat_)
    f = next(g for g in allv["groups"] if g["text"] == HOST)
    rita.put(f"/api/v1/submissions/{sub['id']}/findings/{f['id']}/verdict", json={"verdict": "confirmed", "reason": ""})
    assert [g["text"] for g in rita.get(url, params={"state": "judged"}).json()["groups"]] == [HOST]


def _promote(client, sid, fid, scope, reason="单位公开的活动联系电话", expires=None):
    return client.post(f"/api/v1/submissions/{sid}/findings/{fid}/allowlist",
                       json={"scope": scope, "reason": reason, "expires": expires})


def _judge_mobile(svc, rita, sub, verdict="false_positive"):
    f = next(f for f in by_cat(sub, "pii.phone") if f["text"] == MOBILE)
    r = rita.put(f"/api/v1/submissions/{sub['id']}/findings/{f['id']}/verdict",
                 json={"verdict": verdict, "reason": "活动联系电话"})
    assert r.status_code == 200
    return f


def _mobile_state(sub):
    return next(f for f in by_cat(sub, "pii.phone") if f["text"] == MOBILE)


def test_allowlist_scopes_in_later_scans(svc):
    alice, bob, rita = svc.login("alice"), svc.login("bob"), svc.login("rita")
    sub = submit(alice, TEXT)
    f = _judge_mobile(svc, rita, sub, "confirmed")
    r = _promote(rita, sub["id"], f["id"], "submitter")
    assert r.status_code == 409 and r.json()["error"]["code"] == "verdict_not_promotable"
    _judge_mobile(svc, rita, sub)
    assert _promote(alice, sub["id"], f["id"], "submitter").status_code == 403     # not one's own
    r = _promote(rita, sub["id"], f["id"], "submitter")
    assert r.status_code == 201, r.text
    e = r.json()
    assert e["scope"] == "submitter:alice" and e["label"] == "false_alarm" and e["status"] == "active"
    assert MOBILE not in json.dumps(e)
    assert _promote(rita, sub["id"], f["id"], "submitter").json()["error"]["code"] == "already_allowlisted"
    # the same author's next submission: allowlisted with the reason, no verdict needed
    m = _mobile_state(submit(alice, TEXT, title="第二次"))
    assert m["allowlisted"]["reason"] == "单位公开的活动联系电话" and m["allowlisted"]["entry"] == str(e["id"])
    assert m["needs_verdict"] is False and m["state"] == "allowlisted"
    # another author: not covered
    assert _mobile_state(submit(bob, TEXT))["allowlisted"] is None
    # site scope: the same channel, whoever submits; another channel is not covered
    r = _promote(rita, sub["id"], f["id"], "site", reason="门户网站公开的联系电话")
    assert r.status_code == 201 and r.json()["scope"] == "site:单位门户网站"
    assert _mobile_state(submit(bob, TEXT))["allowlisted"]["reason"] == "门户网站公开的联系电话"
    assert _mobile_state(submit(bob, TEXT, channel="微信公众号"))["allowlisted"] is None
    # everywhere
    assert _promote(rita, sub["id"], f["id"], "everywhere", reason="全单位公开电话").status_code == 201
    assert _mobile_state(submit(bob, TEXT, channel="微信公众号"))["allowlisted"]["reason"] == "全单位公开电话"
    # a marking blocks on its own: never promoted
    marked = submit(alice, "【秘密★5年】\n关于工作的通知")
    mk = by_cat(marked, "marking.level")[0]
    rita.put(f"/api/v1/submissions/{marked['id']}/findings/{mk['id']}/verdict",
             json={"verdict": "false_positive", "reason": "示例文本"})
    r = _promote(rita, marked["id"], mk["id"], "everywhere")
    assert r.status_code == 409 and r.json()["error"]["code"] == "allowlist_block_refused"
    with svc.st.db.read() as s:
        created = s.execute(select(AuditEntry).where(AuditEntry.action == "allowlist.entry_created")).scalars().all()
        assert len(created) == 3 and all(MOBILE not in (a.after or "") for a in created)


def test_allowlist_expiry_revoke_and_the_gate(svc):
    alice, rita, apollo = svc.login("alice"), svc.login("rita"), svc.login("apollo")
    cms = svc.key_client(svc.api_key("root", ("gate", "scan")))
    text = f"关于开展社区活动的通知\n联系人手机{MOBILE}，请于周五前报名。"
    sub = submit(alice, text)
    f = _judge_mobile(svc, rita, sub)
    g = cms.post("/api/v1/gate", json={"text": text}).json()
    assert g["allow"] is False and g["decision"] == "review"
    bad = _promote(rita, sub["id"], f["id"], "site", expires="2001-01-01")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "expiry_invalid"
    tomorrow = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 2 * 86400))
    site = _promote(rita, sub["id"], f["id"], "site", reason="门户网站公开电话", expires=tomorrow).json()
    assert site["expires_at"] > time.time()
    # the gate applies a site entry for that site only (the cached report is judged again)
    g = cms.post("/api/v1/gate?site=单位门户网站", json={"text": text}).json()
    assert g["allow"] is True and g["decision"] == "pass" and g["cached"] is True
    assert any("门户网站公开电话" in x for x in g["reasons"])
    assert cms.post("/api/v1/gate?site=其他网站", json={"text": text}).json()["allow"] is False
    # the entry's day passes: no longer applied (in the gate and in scans)
    with svc.st.db.write() as s:
        s.execute(update(FindingAllow).where(FindingAllow.id == site["id"]).values(expires_at=time.time() - 1))
    assert cms.post("/api/v1/gate?site=单位门户网站", json={"text": text}).json()["allow"] is False
    assert _mobile_state(submit(alice, text))["allowlisted"] is None
    lst = apollo.get("/api/v1/admin/allowlist/entries").json()
    assert [x["status"] for x in lst] == ["expired"]
    # everywhere, then revoked by an approver: the gate stops applying it; an audit entry each
    ev = _promote(rita, sub["id"], f["id"], "everywhere", reason="全单位公开电话").json()
    assert cms.post("/api/v1/gate", json={"text": text}).json()["allow"] is True
    assert rita.post(f"/api/v1/admin/allowlist/entries/{ev['id']}/revoke").status_code == 403   # approver/admin
    r = apollo.post(f"/api/v1/admin/allowlist/entries/{ev['id']}/revoke")
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert apollo.post(f"/api/v1/admin/allowlist/entries/{ev['id']}/revoke").json()["error"]["code"] == "entry_inactive"
    assert cms.post("/api/v1/gate", json={"text": text}).json()["allow"] is False
    ev2 = _promote(rita, sub["id"], f["id"], "everywhere", reason="再次确认公开").json()
    assert apollo.post(f"/api/v1/admin/allowlist/entries/{ev2['id']}/expire").json()["status"] == "expired"
    assert cms.post("/api/v1/gate", json={"text": text}).json()["allow"] is False
    with svc.st.db.read() as s:
        acts = [a for (a,) in s.execute(select(AuditEntry.action).where(AuditEntry.object_type == "allowlist"))]
    assert acts.count("allowlist.entry_created") == 3
    assert "allowlist.entry_revoked" in acts and "allowlist.entry_expired" in acts


def test_precision_from_real_verdicts(svc1):
    alice, rita = svc1.login("alice"), svc1.login("rita")
    root = svc1.login("root")
    for i in range(3):
        sub = submit(alice, TEXT + f"\n第{i}期。")
        for f in sub["report"]["findings"]:
            if f["category"] == "secret.intranet":
                v = "confirmed" if i == 0 else "false_positive"
            elif f["text"] == MOBILE:
                v = "accepted_risk"
            else:
                continue
            rita.put(f"/api/v1/submissions/{sub['id']}/findings/{f['id']}/verdict", json={"verdict": v, "reason": "理由"})
    rules = {r["rule_id"]: r for r in root.get("/api/v1/admin/precision?days=30").json()["rules"]}
    host_rule = next(r for r in rules.values() if r["category"] == "secret.intranet")
    assert (host_rule["confirmed"], host_rule["dismissed"]) == (1, 2)
    phone = next(r for r in rules.values() if r["category"] == "pii.phone")
    assert (phone["confirmed"], phone["dismissed"], phone["precision"]) == (6, 0, 1.0)   # 2 occurrences × 3
    worst = root.get("/api/v1/admin/precision?days=30").json()["rules"][0]
    assert worst["rule_id"] == host_rule["rule_id"]
    # verdicts from 60 days ago count in the 90-day window only
    with svc1.st.db.write() as s:
        s.execute(update(Verdict).where(Verdict.verdict == "false_positive").values(created_at=time.time() - 60 * 86400))
    r30 = {r["rule_id"]: r for r in root.get("/api/v1/admin/precision?days=30").json()["rules"]}
    r90 = {r["rule_id"]: r for r in root.get("/api/v1/admin/precision?days=90").json()["rules"]}
    assert r30[host_rule["rule_id"]]["dismissed"] == 0 and r90[host_rule["rule_id"]]["dismissed"] == 2
    assert rita.get("/api/v1/admin/precision").status_code == 403
    page = root.get("/admin")
    assert page.status_code == 200 and "规则精确率" in page.text and host_rule["rule_id"] in page.text


def _web(svc, username):
    import re
    from fastapi.testclient import TestClient
    c = TestClient(svc.app, base_url="http://testserver")
    tok = re.search(r'name="login_csrf" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"login_csrf": tok, "username": username, "password": svc.passwords[username],
                               "next": "/"}, follow_redirects=False)
    assert r.status_code == 303
    c.csrf = re.search(r'name="csrf-token" content="([^"]+)"', c.get("/queue" if username != "alice" else "/me").text
                       ).group(1)
    return c


def test_review_page_filters_counts_groups_batch_and_promote_without_js(svc1):
    sub = submit(svc1.login("alice"), TEXT + "\n本通知不得外传。")
    sid = sub["id"]
    r = _web(svc1, "rita")
    html = r.get(f"/s/{sid}").text
    assert 'id="cat-counts"' in html and 'data-cat="pii.phone"' in html and "待审 1" in html
    assert html.count('class="vform"') == 4 and "共 2 处" in html          # 5 findings, 4 items
    html = r.get(f"/s/{sid}?sev=low").text
    assert html.count('class="vform"') == 1 and LANDLINE in html and 'id="batch"' in html
    html = r.get(f"/s/{sid}?cat=pii.phone&sort=severity").text
    assert html.count('class="vform"') == 2
    assert r.get(f"/s/{sid}?state=judged").text.count('class="vform"') == 0
    # batch-dismiss what the filter shows
    resp = r.post(f"/s/{sid}/verdicts", data={"csrf_token": r.csrf, "cat": "pii.phone", "q": MOBILE,
                                              "verdict": "false_positive", "reason": "活动联系电话"},
                  follow_redirects=False)
    assert resp.status_code == 303 and "msg=batch" in resp.headers["location"] and "n=2" in resp.headers["location"]
    html = r.get(f"/s/{sid}?state=judged").text
    assert html.count('class="vform"') == 1 and "（批量）" in html and 'class="pform stack"' in html
    mobile = next(f for f in svc1.login("rita").get(f"/api/v1/submissions/{sid}").json()["report"]["findings"]
                  if f["text"] == MOBILE)
    resp = r.post(f"/s/{sid}/allowlist/{mobile['id']}", data={"csrf_token": r.csrf, "scope": "site",
                                                             "reason": "门户网站公开电话", "expires": ""},
                  follow_redirects=False)
    assert resp.headers["location"] == f"/s/{sid}?msg=allowlisted#f-{mobile['id']}"
    # the approver's allowlist page lists it and can revoke it; a reviewer sees no such page
    assert r.get("/admin/allowlist").status_code == 403
    ap = _web(svc1, "apollo")
    page = ap.get("/admin/allowlist").text
    assert "门户网站公开电话" in page and "单位门户网站" in page and MOBILE not in page
    eid = svc1.login("apollo").get("/api/v1/admin/allowlist/entries").json()[0]["id"]
    resp = ap.post(f"/admin/allowlist/{eid}/revoke", data={"csrf_token": ap.csrf}, follow_redirects=False)
    assert resp.headers["location"] == "/admin/allowlist?msg=entry_revoked"
    assert 'data-status="revoked"' in ap.get("/admin/allowlist?show=all").text


def test_api_keys_need_the_scopes_of_the_permissions_table(svc1):
    sub = submit(svc1.login("alice"), TEXT)
    sid, fid = sub["id"], _mobile_state(sub)["id"]
    scan_key = svc1.key_client(svc1.api_key("rita", ("scan",)))
    review_key = svc1.key_client(svc1.api_key("rita", ("scan", "review")))
    batch = {"filter": {"category": "pii.phone"}, "verdict": "false_positive", "reason": "活动联系电话"}
    r = scan_key.post(f"/api/v1/submissions/{sid}/verdicts", json=batch)
    assert r.status_code == 403 and r.json()["error"]["code"] == "scope_forbidden"
    r = review_key.post(f"/api/v1/submissions/{sid}/verdicts", json=batch)
    assert r.status_code == 200 and r.json()["count"] == 3       # two mobiles (one group) and the landline
    promote = {"scope": "everywhere", "reason": "全单位公开电话"}
    r = scan_key.post(f"/api/v1/submissions/{sid}/findings/{fid}/allowlist", json=promote)
    assert r.status_code == 403 and r.json()["error"]["code"] == "scope_forbidden"
    assert review_key.post(f"/api/v1/submissions/{sid}/findings/{fid}/allowlist", json=promote).status_code == 201
    assert review_key.get("/api/v1/admin/allowlist/entries").json()["error"]["code"] == "role_forbidden"
    approver_gate_key = svc1.key_client(svc1.api_key("apollo", ("gate",)))
    r = approver_gate_key.get("/api/v1/admin/allowlist/entries")
    assert r.status_code == 403 and r.json()["error"]["code"] == "scope_forbidden"
    assert svc1.key_client(svc1.api_key("apollo", ("approve",))).get("/api/v1/admin/allowlist/entries").status_code == 200
