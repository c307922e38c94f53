"""The reviewer pages without a browser (TestClient): highlighting (escape, then wrap; exact
code-point offsets), CSP and CSRF on every page and form, access rules, the no-JS form paths,
redacted copy, queue filters, admin pages. The browser flow is in tests/e2e/."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from support.drafts import pdf_bytes
from support.service_helpers import running_service, valid_id_number, wait_submission
from service.web.common import CSP
from service.web.highlight import document_view, highlight
from service.web.redact import mask_text, redacted_copy

WEB = Path(__file__).resolve().parents[2] / "service" / "web"
IDN = valid_id_number()


# -- highlighting ------------------------------------------------------------------------------------
def F(fid, start, end, category="pii.id_card", severity="high"):
    return {"id": fid, "start": start, "end": end, "category": category, "severity": severity}


def test_highlight_escapes_every_piece_then_wraps():
    text = '<script>alert(1)</script>"><img src=x onerror=alert(2)>秘密★5年&amp;'
    s = text.index("秘密")
    out = str(highlight(text, [F(7, s, s + 5, "marking.level", "critical")]))
    assert "<script>" not in out and "<img" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in out
    assert '<mark class="hl c-marking" data-fids="7" title="国家秘密标志">秘密★5年</mark>' in out
    assert out.endswith("&amp;amp;")
    assert 'id="hl-7"' in out


def test_highlight_offsets_are_code_points():
    # astral characters (one code point, two UTF-16 units) before the match must not shift it
    text = "𠀀𠀁😀联系人身份证号" + IDN + "。"
    s = text.index(IDN)
    out = str(highlight(text, [F(1, s, s + len(IDN))]))
    m = re.search(r'<mark class="hl c-pii" data-fids="1" title="身份证号">([^<]*)</mark>', out)
    assert m and m.group(1) == IDN


def test_highlight_overlaps_split_into_intervals():
    text = "内部资料，请勿扩散"
    out = str(highlight(text, [F(1, 0, 9, "hidden.revision", "medium"), F(2, 5, 9, "term.internal", "medium")]))
    assert '<mark class="hl c-hidden" data-fids="1" title="修订痕迹">内部资料，</mark>' in out
    assert 'data-fids="1 2" title="修订痕迹、内部用语">请勿扩散</mark>' in out and "multi" in out
    assert out.index('id="hl-1"') < out.index('id="hl-2"')


def test_highlight_ignores_bad_offsets_and_unknown_categories():
    text = "abc"
    out = str(highlight(text, [F(1, 2, 9), F(2, -1, 1), F(3, 1, 1), F(4, 0, 1, '"><x onload=1>', "high")]))
    assert out.count("<mark") == 1 and 'class="hl c-other"' in out and "onload" not in out


def test_document_view_groups_layers_and_orders_findings():
    rep = {"segments": [{"id": 0, "layer": "body", "text": "秘密★5年", "locator": {"paragraph": 0}},
                        {"id": 1, "layer": "metadata", "text": "作者张三", "locator": {"field": "author"}},
                        {"id": 2, "layer": "revision", "text": "删掉的话", "locator": {"paragraph": 3, "kind": "deleted"}},
                        {"id": 3, "layer": "body", "text": "身份证号" + IDN, "locator": {"page": 2, "line": 1}}],
           "findings": [F(11, 4, 4 + len(IDN)) | {"segment_id": 3, "layer": "body"},
                        F(10, 0, 5, "marking.level") | {"segment_id": 0, "layer": "body"},
                        F(12, 0, 4, "hidden.revision") | {"segment_id": 2, "layer": "revision"},
                        F(13, 0, 99) | {"segment_id": 1, "layer": "metadata"}]}
    v = document_view(rep)
    assert [L["key"] for L in v["layers"]] == ["body", "revision", "metadata"]
    assert [f["id"] for f in v["findings"]] == [10, 11, 12, 13]          # document order
    assert v["findings"][1]["match"] == IDN and v["findings"][1]["loc"] == "第2页，第1行"
    assert [f["id"] for f in v["unplaced"]] == [13]
    assert v["layers"][0]["blocks"][1]["page_heading"] == "第 2 页"
    only = document_view(rep, only_findings=True)
    assert sum(len(L["blocks"]) for L in only["layers"]) == 4 - 1 + 1      # metadata segment kept (has a finding)


def test_redacted_copy_masks_personal_data_and_lists_markings_and_hidden():
    assert mask_text("ab cd", [(0, 5)]) == "＊＊ ＊＊"
    rep = {"segments": [{"id": 0, "layer": "body", "text": "秘密★5年", "locator": {"paragraph": 0}},
                        {"id": 1, "layer": "body", "text": "身份证号" + IDN + "。", "locator": {"paragraph": 1}},
                        {"id": 2, "layer": "revision", "text": "内部资料", "locator": {"paragraph": 1, "kind": "deleted"}}],
           "findings": [F(1, 0, 5, "marking.level") | {"segment_id": 0, "layer": "body", "suggestion": "删除密级标志"},
                        F(2, 4, 22) | {"segment_id": 1, "layer": "body"},
                        F(3, 0, 4, "hidden.revision") | {"segment_id": 2, "layer": "revision", "suggestion": "接受修订"}]}
    out = redacted_copy(rep, "标题", 2)
    assert IDN not in out and "身份证号" + "＊" * 18 + "。" in out
    assert "密级标志（1 处）" in out and "删除密级标志" in out
    assert "隐藏内容（1 处）" in out and "接受修订" in out
    assert "内部资料" not in out.split("三、正文")[1]                     # hidden text not copied into the body


# -- the pages through HTTP ----------------------------------------------------------------------------
@pytest.fixture
def svc(tmp_path):
    with running_service(tmp_path) as s:
        s.users(alice="author", bob="author", rita="reviewer", apollo="approver", root="admin")
        yield s


def web_login(svc, username: str) -> TestClient:
    c = TestClient(svc.app, base_url="http://testserver")
    r = c.get("/login")
    tok = re.search(r'name="login_csrf" value="([^"]+)"', r.text).group(1)
    r = c.post("/login", data={"login_csrf": tok, "username": username, "password": svc.passwords[username],
                               "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return c


def csrf_of(c: TestClient, path: str = "/me") -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', c.get(path).text).group(1)


def submit(c: TestClient, text: str, title: str = "通知", name: str = "draft.txt") -> str:
    r = c.post("/new", data={"csrf_token": csrf_of(c), "title": title, "channel": "门户网站", "scope": "社会公开"},
               files={"file": (name, text.encode("utf-8"), "text/plain")}, follow_redirects=False)
    assert r.status_code == 303, r.text
    m = re.match(r"/s/([0-9a-f-]{36})\?msg=submitted$", r.headers["location"])
    assert m, r.headers["location"]
    return m.group(1)


def test_login_page_flow_and_redirects(svc):
    c = TestClient(svc.app, base_url="http://testserver")
    r = c.get("/queue", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/queue"
    r = c.get("/login")
    assert r.status_code == 200 and r.headers["content-security-policy"] == CSP
    # no login CSRF token -> refused
    r = c.post("/login", data={"username": "rita", "password": svc.passwords["rita"]}, follow_redirects=False)
    assert r.headers["location"].startswith("/login?err=csrf_rejected")
    tok = re.search(r'name="login_csrf" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"login_csrf": tok, "username": "rita", "password": "wrong"}, follow_redirects=False)
    assert "err=invalid_credentials" in r.headers["location"]
    # an open redirect through next= is not possible
    tok = re.search(r'name="login_csrf" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"login_csrf": tok, "username": "rita", "password": svc.passwords["rita"],
                               "next": "//evil.example/x"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/queue"
    assert "httponly" in r.headers["set-cookie"].lower()


def test_pages_carry_csp_and_no_external_assets(svc):
    a = web_login(svc, "alice")
    sid = submit(a, "秘密★5年\n联系人身份证号" + IDN)
    wait_submission(svc.login("alice"), sid)
    root = web_login(svc, "root")
    for c, path in ((a, "/me"), (a, "/new"), (a, f"/s/{sid}"), (a, f"/s/{sid}/audit"), (root, "/queue"),
                    (root, "/admin"), (root, "/admin/users"), (root, "/admin/keys"), (root, "/admin/policy")):
        r = c.get(path)
        assert r.status_code == 200, (path, r.status_code)
        assert r.headers["content-security-policy"] == CSP, path
        assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP
        assert "<script>" not in r.text and " style=" not in r.text and "onclick" not in r.text, path
        assert not re.search(r'(src|href)="(https?:)?//', r.text), path
    for f in list((WEB / "templates").iterdir()) + list((WEB / "static").iterdir()):
        text = f.read_text().replace("http://www.w3.org/2000/svg", "")     # a namespace, not a fetch
        assert not re.search(r"https?://", text), f                      # nothing fetched from outside


def test_every_form_has_a_csrf_token_and_posts_without_it_are_refused(svc):
    a = web_login(svc, "alice")
    sid = submit(a, "联系人身份证号" + IDN)
    wait_submission(svc.login("alice"), sid)
    r = web_login(svc, "rita")
    root = web_login(svc, "root")
    for c, path in ((a, "/new"), (a, f"/s/{sid}"), (r, f"/s/{sid}"), (root, "/admin/users"), (root, "/admin/keys")):
        html = c.get(path).text
        forms = re.findall(r'<form method="post".*?</form>', html, re.S)
        assert forms, path
        for f in forms:
            assert 'name="csrf_token"' in f, (path, f[:80])
    # without a token, or with a wrong one: 403, nothing changes
    for data in ({}, {"csrf_token": "x" * 32}):
        resp = r.post(f"/s/{sid}/review", data={**data, "decision": "reject", "reason": "测试理由"})
        assert resp.status_code == 403 and "CSRF" in resp.text
        assert resp.headers["content-security-policy"] == CSP
    # a cross-site post with the right token is refused too (Sec-Fetch-Site)
    tok = csrf_of(r, "/queue")
    resp = r.post(f"/s/{sid}/review", data={"csrf_token": tok, "decision": "reject", "reason": "测试理由"},
                  headers={"Sec-Fetch-Site": "cross-site"})
    assert resp.status_code == 403
    assert svc.login("alice").get(f"/api/v1/submissions/{sid}").json()["status"] == "pending_review"
    # a file of a type the scanner cannot read: the reason, not a CSRF error
    resp = a.post("/new", data={"csrf_token": csrf_of(a), "title": "x"},
                  files={"file": ("a.docx", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")}, follow_redirects=False)
    # (the form comes back with the reason and what was typed: issue 13)
    assert resp.status_code == 415 and "不支持的文件类型" in resp.text and 'name="title" required maxlength="200" value="x"' in resp.text
    # an upload without the token stores nothing
    resp = a.post("/new", data={"title": "x"}, files={"file": ("a.txt", b"hello", "text/plain")})
    assert resp.status_code == 403
    assert len(svc.login("alice").get("/api/v1/submissions").json()["items"]) == 1


def test_author_sees_precheck_not_the_review_tools_and_not_others(svc):
    a = web_login(svc, "alice")
    sid = submit(a, "秘密★5年\n联系人身份证号" + IDN + "\n<script>alert(1)</script>", title="<b>标题</b>")
    wait_submission(svc.login("alice"), sid)
    html = a.get(f"/s/{sid}").text
    assert '<mark class="hl c-marking"' in html and f">{IDN}</mark>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;标题&lt;/b&gt;" in html
    assert 'class="sugg"' in html
    assert 'class="vform"' not in html and 'action="/s/%s/review"' % sid not in html
    assert 'id="resubmit"' in html
    b = web_login(svc, "bob")
    r = b.get(f"/s/{sid}")
    assert r.status_code == 403 and "not_owner" in r.text
    assert b.get(f"/s/{sid}/redacted.txt").status_code == 403
    r = a.get(f"/s/{sid}/redacted.txt")
    assert r.status_code == 200 and IDN not in r.text and "＊" in r.text
    assert r.headers["content-type"].startswith("text/plain") and "attachment" in r.headers["content-disposition"]
    # pages need a session: an API key does not open them
    key = svc.api_key("root", scopes=("gate", "scan", "admin"))
    r = TestClient(svc.app, base_url="http://testserver").get("/admin", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 403


def test_no_js_review_path_verdicts_decision_and_sign(svc):
    a = web_login(svc, "alice")
    sid = submit(a, "关于活动的通知\n联系人身份证号" + IDN)
    sub = wait_submission(svc.login("alice"), sid)
    r = web_login(svc, "rita")
    html = r.get(f"/s/{sid}").text
    assert html.count('class="vform"') == len(sub["report"]["findings"]) >= 1
    tok = csrf_of(r, "/queue")
    for f in sub["report"]["findings"]:
        resp = r.post(f"/s/{sid}/verdict/{f['id']}", data={"csrf_token": tok, "verdict": "false_positive", "reason": ""},
                      follow_redirects=False)
        assert "err=reason_required" in resp.headers["location"]
        resp = r.post(f"/s/{sid}/verdict/{f['id']}", data={"csrf_token": tok, "verdict": "accepted_risk",
                                                             "reason": "已脱敏处理"}, follow_redirects=False)
        assert resp.headers["location"] == f"/s/{sid}?msg=verdict#f-{f['id']}"
    resp = r.post(f"/s/{sid}/review", data={"csrf_token": tok, "decision": "approve", "reason": "同意"}, follow_redirects=False)
    assert resp.headers["location"] == f"/s/{sid}?msg=reviewed"
    ap = web_login(svc, "apollo")
    html = ap.get(f"/s/{sid}").text
    assert "审批签发" in html and "已脱敏处理" in html and "接受风险" in html
    # the reviewer may not sign; the approver signs
    resp = r.post(f"/s/{sid}/approval", data={"csrf_token": tok, "decision": "approve"}, follow_redirects=False)
    assert resp.status_code == 303 and "err=role_forbidden" in resp.headers["location"]
    resp = ap.post(f"/s/{sid}/approval", data={"csrf_token": csrf_of(ap, "/queue"), "decision": "approve", "reason": "批准"},
                   follow_redirects=False)
    assert resp.headers["location"] == f"/s/{sid}?msg=signed"
    assert svc.login("alice").get(f"/api/v1/submissions/{sid}").json()["status"] == "approved"
    audit = ap.get(f"/s/{sid}/audit").text
    assert IDN not in audit
    from service.web.auditview import ACTION_ZH
    cells = re.findall(r'<td class="action" data-action="([a-z_.]+)" title="[a-z_.]+">([^<]*)</td>', audit)
    shown = dict(cells)
    assert shown["approval.approve"] == "审批：同意发布" and shown["review.approve"] == "保密审查：同意发布"
    assert shown["submission.created"] == ACTION_ZH["submission.created"] == "提交申请"
    assert all(zh and zh != "其他操作" and not re.search(r"[a-z]", zh) for zh in shown.values()), shown
    visible = re.sub(r'<[^>]+>', " ", audit.split("<tbody>", 1)[1])       # what a reader sees of the trail
    assert not re.search(r"\b(?:approval|review|submission|scan|record)\.[a-z_]+", visible)
    assert "状态：待审批" in visible or "状态：已批准发布" in visible


def test_queue_filters_counts_and_oldest_first(svc):
    a, b = web_login(svc, "alice"), web_login(svc, "bob")
    s1 = submit(a, "秘密★5年\n通知", title="甲-密级")
    s2 = submit(b, "联系人身份证号" + IDN, title="乙-个人信息")
    s3 = submit(a, "今天天气很好。", title="丙-公开")
    for s in (s1, s2, s3):
        wait_submission(svc.login("root"), s)
    r = web_login(svc, "rita")
    html = r.get("/queue").text
    assert html.index("甲-密级") < html.index("乙-个人信息")
    assert "待保密审查 <b>3</b>" in html
    assert "乙-个人信息" in r.get("/queue?category=pii").text and "甲-密级" not in r.get("/queue?category=pii").text
    assert "甲-密级" in r.get("/queue?decision=block").text and "丙-公开" not in r.get("/queue?decision=block").text
    only_bob = r.get("/queue?owner=bob").text
    assert "乙-个人信息" in only_bob and "甲-密级" not in only_bob
    assert "没有符合条件的申请" in r.get("/queue?age=7d").text
    assert web_login(svc, "alice").get("/queue").status_code == 403


def test_admin_pages_users_keys_dashboard(svc):
    root = web_login(svc, "root")
    tok = csrf_of(root, "/admin/users")
    r = root.post("/admin/users", data={"csrf_token": tok, "username": "nina", "display_name": "<i>Nina</i>",
                                        "role": "reviewer", "password": "long-enough-pw"}, follow_redirects=False)
    assert r.headers["location"] == "/admin/users?msg=user"
    assert "&lt;i&gt;Nina&lt;/i&gt;" in root.get("/admin/users").text
    r = root.post("/admin/keys", data={"csrf_token": tok, "user_id": "1", "name": "CMS", "scopes": ["gate", "scan"]})
    key = re.search(r'id="new-key">(bm_[^<]+)<', r.text).group(1)
    assert svc.key_client(key).post("/api/v1/gate", json={"text": "今天天气很好。"}).json()["allow"] is True
    assert key not in root.get("/admin/keys").text
    html = root.get("/admin").text
    assert html.count('<svg class="chart"') == 3 and "暂无数据" in html        # no verdicts yet: no precision plot
    assert web_login(svc, "rita").get("/admin").status_code == 403
    assert "policy.toml" in web_login(svc, "rita").get("/admin/policy").text


def test_pdf_page_image_with_boxes_over_findings(svc):
    a = web_login(svc, "alice")
    pdf = pdf_bytes(["会议通知", f"身份证号{IDN}，另一人身份证号{IDN}。"])
    r = a.post("/new", data={"csrf_token": csrf_of(a), "title": "PDF"}, files={"file": ("m.pdf", pdf, "application/pdf")},
               follow_redirects=False)
    sid = r.headers["location"].split("/")[2].split("?")[0]
    sub = wait_submission(svc.login("alice"), sid)
    ids = [f["id"] for f in sub["report"]["findings"] if f["category"] == "pii.id_card"]
    assert len(ids) == 2
    html = a.get(f"/s/{sid}").text
    assert '<figure class="pdfpage">' in html
    boxes = re.findall(r'<a href="#f-(\d+)" class="boxlink" data-fid="\d+"><rect class="box-halo"[^>]*/><rect class="box c-pii" x="([\d.]+)"', html)
    xs = {int(fid): float(x) for fid, x in boxes if int(fid) in ids}
    assert set(xs) == set(ids) and xs[ids[0]] < xs[ids[1]]           # each occurrence boxed where it is
    png = a.get(f"/s/{sid}/v/1/page/1.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG") and png.headers["content-type"] == "image/png"
    assert web_login(svc, "bob").get(f"/s/{sid}/v/1/page/1.png").status_code == 403
    assert a.get(f"/s/{sid}/v/1/page/9.png").status_code in (404, 422)


def test_admin_edits_a_term_list_validated_audited_and_live(svc, tmp_path):
    import shutil

    from scanner.rules import default_lexicon_dir
    lex = tmp_path / "lexicons"                       # never the repository's own files
    shutil.copytree(default_lexicon_dir(), lex)
    svc.st.reload_rules(lex)
    root = web_login(svc, "root")
    html = root.get("/admin/policy").text
    assert 'href="/admin/policy/edit?file=terms/internal.toml"' in html
    form = root.get("/admin/policy/edit?file=terms/internal.toml").text
    tok = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    original = (lex / "terms" / "internal.toml").read_text("utf-8")
    key = svc.api_key("root", scopes=("gate", "scan"))
    probe = "本方案系闭门磋商稿。"
    assert svc.key_client(key).post("/api/v1/gate", json={"text": probe}).json()["decision"] == "pass"
    # invalid TOML: refused, shown again with the reason, nothing written
    r = root.post("/admin/policy/edit", data={"csrf_token": tok, "file": "terms/internal.toml", "text": original + "\n[[["})
    assert r.status_code == 422 and "TOML" in r.text and (lex / "terms" / "internal.toml").read_text("utf-8") == original
    # a change that breaks the file's own examples: refused
    broken = re.sub(r"\nterms = \[.*?\]\n", '\nterms = ["某某某某某"]\n', original, count=1, flags=re.S)
    assert broken != original and "examples_true" in original
    r = root.post("/admin/policy/edit", data={"csrf_token": tok, "file": "terms/internal.toml", "text": broken})
    assert r.status_code == 422 and "正例" in r.text, re.sub(r"\s+", " ", r.text)[-1500:]
    assert (lex / "terms" / "internal.toml").read_text("utf-8") == original
    # a new term: saved, live at once, audited with hashes only
    new = original.replace('terms = [\n', 'terms = [\n  "闭门磋商稿",\n', 1)
    r = root.post("/admin/policy/edit", data={"csrf_token": tok, "file": "terms/internal.toml", "text": new},
                  follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/policy?msg=lexicon", r.text[:300]
    # the edit lives in the data directory as version 1 of an override; the shipped file is untouched
    assert (lex / "terms" / "internal.toml").read_text("utf-8") == original
    data = svc.settings.data_dir / "lexicons"
    assert "闭门磋商稿" in (data / "overrides" / "terms" / "internal.toml").read_text("utf-8")
    assert (data / "history" / "terms" / "internal.toml" / "0001.toml").read_text("utf-8") == new
    assert "闭门磋商稿" in (svc.st.get_scanner().lexicon_dir / "terms" / "internal.toml").read_text("utf-8")
    g = svc.key_client(key).post("/api/v1/gate", json={"text": probe}).json()
    assert g["decision"] == "review" and any("term.internal" in x for x in g["reasons"])
    hist = root.get("/admin/policy").text
    assert 'id="lex-history"' in hist and "terms/internal.toml" in hist and "闭门磋商稿" not in hist.split('id="lex-history"')[1].split("</section>")[0]
    # only admins; no way out of the lexicon directory
    assert web_login(svc, "rita").get("/admin/policy/edit?file=terms/internal.toml").status_code == 403
    for bad in ("../pyproject.toml", "/etc/passwd", "terms/../../service/main.py", "data/id_regions.tsv"):
        assert root.get("/admin/policy/edit", params={"file": bad}).status_code == 404, bad


def test_a_rule_edit_reaches_the_full_cms_gate_too(tmp_path):
    """With the full scanner (the CMS gate then has its own, cheaper name tagging), a saved edit
    reaches both the scan and the gate at once, not only after a restart."""
    import shutil

    from scanner.rules import default_lexicon_dir
    lex = tmp_path / "lexicons"
    shutil.copytree(default_lexicon_dir(), lex)
    with running_service(tmp_path, light_scanner=False) as svc:
        svc.user("root", "admin")
        svc.st.reload_rules(lex)
        root = web_login(svc, "root")
        key = svc.api_key("root", scopes=("gate", "scan"))
        probe = "本方案系闭门磋商稿。"
        original = (lex / "terms" / "internal.toml").read_text("utf-8")
        new = original.replace('terms = [\n', 'terms = [\n  "闭门磋商稿",\n', 1)
        tok = re.search(r'name="csrf_token" value="([^"]+)"',
                        root.get("/admin/policy/edit?file=terms/internal.toml").text).group(1)
        r = root.post("/admin/policy/edit", data={"csrf_token": tok, "file": "terms/internal.toml", "text": new},
                      follow_redirects=False)
        assert r.status_code == 303, r.text[:300]
        kc = svc.key_client(key)
        assert kc.post("/api/v1/scan", json={"text": probe}).json()["decision"] == "review"
        g = kc.post("/api/v1/gate", json={"text": probe}).json()
        assert g["decision"] == "review" and not g["allow"], g


def test_admin_editor_runs_the_loader_checks_before_saving(svc, tmp_path):
    """The same typed checks as at start-up, before anything is written: the page names the file,
    the rule and the field."""
    import shutil

    from scanner.engine import Scanner
    from scanner.rules import default_lexicon_dir
    lex = tmp_path / "lexicons"
    shutil.copytree(default_lexicon_dir(), lex)
    svc.st.scanner = Scanner(lexicon_dir=lex, light=True)
    root = web_login(svc, "root")
    form = root.get("/admin/policy/edit?file=rules/pii.toml").text
    tok = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    original = (lex / "rules" / "pii.toml").read_text("utf-8")
    rid = re.search(r'^id = "([^"]+)"', original, re.M).group(1)
    for bad, field in ((original.replace("\nexamples_true = ", "\nexamples_ture = ", 1), "examples_ture"),
                       (re.sub(r'^severity = "\w+"', 'severity = "hihg"', original, count=1, flags=re.M), "severity")):
        r = root.post("/admin/policy/edit", data={"csrf_token": tok, "file": "rules/pii.toml", "text": bad})
        page = re.sub(r"\s+", " ", r.text)
        assert r.status_code == 422 and "规则校验未通过" in page, page[-800:]
        assert "rules/pii.toml" in page and f"规则 {rid}" in page and f"字段 {field}" in page, page[-800:]
        assert (lex / "rules" / "pii.toml").read_text("utf-8") == original
    policy = (lex / "policy.toml").read_text("utf-8")
    form = root.get("/admin/policy/edit?file=policy.toml").text
    tok = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    r = root.post("/admin/policy/edit", data={"csrf_token": tok, "file": "policy.toml",
                                               "text": policy.replace('critical = "block"', 'critical = "blcok"', 1)})
    page = re.sub(r"\s+", " ", r.text)
    assert r.status_code == 422 and "字段 severity_decision.critical" in page and "blcok" in page, page[-800:]
    assert (lex / "policy.toml").read_text("utf-8") == policy


def test_a_new_category_family_on_the_pages(svc, tmp_path):
    """A family added with only its rule file and its vocabulary entry (support.org_family) is
    labelled, coloured and given its glyph on the reviewer pages."""
    from scanner.engine import Scanner
    from support.org_family import DRAFT, org_lexicons_in
    svc.st.scanner = Scanner(lexicon_dir=org_lexicons_in(tmp_path), light=True)
    a = web_login(svc, "alice")
    sid = submit(a, DRAFT)
    sub = wait_submission(svc.login("alice"), sid)
    assert [f["category"] for f in sub["report"]["findings"]] == ["org.unit"]
    page = a.get(f"/s/{sid}").text
    assert "内设机构" in page and re.search(r'<mark class="hl c-org[" ]', page), page[-1500:]
    css = TestClient(svc.app).get("/ui/taxonomy.css").text
    assert "--c-org:#37474f;--b-org:#dde3e6" in css and "mark.c-org{" in css
    assert ".t-org.anc::before{content:\"\\673a \"" in css           # the glyph 机


def test_pdf_text_under_a_black_box_gets_a_box_where_the_bar_is(svc):
    from support.drafts import pdf_bytes
    pdf = pdf_bytes(["关于报送会议材料的通知", f"联系人李娜，身份证号{IDN}。"], black_bar=(170, 750 - 5, 170, 20))
    a = web_login(svc, "alice")
    r = a.post("/new", data={"csrf_token": csrf_of(a), "title": "遮盖"}, files={"file": ("r.pdf", pdf, "application/pdf")},
               follow_redirects=False)
    sid = r.headers["location"].split("/")[2].split("?")[0]
    sub = wait_submission(svc.login("alice"), sid)
    red = [f for f in sub["report"]["findings"] if f["layer"] == "redaction"]
    assert red, [f["category"] for f in sub["report"]["findings"]]
    html = a.get(f"/s/{sid}").text
    for f in red:
        m = re.search(r'data-fid="%d"><rect class="box-halo"[^>]*/><rect class="box c-\w+" x="([\d.-]+)" y="([\d.-]+)"' % f["id"], html)
        assert m, f["id"]
        x, y = float(m.group(1)), float(m.group(2))
        assert 165 <= x <= 175 and 841.9 - 770 <= y <= 841.9 - 745      # the bar: x 170, y 745..765 (A4 842 pt high)


def test_categories_are_told_apart_without_colour(svc):
    """Each category family has its own underline/outline style and its own glyph, not only a
    colour; colours and glyphs come from the taxonomy (/ui/taxonomy.css), shapes from app.css."""
    from scanner.taxonomy import TAXONOMY
    css = (WEB / "static" / "app.css").read_text()
    r = TestClient(svc.app).get("/ui/taxonomy.css")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")
    families = TAXONOMY.family_names
    styles, glyphs = {}, {}
    for c in families:
        rule = re.search(r"mark\.c-%s\{([^}]*)\}" % c, css).group(1)
        styles[c] = re.sub(r"var\(--[a-z-]+\)|#[0-9a-f]+", "", re.sub(r"background:[^;]*;?", "", rule))
        esc = re.search(r'\.t-%s\.anc::before\{content:"([^"]+)"' % c, r.text).group(1)
        glyphs[c] = "".join(chr(int(h, 16)) for h in esc.split("\\")[1:])
        assert glyphs[c] == TAXONOMY.family(c).icon
        assert f"--c-{c}:{TAXONOMY.family(c).colour}" in r.text
    assert len(set(glyphs.values())) == len(families), glyphs
    assert len(set(styles.values())) == len(families), styles
    assert not re.search(r"--[cb]-[a-z_]+:", css)                 # no second copy of the colours


def test_author_downloads_the_redacted_copy_in_the_original_format(svc):
    import io
    from docx import Document
    d = Document()
    d.sections[0].header.paragraphs[0].text = "联系人身份证号" + IDN
    d.add_paragraph("秘密★5年")
    d.add_paragraph("关于活动的通知，联系人身份证号" + IDN + "。")
    buf = io.BytesIO()
    d.save(buf)
    a = web_login(svc, "alice")
    r = a.post("/new", data={"csrf_token": csrf_of(a), "title": "活动通知"},
               files={"file": ("n.docx", buf.getvalue(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document")},
               follow_redirects=False)
    sid = r.headers["location"].split("/")[2].split("?")[0]
    wait_submission(svc.login("alice"), sid)
    assert 'id="dl-redacted-original"' in a.get(f"/s/{sid}").text
    assert web_login(svc, "bob").get(f"/s/{sid}/redacted").status_code == 403
    r = a.get(f"/s/{sid}/redacted")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    assert ".docx" in r.headers["content-disposition"] and "attachment" in r.headers["content-disposition"]
    copy = Document(io.BytesIO(r.content))
    texts = [p.text for p in copy.paragraphs]
    assert texts == ["关于活动的通知，联系人身份证号" + "■" * 18 + "。"]          # mark removed, number masked
    assert IDN not in copy.sections[0].header.paragraphs[0].text
    txt = a.get(f"/s/{sid}/redacted.txt")                                   # the text copy stays
    assert txt.status_code == 200 and IDN not in txt.text
    t = submit(a, "联系人身份证号" + IDN, name="n.html")
    wait_submission(svc.login("alice"), t)
    assert a.get(f"/s/{t}/redacted").status_code == 415


def test_no_redacted_copy_when_a_finding_cannot_be_located(svc):
    """A mobile number in a PDF note (annotation): the copy cannot place a box for it, so the
    service gives no copy (fail closed) and says why; nothing is logged as downloaded."""
    import io

    from reportlab.pdfgen import canvas
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 760, "Notice for the public")
    c.textAnnotation("联系人手机13812345678", Rect=(72, 700, 100, 720))
    c.showPage()
    c.save()
    a = web_login(svc, "alice")
    r = a.post("/new", data={"csrf_token": csrf_of(a), "title": "带批注的通知"},
               files={"file": ("n.pdf", buf.getvalue(), "application/pdf")}, follow_redirects=False)
    sid = r.headers["location"].split("/")[2].split("?")[0]
    sub = wait_submission(svc.login("alice"), sid)
    assert any(f["category"] == "pii.phone" and f["layer"] == "comment" for f in sub["report"]["findings"])
    r = a.get(f"/s/{sid}/redacted")
    assert r.status_code == 422 and "未能定位" in r.text and "13812345678" not in r.text
    trail = svc.login("alice").get(f"/api/v1/submissions/{sid}/audit").json()
    assert not [e for e in trail if e["action"] == "redacted_copy.downloaded"]


def test_rule_edits_land_in_the_data_directory_versioned_and_survive_a_restart(tmp_path):
    """Issue 13: an edit from the admin pages never writes the project's tracked lexicons/ (the
    red team could not even try it for that reason); it is version N of an override in the data
    directory, with an audit entry naming the version; a restart loads it; scan and gate agree."""
    from fastapi.testclient import TestClient

    from scanner.rules import default_lexicon_dir
    from service.main import create_app
    shipped = default_lexicon_dir() / "terms" / "internal.toml"
    before = shipped.read_bytes()
    probe = "本方案系闭门磋商稿。"
    try:
        with running_service(tmp_path) as svc:
            svc.user("root", "admin")
            root = web_login(svc, "root")
            tok = re.search(r'name="csrf_token" value="([^"]+)"',
                            root.get("/admin/policy/edit?file=terms/internal.toml").text).group(1)
            for n, term in ((1, "闭门磋商稿"), (2, "闭门磋商记录")):
                text = (svc.st.get_scanner().lexicon_dir / "terms" / "internal.toml").read_text("utf-8")
                new = text.replace('terms = [\n', f'terms = [\n  "{term}",\n', 1)
                r = root.post("/admin/policy/edit", data={"csrf_token": tok, "file": "terms/internal.toml", "text": new},
                              follow_redirects=False)
                assert r.status_code == 303, r.text[:300]
                assert shipped.read_bytes() == before
                hist = svc.settings.data_dir / "lexicons" / "history" / "terms" / "internal.toml" / f"{n:04d}.toml"
                assert hist.read_text("utf-8") == new
            audit = root.get("/api/v1/admin/audit/verify").json()
            assert audit["ok"]
            from service.models import AuditEntry
            with svc.st.db.read() as s:
                rows = s.query(AuditEntry).filter(AuditEntry.action == "lexicon.updated").order_by(AuditEntry.seq).all()
                assert ['"version":1' in r.after for r in rows] == [True, False] and '"version":2' in rows[1].after
            key = svc.api_key("root", scopes=("gate", "scan"))
            data_dir, settings = svc.settings.data_dir, svc.settings
        # a restart over the same data directory
        with TestClient(create_app(settings)) as c:
            st = c.app.state.svc
            assert st.get_scanner().lexicon_dir.parent == data_dir / "lexicons"
            kc = TestClient(c.app, headers={"Authorization": f"Bearer {key}"})
            assert kc.post("/api/v1/scan", json={"text": probe}).json()["decision"] == "review"
            assert kc.post("/api/v1/gate", json={"text": "本次闭门磋商记录。"}).json()["decision"] == "review"
    finally:
        if shipped.read_bytes() != before:     # never leave the tracked file changed, even on failure
            shipped.write_bytes(before)
    assert shipped.read_bytes() == before
