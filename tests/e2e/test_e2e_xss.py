"""XSS in a real browser: drafts, 申请 fields and file names carrying <script>, "><img onerror=…>,
<svg onload=…> and the hostile upload names of ../shared/hostile/make_hostile.py are shown to the
author and the reviewer as literal text; nothing executes (no dialog, no page error, no console
error, no marker variable set), no element is injected."""
from __future__ import annotations

import importlib.util
import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from browsing import login
from support.drafts import docx_bytes

from support.service_helpers import valid_id_number

IDN = valid_id_number()
TITLE = '<script>window.__pwned=1;alert("t")</script>标题'
SUMMARY = '"><img src=x onerror="window.__pwned=2;alert(2)">摘要'
BODY = ("秘密★5年<img src=x onerror=\"window.__pwned=3;alert(3)\">\n"
        f"联系人<b onclick=alert(4)>身份证号{IDN}</b><script>window.__pwned=4;alert(4)</script>\n"
        "\"><svg onload=\"window.__pwned=5;alert(5)\"></svg>' onmouseover='alert(6)' {{7*7}} ${alert(7)}\n"
        "</textarea></mark></div><script>alert(8)</script><mark class=\"hl\" data-fids=\"1\">假高亮</mark>\n")
HTML_DRAFT = ("<html><head><title><script>alert(9)</script></title></head><body>"
              f"<p>联系人身份证号{IDN}</p><script>window.__pwned=9;alert(9)</script>"
              "<!-- 秘密★ <img src=x onerror=alert(10)> --><p>&lt;script&gt;alert(11)&lt;/script&gt;</p></body></html>")


def _hostile_names(tmp_path: Path) -> list[str]:
    path = Path(__file__).resolve().parents[3] / "shared" / "hostile" / "make_hostile.py"
    assert path.exists(), path
    spec = importlib.util.spec_from_file_location("make_hostile", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.gen_filenames(tmp_path)
    return json.loads((tmp_path / "filenames.json").read_text())["names"]


def _multipart(fields: dict, filename: str, data: bytes) -> tuple[bytes, str]:
    b = uuid.uuid4().hex
    out = b""
    for k, v in fields.items():
        out += f"--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n".encode() + v.encode() + b"\r\n"
    fn = filename.replace("\\", "\\\\").replace('"', '\\"')
    out += (f"--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{fn}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode("utf-8", "surrogatepass") + data + f"\r\n--{b}--\r\n".encode()
    return out, f"multipart/form-data; boundary={b}"


def _submit(server, ctx, fields: dict, filename: str, data: bytes) -> tuple[int, str]:
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in ctx.cookies())
    me = urllib.request.Request(server.url + "/api/v1/auth/me", headers={"Cookie": cookies})
    with urllib.request.urlopen(me) as r:
        csrf = json.loads(r.read())["csrf_token"]
    body, ctype = _multipart(fields, filename, data)
    req = urllib.request.Request(server.url + "/api/v1/submissions", data=body, method="POST",
                                 headers={"Cookie": cookies, "X-CSRF-Token": csrf, "Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())["id"]
    except urllib.error.HTTPError as e:
        return e.code, ""


def _check_page(page, watch):
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.scripts.length") == 1          # only /static/app.js
    assert page.locator("main img, main svg [onload], main [onerror], main [onclick]").count() == 0
    watch.assert_clean()


def test_hostile_drafts_and_names_render_literally(server, browser, shots, tmp_path):
    actx, author, aw = login(browser, server, "author")
    ids = []
    status, sid = _submit(server, actx, {"title": TITLE, "summary": SUMMARY, "channel": "javascript:alert(1)",
                                         "scope": "<i>全部</i>"}, '"><img src=x onerror=alert(1)>.txt',
                          BODY.encode("utf-8"))
    assert status == 202
    ids.append(sid)
    status, sid_html = _submit(server, actx, {"title": "HTML 草稿 <svg onload=alert(1)>"}, "<script>alert(1)</script>.html",
                               HTML_DRAFT.encode("utf-8"))
    assert status == 202
    ids.append(sid_html)
    status, sid_docx = _submit(server, actx, {"title": "docx 草稿"}, "x\"><script>alert(1)</script>.docx",
                               docx_bytes(["秘密★5年", f'<img src=x onerror=alert(1)>身份证号{IDN}'],
                                          deleted="<script>alert(2)</script>", after_para=1))
    assert status == 202
    ids.append(sid_docx)
    accepted = rejected = 0
    for name in _hostile_names(tmp_path):
        st, s = _submit(server, actx, {"title": name or "空文件名"}, name, ("<script>alert(1)</script> " + name).encode("utf-8", "surrogatepass"))
        assert st in (202, 400, 415, 422), (st, repr(name))
        if st == 202:
            accepted += 1
            ids.append(s)
        else:
            rejected += 1
    assert accepted >= 10

    # the author's list and the pre-check pages
    author.goto(server.url + "/me")
    text = author.inner_text("main")
    assert TITLE in text and "HTML 草稿 <svg onload=alert(1)>" in text
    _check_page(author, aw)
    for sid in ids[:3]:
        author.goto(f"{server.url}/s/{sid}")
        author.wait_for_selector("#decision", timeout=90_000)
        _check_page(author, aw)
    author.goto(f"{server.url}/s/{ids[0]}")
    author.wait_for_selector("#decision")
    doc = author.inner_text("#doc")
    for literal in ('<img src=x onerror="window.__pwned=3;alert(3)">', "<script>window.__pwned=4;alert(4)</script>",
                    "{{7*7}}", "</textarea></mark></div><script>alert(8)</script>", '<mark class="hl" data-fids="1">假高亮</mark>'):
        assert literal in doc, literal
    assert "<b onclick=alert(4)>身份证号" in doc
    # the highlight lands exactly on the ID number, inside the hostile markup, and no more
    assert IDN in [t.strip() for t in author.locator("#doc mark.hl").all_inner_texts()]
    assert author.inner_text("h1") == TITLE
    assert SUMMARY in author.inner_text(".meta")
    author.screenshot(path=str(shots / "18-xss-literal.png"), full_page=True)

    author.goto(f"{server.url}/s/{sid_html}")
    author.wait_for_selector("#decision")
    _check_page(author, aw)

    # the reviewer: queue with every hostile title, every document, the audit trail
    rctx, rev, rw = login(browser, server, "reviewer")
    rev.goto(server.url + "/queue?status=")
    qtext = rev.inner_text("table.queue")
    assert TITLE in qtext
    _check_page(rev, rw)
    for sid in ids:
        rev.goto(f"{server.url}/s/{sid}")
        rev.wait_for_selector("#decision", timeout=90_000)
        rev.keyboard.press("j")
        _check_page(rev, rw)
    rev.goto(f"{server.url}/s/{ids[0]}/audit")
    _check_page(rev, rw)
    rev.goto(server.url + "/api/v1/submissions/" + ids[0] + "/record.html")
    assert TITLE in rev.inner_text("body")
    assert rev.evaluate("typeof window.__pwned") == "undefined"
    rw.assert_clean()
    dctx, admin, dw = login(browser, server, "admin")
    admin.goto(server.url + "/admin")
    _check_page(admin, dw)
    for c in (actx, rctx, dctx):
        c.close()
