"""保密检查 (issue 14): `baomi site scan` against a small site served on loopback by the test, with
real files (a PDF holding an ID number, a docx with a mark, a picture of a marked page), robots.txt,
an off-host link, a redirect, a broken link, and a page changed between two runs (`--since`)."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import openpyxl
import pytest

from scanner.site.crawl import CrawlOptions, crawl, inspect
from scanner.site.fetch import Refused, Scope, normalise
from scanner.site.report import build
from scanner.site.state import load_run, run_state
from support.site import LoopbackSite, change_news2, inspection_site

ROOT = Path(__file__).resolve().parents[2]


def baomi(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scanner.cli", *args], capture_output=True, text=True,
                          timeout=600, cwd=cwd or str(ROOT))


@pytest.fixture
def sites():
    with LoopbackSite("127.0.0.2") as off, LoopbackSite() as site:
        off.html("/offsite.html", "外站", "<p>秘密★5年</p>")
        yield site, off


def by_path(doc: dict, site: LoopbackSite) -> dict[str, dict]:
    return {e["url"].removeprefix(site.url.rstrip("/")): e for e in doc["entries"]}


def test_two_runs_report_takedowns_then_only_the_changed_page(sites, tmp_path):
    """Light mode (rules and lexicons): run 1 reports the marked docx (下架) and the PDF with an ID
    number (整改), honours robots.txt, never touches the off-host server; run 2 with --since reports
    only the page changed in between, in JSON and xlsx; the run files hold no matched text."""
    site, off = sites
    info = inspection_site(site, off.url + "offsite.html", with_ocr=False)
    r1 = baomi("site", "scan", site.url, "--delay", "0", "--light", "-o", str(tmp_path / "r1.json"))
    assert r1.returncode == 2, r1.stderr          # something to take down: exit 2, as `baomi scan` block
    doc = json.loads((tmp_path / "r1.json").read_text(encoding="utf-8"))
    assert doc["format"] == "baomi.site.report/1"
    e = by_path(doc, site)
    assert e["/files/plan.docx"]["action"] == "take_down" and e["/files/plan.docx"]["action_zh"] == "下架"
    assert "marking.level" in e["/files/plan.docx"]["categories"]
    assert e["/files/plan.docx"]["page_title"] == "某市人民政府门户网站"
    assert e["/files/plan.docx"]["title"] == "附件：工作方案.docx"
    assert e["/files/notice.pdf"]["action"] == "fix" and "pii.id_card" in e["/files/notice.pdf"]["categories"]
    assert e["/files/notice.pdf"]["suggestion"].startswith("整改")
    assert e["/"]["title"] == "某市人民政府门户网站" and e["/"]["action"] == "none"
    assert e["/news/2.html"]["action"] == "none"
    assert set(e) == {"/", "/news/1.html", "/news/2.html", "/files/notice.pdf", "/files/plan.docx"}
    # polite and bounded: robots.txt read first and obeyed, nothing off-host, links out of scope listed
    assert site.requests[0] == "/robots.txt"
    assert not any(p.startswith("/private/") for p in site.requests)
    assert off.requests == []
    skipped = {s["code"]: s for s in doc["skipped"]}
    assert skipped["robots"]["url"].endswith("/private/internal.html")
    assert skipped["out_of_scope"]["url"].startswith("http://127.0.0.2:")
    assert skipped["not_found"]["url"].endswith("/missing.html")
    assert {"scheme", "not_document"} <= set(skipped)
    assert "/old.html" in site.requests and len(doc["entries"]) == len(set(e))    # the redirect's target once
    assert site.agents == {"BaomiSiteInspector/1.0"}
    # the run file: URLs, hashes and decisions, never the matched text
    run1 = tmp_path / "r1.json.run.json"
    state = run1.read_text(encoding="utf-8")
    assert info["idn"] not in state and "秘密" not in state and "某市人民政府门户网站" not in state
    assert {r["url"].removeprefix(site.url.rstrip("/")) for r in json.loads(state)["resources"]} == set(e)

    change_news2(site, info["idn"])
    site.requests.clear()
    r2 = baomi("site", "scan", site.url, "--delay", "0", "--light", "--since", str(run1),
               "-o", str(tmp_path / "r2.xlsx"), "--save-run", str(tmp_path / "runs") + "/")
    assert r2.returncode == 1, r2.stderr          # the changed page: 整改 (review) → exit 1
    assert "报告 1 个，未变化 4 个" in r2.stdout
    wb = openpyxl.load_workbook(tmp_path / "r2.xlsx")
    ws = wb["检查结果"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("序号", "处理建议", "结论")
    assert len(rows) == 2
    assert rows[1][1] == "整改" and rows[1][5] == "已变化" and rows[1][7].endswith("/news/2.html")
    assert rows[1][6] == "市政府召开常务会议"
    detail = list(wb["发现明细"].iter_rows(values_only=True))
    assert any(r[4] == "pii.id_card" and r[8] == info["idn"] for r in detail[1:])
    # a third run against the directory of runs (its newest): nothing changed, nothing reported
    r3 = baomi("site", "scan", site.url, "--delay", "0", "--light", "--since", str(tmp_path / "runs"),
               "-o", str(tmp_path / "r3.json"))
    assert r3.returncode == 0, r3.stdout + r3.stderr
    d3 = json.loads((tmp_path / "r3.json").read_text(encoding="utf-8"))
    assert d3["entries"] == [] and d3["stats"]["unchanged"] == 5
    # the state carried over keeps the changed page's decision (from run 2) for a later comparison
    st3 = json.loads((tmp_path / "r3.json.run.json").read_text(encoding="utf-8"))
    news2 = next(r for r in st3["resources"] if r["url"].endswith("/news/2.html"))
    assert news2["decision"] == "review" and "pii.id_card" in news2["categories"]


def test_full_mode_reads_the_picture_of_a_marked_page_and_connects_only_to_loopback(sites, tmp_path):
    """The full scanner (models, OCR of the picture in the sandboxed worker) under a Python audit
    hook that records every socket connect of the crawling process and its forked workers: all
    go to loopback, even with an allowed host that resolves elsewhere (--loopback-only refuses it
    before connecting)."""
    site, off = sites
    inspection_site(site, off.url + "offsite.html", with_ocr=True)
    site.html("/news/3.html", "外部资源", "<a href='http://192.0.2.10/doc.pdf'>外部附件</a>")
    site.html("/", "某市人民政府门户网站", site.files["/"][1].decode().split("<body>")[1].split("</body>")[0]
              + "<a href='/news/3.html'>外部资源</a>")
    log = tmp_path / "connects.txt"
    out = tmp_path / "full.html"
    code = textwrap.dedent(f"""
        import sys
        log = open({str(log)!r}, "a", buffering=1)
        def hook(event, args):
            if event == "socket.connect":
                log.write(repr(args[1]) + "\\n")
        sys.addaudithook(hook)
        from scanner.cli import main
        sys.exit(main(["site", "scan", {site.url!r}, "--delay", "0", "--loopback-only", "--allow-host", "192.0.2.10",
                       "-o", {str(out)!r}, "--format", "html"]))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900, cwd=str(ROOT))
    assert r.returncode == 2, r.stderr
    connects = [ln for ln in log.read_text().splitlines() if ln.strip()]
    assert connects, "the audit hook saw no connect: the check would be blind"
    assert all(c.startswith("('127.0.0.1'") for c in connects), connects
    assert off.requests == []
    page = out.read_text(encoding="utf-8")
    assert "保密检查报告" in page and "/img/scan.png" in page
    run = json.loads(Path(str(out) + ".run.json").read_text(encoding="utf-8"))
    img = next(x for x in run["resources"] if x["url"].endswith("/img/scan.png"))
    assert img["kind"] == "image" and img["decision"] == "block" and "marking.level" in img["categories"]
    assert "解析到的地址不在允许范围内" in page                    # 192.0.2.10: refused, listed


# -- the crawler's bounds, in process ------------------------------------------------------------

def test_scope_and_urls():
    s = Scope({"www.example.gov.cn"})
    assert s.host_ok("files.example.gov.cn") and s.host_ok("example.gov.cn") and not s.host_ok("example.com")
    assert not s.host_ok("evilexample.gov.cn")
    assert not Scope({"www.example.gov.cn"}, same_host=True).host_ok("files.example.gov.cn")
    for bad in ("ftp://www.example.gov.cn/a", "file:///etc/passwd", "http://other.cn/"):
        with pytest.raises(Refused):
            s.check_url(bad)
    assert normalise("HTTP://WWW.Example.gov.cn:80/a b/文件.pdf#x") == \
        "http://www.example.gov.cn/a%20b/%E6%96%87%E4%BB%B6.pdf"
    assert normalise("javascript:alert(1)") is None and normalise("mailto:a@b.cn") is None
    with pytest.raises(Refused) as exc:
        Scope({"192.0.2.10"}, loopback_only=True).address("192.0.2.10", 80)
    assert exc.value.code == "address"


def test_page_encodings_titles_and_links():
    from scanner.site.links import parse
    gbk = "<html><head><meta charset='gb2312'><title>关于开展保密检查的通知</title></head><body>" \
          "<a href='/a.pdf'>附件：名单</a><img src='b.png' alt='扫描件'></body></html>"
    p = parse(gbk.encode("gbk"))
    assert p.title == "关于开展保密检查的通知"
    assert p.links == [("/a.pdf", "附件：名单"), ("b.png", "扫描件")]
    assert parse(gbk.replace("gb2312", "utf-8").encode("gb18030"), "gbk").title == "关于开展保密检查的通知"
    assert parse("<title>标题</title><meta name=robots content='noindex,nofollow'>".encode()).nofollow


def test_limits_redirect_off_host_size_and_count(tmp_path):
    with LoopbackSite("127.0.0.2") as off, LoopbackSite() as site:
        off.html("/x.html", "外站", "x")
        site.html("/", "首页", "".join(f"<a href='/p{i}.html'>{i}</a>" for i in range(10))
                  + "<a href='/away.html'>跳转</a><a href='/big.pdf'>大文件</a>")
        for i in range(10):
            site.html(f"/p{i}.html", f"第{i}页", "正文")
        site.redirects["/away.html"] = off.url + "x.html"
        site.files["/big.pdf"] = ("application/pdf", b"%PDF-1.4\n" + b"0" * 300_000)
        opts = CrawlOptions(max_pages=5, delay_s=0, max_bytes=100_000, ignore_robots=True)
        res = crawl(site.url, opts, str(tmp_path))
        assert len(res.resources) == 5 and res.stopped == "limit_pages"
        assert res.skipped_total.get("limit_pages", 0) >= 1
        res = crawl(site.url, CrawlOptions(max_pages=50, delay_s=0, max_bytes=100_000, ignore_robots=True), str(tmp_path))
        codes = {s.url.rsplit("/", 1)[-1]: s.code for s in res.skipped}
        assert codes["away.html"] == "out_of_scope"        # a redirect off the host is not followed
        assert codes["big.pdf"] == "too_large"
        assert off.requests == []
        doc = build(res)
        assert doc["exit_code"] == 3                        # could not check the big file, nothing to take down


def test_run_state_has_no_text_and_since_marks_changes(tmp_path):
    with LoopbackSite() as site:
        site.html("/", "首页", "<a href='/a.html'>a</a><a href='/b.html'>b</a>")
        site.html("/a.html", "甲", "联系电话13812345678")
        site.html("/b.html", "乙", "正文")
        opts = CrawlOptions(delay_s=0, light=True)
        res = inspect(site.url, opts)
        state = run_state(res)
        assert "13812345678" not in json.dumps(state, ensure_ascii=False)
        (tmp_path / "a.run.json").write_text(json.dumps(state), encoding="utf-8")
        site.html("/b.html", "乙", "新的正文")
        del site.files["/a.html"]
        res2 = inspect(site.url, opts, since=load_run(tmp_path / "a.run.json"))
        changes = {r.url.rsplit("/", 1)[-1]: r.change for r in res2.resources}
        assert changes == {"": "unchanged", "b.html": "changed"}
        assert [r["url"].rsplit("/", 1)[-1] for r in res2.removed] == ["a.html"]
        assert res2.removed[0]["previous_decision"] == "review"
        doc = build(res2)
        assert [e["url"].rsplit("/", 1)[-1] for e in doc["entries"]] == ["b.html"]


def test_hostile_and_broken_attachments_do_not_stop_the_run(tmp_path):
    """A zip bomb dressed as a docx, a truncated PDF and a PNG that is not one: each gets an entry
    the inspector must open by hand (人工核查, fail closed), and the rest of the site is still
    inspected and reported."""
    import io
    import zipfile
    from support.drafts import docx_bytes, pdf_bytes
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * (80 << 20))
    with LoopbackSite() as site:
        site.html("/", "首页", "<a href='/bomb.docx'>一</a><a href='/cut.pdf'>二</a><a href='/fake.png'>三</a>"
                  "<a href='/ok.docx'>四</a>")
        site.files["/bomb.docx"] = ("application/octet-stream", bomb.getvalue())
        site.files["/cut.pdf"] = ("application/pdf", pdf_bytes(["关于做好安全生产工作的通知"])[:300])
        site.files["/fake.png"] = ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
        site.files["/ok.docx"] = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                                  docx_bytes(["机密★10年", "关于某项目的报告"]))
        res = inspect(site.url, CrawlOptions(delay_s=0, light=True))
        doc = build(res)
    by = {e["url"].rsplit("/", 1)[-1]: e for e in doc["entries"]}
    for name in ("bomb.docx", "cut.pdf", "fake.png"):
        assert by[name]["decision"] == "review" and by[name]["errors"], by[name]
        assert by[name]["action"] == "check" and by[name]["action_zh"] == "人工核查"
    assert by["ok.docx"]["action"] == "take_down"
    assert doc["exit_code"] == 2


def test_resume_a_cut_short_run_fetches_only_what_is_left(sites, tmp_path):
    """A run cut short (--max-pages 3) leaves its progress file; `--resume` (a larger limit) does not
    fetch the three scanned resources again, carries their decisions, rebuilds the frontier from
    their links, and ends with the URL set and decisions of an uninterrupted run. The progress
    file, like a run file, holds no matched text."""
    from collections import Counter
    site, off = sites
    info = inspection_site(site, off.url + "offsite.html", with_ocr=False)
    common = ("site", "scan", site.url, "--delay", "0", "--light")
    full = baomi(*common, "-o", str(tmp_path / "full.json"))
    assert full.returncode == 2, full.stderr
    full_requests = Counter(site.requests)
    site.requests.clear()
    state = tmp_path / "progress.jsonl"
    cut = baomi(*common, "--max-pages", "3", "--state", str(state), "-o", str(tmp_path / "cut.json"))
    assert cut.returncode in (0, 1), cut.stderr       # the takedowns are beyond the cut
    cut_requests = Counter(site.requests)
    text = state.read_text(encoding="utf-8")
    assert info["idn"] not in text and "秘密" not in text and "某市人民政府门户网站" not in text
    assert len(text.splitlines()) == 1 + 3
    site.requests.clear()
    res = baomi(*common, "--resume", "--state", str(state), "-o", str(tmp_path / "resumed.json"))
    assert res.returncode == 2, res.stderr
    assert "续查：沿用已检查的 3 项" in res.stderr
    # only what was left: the three scanned resources are not asked for again (robots.txt is)
    assert Counter(site.requests) == full_requests - cut_requests + Counter({"/robots.txt": 1})
    assert "/" not in site.requests and "/files/plan.docx" in site.requests

    def decisions(name: str) -> dict[str, str]:
        doc = json.loads((tmp_path / name).read_text(encoding="utf-8"))
        return {e["url"]: (e["decision"], e["action"]) for e in doc["entries"]}
    assert decisions("resumed.json") == decisions("full.json")
    assert len(decisions("full.json")) == 5
    # the progress file now covers the whole run: resuming again fetches no document
    site.requests.clear()
    again = baomi(*common, "--resume", "--state", str(state), "-o", str(tmp_path / "again.json"))
    assert again.returncode == 2, again.stderr
    assert decisions("again.json") == decisions("full.json")
    assert not {"/", "/news/2.html", "/files/notice.pdf", "/files/plan.docx"} & set(site.requests)
    # a progress file of another site is refused
    bad = baomi("site", "scan", off.url, "--delay", "0", "--light", "--resume", "--state", str(state))
    assert bad.returncode == 64 and "无法续查" in bad.stderr


def test_a_long_crawl_scans_as_it_goes_and_a_kill_mid_crawl_keeps_that(sites, tmp_path):
    """scan_every_s: while crawling, what was fetched is scanned now and then (here after every
    resource), so the progress file grows in the crawl phase; a run killed there resumes without
    fetching what it had scanned and ends with the decisions of an uninterrupted run."""
    from scanner.site.state import ProgressWriter
    site, off = sites
    inspection_site(site, off.url + "offsite.html", with_ocr=False)
    common = ("site", "scan", site.url, "--delay", "0", "--light")
    assert baomi(*common, "-o", str(tmp_path / "full.json")).returncode == 2

    class Killed(Exception):
        pass
    events: list[tuple[str, int]] = []

    def progress(ev: dict) -> None:
        events.append((ev["stage"], ev.get("scanned", 0)))
        if ev["stage"] == "crawl" and ev["fetched"] == 3:
            raise Killed                   # the process dies in the crawl phase
    state = tmp_path / "progress.jsonl"
    writer = ProgressWriter(state, normalise(site.url), resume=False)
    with pytest.raises(Killed):
        inspect(site.url, CrawlOptions(delay_s=0, light=True, scan_every_s=0), progress=progress, on_scanned=writer)
    writer.close()
    assert ("scan", 1) in events and events[-1] == ("crawl", 2)          # scanned while crawling
    assert len(state.read_text(encoding="utf-8").splitlines()) == 1 + 2
    site.requests.clear()
    res = baomi(*common, "--resume", "--state", str(state), "-o", str(tmp_path / "resumed.json"))
    assert res.returncode == 2, res.stderr
    assert "续查：沿用已检查的 2 项" in res.stderr and "/" not in site.requests

    def decisions(name: str) -> dict[str, str]:
        doc = json.loads((tmp_path / name).read_text(encoding="utf-8"))
        return {e["url"]: (e["decision"], e["action"]) for e in doc["entries"]}
    assert decisions("resumed.json") == decisions("full.json")


def test_progress_file_killed_mid_line_keeps_whole_lines(tmp_path):
    """A run killed while writing leaves a torn last line: resume ignores it and appends after it."""
    from types import SimpleNamespace
    from scanner.site.state import ProgressWriter, load_progress
    p = tmp_path / "p.jsonl"
    w = ProgressWriter(p, "http://a.cn/", resume=False)
    rs = SimpleNamespace(url="http://a.cn/", asked="", kind="page", depth=0, referrer=None, sha256="ab", size=3,
                         content_type="text/html", report={"decision": "pass"}, links=["http://a.cn/x"], nofollow=False)
    w(rs)
    w.close()
    p.write_text(p.read_text(encoding="utf-8") + '{"url": "http://a.cn/x", "kin', encoding="utf-8")
    assert sorted(load_progress(p, "http://a.cn/")) == ["http://a.cn/"]
    w = ProgressWriter(p, "http://a.cn/", resume=True)
    w(SimpleNamespace(**{**vars(rs), "url": "http://a.cn/y", "links": []}))
    w.close()
    done = load_progress(p, "http://a.cn/")
    assert sorted(done) == ["http://a.cn/", "http://a.cn/y"] and done["http://a.cn/"]["links"] == ["http://a.cn/x"]
    with pytest.raises(ValueError):
        load_progress(p, "http://b.cn/")
