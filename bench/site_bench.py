"""Site inspection benchmark (issue 14), part of `make bench` (bench/run.py, section "site"; alone:
`python bench/site_bench.py [--quick]`).

A site served on loopback (tests/support/site.py: http.server in a thread) of N HTML pages of
~1,500 Chinese characters each, linked as a tree from the home page, with a PDF and a docx
attachment every 10 pages (one marked, one with an ID number). `baomi site scan` runs on it as a
subprocess with `--delay 0` (politeness off: the figure is the inspector's own speed; with the
default 1 s delay a run takes N seconds), in light mode and in full mode (models; pictures would
add OCR). Reported: resources per second end to end (crawl + scan, the subprocess's wall clock
from start to exit, including start-up), the crawl and scan phases' own figures from the report,
and a second run with --since on the unchanged site (nothing rescanned)."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

PARA = ("为深入贯彻落实党中央、国务院关于优化营商环境的决策部署，进一步提升政务服务效能，"
        "市政府办公室就做好本年度政务公开工作提出如下意见。各区、各部门要坚持以公开为常态、不公开为例外，"
        "推进决策、执行、管理、服务、结果公开，加强政策解读和回应关切。")


def build_site(site, pages: int) -> int:
    from support.drafts import docx_bytes, pdf_bytes
    from support.service_helpers import valid_id_number
    n_res = 1
    links = []
    for i in range(pages):
        kids = "".join(f"<a href='/p/{j}.html'>第{j}条</a> " for j in range(i * 3 + 1, min(pages, i * 3 + 4)))
        att = ""
        if i % 10 == 0:
            site.files[f"/f/{i}.pdf"] = ("application/pdf", pdf_bytes(
                ["关于公布名单的通知", f"联系人身份证号：{valid_id_number()}", "特此公告。"]))
            site.files[f"/f/{i}.docx"] = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                                          docx_bytes(["秘密★5年" if i % 20 == 0 else "关于工作安排的通知", PARA, PARA]))
            att = f"<a href='/f/{i}.pdf'>附件一</a> <a href='/f/{i}.docx'>附件二</a>"
            n_res += 2
        site.html(f"/p/{i}.html", f"政务公开第{i}号", "".join(f"<p>{PARA}</p>" for _ in range(12)) + kids + att)
        n_res += 1
        if i < 3:
            links.append(f"<a href='/p/{i}.html'>栏目{i}</a>")
    site.html("/", "门户网站首页", "".join(links))
    site.files["/robots.txt"] = ("text/plain", b"User-agent: *\nAllow: /\n")
    return n_res


def crawl_once(url: str, out: Path, light: bool, since: Path | None = None, max_pages: int = 100000) -> dict:
    cmd = [sys.executable, "-m", "scanner.cli", "site", "scan", url, "--delay", "0", "--max-depth", "20",
           "--max-pages", str(max_pages), "-o", str(out), "--quiet"]
    if light:
        cmd.append("--light")
    if since is not None:
        cmd += ["--since", str(since)]
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=3600)
    wall = time.perf_counter() - t0
    doc = json.loads(out.read_text(encoding="utf-8"))
    st = doc["stats"]
    return {"resources": st["fetched"], "reported": st["reported"], "wall_s": round(wall, 2),
            "resources_per_s": round(st["fetched"] / wall, 2) if wall else None,
            "crawl_s": st["crawl_s"], "crawl_resources_per_s": round(st["fetched"] / st["crawl_s"], 1) if st["crawl_s"] else None,
            "scan_s": st["scan_s"], "actions": st["actions"], "exit_code": doc["exit_code"]}


def run(quick: bool = False, log=print) -> dict:
    from support.site import LoopbackSite
    pages = 40 if quick else 200
    out: dict = {"pages": pages, "delay_s": 0, "note": "loopback, one request at a time, --delay 0"}
    with LoopbackSite() as site, tempfile.TemporaryDirectory() as d:
        n = build_site(site, pages)
        out["resources_on_site"] = n
        log(f"site: {n} resources on loopback, light mode")
        out["light"] = crawl_once(site.url, Path(d) / "light.json", light=True)
        log("site: the same site again with --since (nothing changed)")
        out["light_since"] = crawl_once(site.url, Path(d) / "since.json", light=True,
                                        since=Path(d) / "light.json.run.json")
        log("site: full mode (models)")
        out["full"] = crawl_once(site.url, Path(d) / "full.json", light=False)
    return out


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv, log=lambda m: print(m, file=sys.stderr)), ensure_ascii=False, indent=1))
