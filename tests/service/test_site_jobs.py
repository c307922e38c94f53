"""保密检查 as a service job (issue 14): a 保密检查员 adds a site served on loopback by the test,
starts a run, follows its progress, reads the result (API, page, xlsx), runs again after a page
changed (only that page is reported), and the schedule queues a run when it is due. Who may: the
inspector and admin roles (workflow.PERMISSIONS site.*), nobody else."""
from __future__ import annotations

import datetime as dt
import io
import time

import openpyxl
import pytest
from sqlalchemy import select, update

from service import site as site_mod
from service.clock import BEIJING
from service.models import AuditEntry, SiteRun, SiteTarget
from support.egress import outbound, strace_cmd
from support.server import Server
from support.service_helpers import BACKENDS, running_service, wait_until_finished
from support.site import LoopbackSite, change_news2, inspection_site


def wait_run(c, run_id: str, timeout: float = 180.0) -> dict:
    return wait_until_finished(c, f"/api/v1/site/runs/{run_id}", timeout, every=0.2)


@pytest.fixture(params=BACKENDS)
def svc(tmp_path, request):
    with running_service(tmp_path, request.param, site_loopback_only=True, site_min_delay_s=0.0,
                         site_poll_s=0.2) as s:
        s.users(insp="inspector", alice="author", rev="reviewer")
        yield s


def test_site_job_two_runs_since_schedule_and_permissions(svc):
    with LoopbackSite("127.0.0.2") as off, LoopbackSite() as site:
        off.html("/offsite.html", "外站", "<p>外站</p>")
        info = inspection_site(site, off.url + "offsite.html", with_ocr=False)
        insp = svc.login("insp")
        # only the inspector (and admin) roles
        for who in ("alice", "rev"):
            c = svc.login(who)
            assert c.get("/api/v1/site/targets").json()["error"]["code"] == "role_forbidden"
            assert c.post("/api/v1/site/targets", json={"url": site.url}).status_code == 403
            assert c.get("/site").status_code == 403
        r = insp.post("/api/v1/site/targets", json={"url": "ftp://example.org/", "name": "x"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_url"
        r = insp.post("/api/v1/site/targets", json={"url": site.url, "name": "门户网站", "delay_s": 0,
                                                     "schedule": "daily", "at_time": "03:30"})
        assert r.status_code == 201, r.text
        t = r.json()
        assert t["schedule_zh"] == "每天" and 0 < t["next_run_at"] - time.time() <= 86400
        when = dt.datetime.fromtimestamp(t["next_run_at"], BEIJING)
        assert (when.hour, when.minute) == (3, 30)

        r = insp.post(f"/api/v1/site/targets/{t['id']}/runs")
        assert r.status_code == 202, r.text
        run1 = wait_run(insp, r.json()["id"])
        assert run1["status"] == "done", run1
        doc = run1["report"]
        by = {e["url"].removeprefix(site.url.rstrip("/")): e for e in doc["entries"]}
        assert by["/files/plan.docx"]["action_zh"] == "下架"
        assert by["/files/notice.pdf"]["action_zh"] == "整改" and "pii.id_card" in by["/files/notice.pdf"]["categories"]
        assert run1["exit_code"] == 2 and run1["summary"]["stats"]["actions"]["take_down"] == 1
        assert off.requests == [] and not any(p.startswith("/private/") for p in site.requests)

        page = insp.get(f"/site/runs/{run1['id']}")
        assert page.status_code == 200
        assert "下架" in page.text and "附件：工作方案.docx" in page.text and "某市人民政府门户网站" in page.text
        assert "robots.txt 不允许抓取" in page.text
        assert insp.get("/", follow_redirects=False).headers["location"] == "/site"     # the inspector's home
        listing = insp.get("/site").text
        assert "门户网站" in listing and "每天 03:30" in listing
        x = insp.get(f"/api/v1/site/runs/{run1['id']}/report.xlsx")
        assert x.status_code == 200
        rows = list(openpyxl.load_workbook(io.BytesIO(x.content))["检查结果"].iter_rows(values_only=True))
        assert {r[1] for r in rows[1:]} >= {"下架", "整改"}

        # the second run after a page changed: only that page, compared with run 1
        change_news2(site, info["idn"])
        run2 = wait_run(insp, insp.post(f"/api/v1/site/targets/{t['id']}/runs").json()["id"])
        assert run2["status"] == "done" and run2["since_run_id"] == run1["id"]
        assert [e["url"].removeprefix(site.url.rstrip("/")) for e in run2["report"]["entries"]] == ["/news/2.html"]
        assert run2["report"]["entries"][0]["change"] == "changed"
        assert "未变化 4 个" in insp.get(f"/site/runs/{run2['id']}").text

        # what is kept: the run file and summary in plain columns hold no matched text or titles;
        # the report is encrypted
        with svc.st.db.read() as s:
            rows = s.execute(select(SiteRun)).scalars().all()
            for r in rows:
                for col in (r.state, r.summary, r.progress):
                    assert info["idn"] not in col and "工作方案" not in col and "秘密" not in col
                assert info["idn"].encode() not in r.report_enc
            acts = [a.action for a in s.execute(select(AuditEntry).where(AuditEntry.action.like("site.%"))).scalars()]
            assert acts.count("site.run_finished") == 2 and "site.target_created" in acts
            for a in s.execute(select(AuditEntry).where(AuditEntry.action.like("site.%"))).scalars():
                assert info["idn"] not in (a.after or "")

        # the schedule: when next_run_at has come the runner queues and runs a scheduled run, and
        # the next time moves a day on
        with svc.st.db.write() as s:
            s.execute(update(SiteTarget).where(SiteTarget.id == t["id"]).values(next_run_at=time.time() - 1))
        site_mod._wake.set()
        t0 = time.time()
        sched = None
        while time.time() - t0 < 120 and sched is None:
            runs = insp.get(f"/api/v1/site/targets/{t['id']}").json()["runs"]
            sched = next((r for r in runs if r["trigger"] == "schedule" and r["status"] == "done"), None)
            time.sleep(0.2)
        assert sched is not None and sched["since_run_id"] == run2["id"]
        assert sched["summary"]["stats"]["reported"] == 0
        t2 = insp.get(f"/api/v1/site/targets/{t['id']}").json()
        # the next 03:30 北京时间 after the run (today's when the run came before 03:30, else tomorrow's)
        assert time.time() < t2["next_run_at"] <= time.time() + 86400
        assert dt.datetime.fromtimestamp(t2["next_run_at"], BEIJING).strftime("%H:%M:%S") == "03:30:00"

        # the schedule setting
        r = insp.put(f"/api/v1/site/targets/{t['id']}/schedule", json={"schedule": "weekly", "at_time": "25:00"})
        assert r.status_code == 422
        r = insp.put(f"/api/v1/site/targets/{t['id']}/schedule", json={"schedule": "weekly", "at_time": "01:15",
                                                                      "weekday": 6})
        assert r.status_code == 200 and dt.datetime.fromtimestamp(r.json()["next_run_at"], BEIJING).weekday() == 6
        r = insp.put(f"/api/v1/site/targets/{t['id']}/schedule", json={"schedule": "off"})
        assert r.json()["next_run_at"] is None

        # the retention purge drops the reports (they quote what was found), keeps the run files
        assert site_mod.purge_reports(svc.st, at=time.time() + (svc.settings.retention_days + 1) * 86400) == 3
        gone = insp.get(f"/api/v1/site/runs/{run1['id']}").json()
        assert "report" not in gone and gone["summary"]["stats"]["fetched"] == run1["summary"]["stats"]["fetched"]
        assert "报告已按保存期限删除" in insp.get(f"/site/runs/{run1['id']}").text
        with svc.st.db.read() as s:
            assert all(r.state for r in s.execute(select(SiteRun)).scalars())
            assert s.execute(select(AuditEntry).where(AuditEntry.action == "site.report_viewed")).first()

        # a service may restrict the hosts an inspection starts from
        svc.st.settings.site_hosts = "www.example.gov.cn"
        r = insp.post("/api/v1/site/targets", json={"url": site.url})
        assert r.status_code == 422 and r.json()["error"]["code"] == "site_host_forbidden"


def test_next_run_times():
    def at(*a):
        return dt.datetime(*a, tzinfo=BEIJING).timestamp()
    base = at(2026, 12, 2, 10, 0)        # a Wednesday, 10:00 北京时间
    assert site_mod.next_run("daily", "02:00", after=base) == at(2026, 12, 3, 2, 0)
    assert site_mod.next_run("daily", "11:00", after=base) == at(2026, 12, 2, 11, 0)
    assert site_mod.next_run("weekly", "09:00", 2, after=base) == at(2026, 12, 9, 9, 0)
    assert site_mod.next_run("weekly", "09:00", 4, after=base) == at(2026, 12, 4, 9, 0)
    assert site_mod.next_run("off", "09:00", after=base) is None


def test_real_server_site_job_over_http_under_strace(tmp_path):
    """The real `baomi serve` (a subprocess, real HTTP) under strace: the demo inspector adds the
    loopback site, starts a run and reads the result; every connect of the server, its threads
    and its extraction children goes to loopback (the crawl included)."""
    trace = tmp_path / "serve.txt"
    with LoopbackSite("127.0.0.2") as off, LoopbackSite() as site:
        off.html("/offsite.html", "外站", "<p>外站</p>")
        inspection_site(site, off.url + "offsite.html", with_ocr=False)
        srv = Server(tmp_path / "data", wrap=strace_cmd(trace), baomi_argon2_fast="1", baomi_workers="1",
                     baomi_light_scanner="true", baomi_site_min_delay_s="0", baomi_site_poll_s="0.5",
                     baomi_site_loopback_only="true")
        srv.start(timeout=240)
        try:
            c = srv.login("inspector")
            t = c.post("/api/v1/site/targets", json={"url": site.url, "name": "门户网站", "delay_s": 0})
            assert t.status_code == 201, t.text
            r = c.post(f"/api/v1/site/targets/{t.json()['id']}/runs")
            assert r.status_code == 202, r.text
            run = wait_run(c, r.json()["id"])
            assert run["status"] == "done", run
            assert {e["action_zh"] for e in run["report"]["entries"]} >= {"下架", "整改"}
            x = c.get(f"/api/v1/site/runs/{run['id']}/report.xlsx")
            assert x.status_code == 200 and x.content[:2] == b"PK"
            assert c.get(f"/site/runs/{run['id']}").status_code == 200
        finally:
            srv.stop()
            srv.wait_exit(30)
        assert off.requests == [] and "/robots.txt" in site.requests
    calls = trace.read_text(errors="replace")
    assert f'htons({site.port})' in calls          # the tracer saw the crawl's own connects
    assert outbound(trace) == []
