"""档案保密审查 in the service, over HTTP on SQLite and PostgreSQL: a ZIP of real files with a
catalogue scanned as a job, then 初审 (reviewer) → 复核 (approver) → 审核 (another approver), per item
and in bulk, with separation of duties, returns, the record per item and per batch (decision rows,
audit entries), the final list of 涉密 items, the register xlsx and the summary PDF."""
from __future__ import annotations

import io
import time

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from service import audit
from service.models import ArchiveDecision, AuditEntry
from support.archive_samples import AS_OF, EXPECTED, catalog_xlsx, zip_bytes
from support.service_helpers import BACKENDS, running_service


@pytest.fixture(params=BACKENDS)
def svc(request, tmp_path):
    with running_service(tmp_path, request.param) as s:
        s.users(alice="author", rita="reviewer", apollo="approver", athena="approver")
        yield s


def wait_batch(c, bid: str, timeout: float = 120) -> dict:
    t0 = time.time()
    while time.time() - t0 < timeout:
        r = c.get(f"/api/v1/archive/batches/{bid}")
        assert r.status_code == 200, r.text
        if r.json()["status"] != "scanning":
            return r.json()
        time.sleep(0.2)
    raise AssertionError("archive scan did not finish")


def upload(c, tmp_path, **fields):
    cat = catalog_xlsx(tmp_path / "目录.xlsx").read_bytes()
    return c.post("/api/v1/archive/batches", files={"file": ("档案.zip", zip_bytes(), "application/zip"),
                                                     "catalog": ("目录.xlsx", cat, "application/octet-stream")},
                  data={"title": "2026年文书档案第一批", "as_of": AS_OF.isoformat(), **fields})


def test_three_steps_over_http(svc, tmp_path):
    author, rita, apollo, athena = (svc.login(u) for u in ("alice", "rita", "apollo", "athena"))
    assert upload(author, tmp_path).status_code == 403                # an author does not review archives
    r = upload(rita, tmp_path)
    assert r.status_code == 202, r.text
    bid = r.json()["id"]
    b = wait_batch(rita, bid)
    assert b["status"] == "initial" and b["items"] == 6
    items = {it["path"].split("/", 1)[1]: it for it in b["items_detail"]}
    for name, (attr, access, expiry, opening) in EXPECTED.items():
        sg = items[name]["suggestion"]
        if name.endswith(".png"):          # light scanner: no OCR, the picture goes to a person
            assert (sg["attribute"], sg["access"]) == ("unknown", "控制使用")
            continue
        assert sg["attribute_zh"].startswith(attr) and sg["access"] == access, (name, sg)
        assert sg["expiry_zh"].startswith(expiry) and sg["opening_review"] is bool(opening), (name, sg)
        assert items[name]["dh"], name
    assert [u["values"]["档号"] for u in b["unmatched"]] == ["WS-2019-007"]
    assert author.get(f"/api/v1/archive/batches/{bid}").status_code == 403
    png = items["WS-2021-004.png"]["id"]
    expired = items["WS-2015-001.docx"]["id"]

    # 初审 (rita): adopt in bulk -- the unreadable picture is skipped -- then decide it by hand
    assert apollo.post(f"/api/v1/archive/batches/{bid}/bulk", json={"adopt": True}).status_code == 403   # not 复核 yet
    r = rita.post(f"/api/v1/archive/batches/{bid}/bulk", json={"adopt": True})
    assert r.status_code == 200 and r.json()["skipped"] == [png] and len(r.json()["decided"]) == 5
    r = rita.post(f"/api/v1/archive/batches/{bid}/complete", json={"decision": "complete"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "decisions_missing"
    one = {"attribute": "secret", "level": "绝密", "access": "不开放"}
    r = rita.put(f"/api/v1/archive/batches/{bid}/items/{png}", json=one)
    assert r.status_code == 422 and r.json()["error"]["code"] == "reason_required"
    assert rita.put(f"/api/v1/archive/batches/{bid}/items/{png}",
                    json={**one, "reason": "人工查看扫描件：首页标注绝密★长期"}).status_code == 200
    bad = rita.put(f"/api/v1/archive/batches/{bid}/items/{png}", json={"attribute": "secret", "access": "开放",
                                                                         "level": "秘密", "reason": "x"})
    assert bad.status_code == 422
    assert rita.post(f"/api/v1/archive/batches/{bid}/complete", json={}).json()["status"] == "recheck"

    # 复核 (apollo): rita may not act again (role, and she did 初审); apollo declassifies the expired item
    r = rita.post(f"/api/v1/archive/batches/{bid}/bulk", json={"adopt": True})
    assert r.status_code == 403
    assert apollo.post(f"/api/v1/archive/batches/{bid}/bulk", json={"adopt": True}).status_code == 200
    assert apollo.put(f"/api/v1/archive/batches/{bid}/items/{expired}",
                      json={"attribute": "non_secret", "access": "开放"}).status_code == 422   # differs: a reason
    r = apollo.put(f"/api/v1/archive/batches/{bid}/items/{expired}",
                   json={"attribute": "non_secret", "access": "控制使用", "reason": "保密期限已于2020-03-01届满，经复核自行解密"})
    assert r.status_code == 200
    assert apollo.post(f"/api/v1/archive/batches/{bid}/complete", json={}).json()["status"] == "final"

    # 审核: the person of 复核 may not do it (separation of duties); athena returns once, then confirms
    r = apollo.post(f"/api/v1/archive/batches/{bid}/bulk", json={"adopt": True})
    assert r.status_code == 403 and r.json()["error"]["code"] == "separation_of_duties"
    r = athena.post(f"/api/v1/archive/batches/{bid}/complete", json={"decision": "return"})
    assert r.status_code == 422                                     # a return needs its reason
    r = athena.post(f"/api/v1/archive/batches/{bid}/complete", json={"decision": "return", "reason": "请补充解密依据"})
    assert r.json()["status"] == "recheck"
    # athena acted at 审核: she may not do the 复核 now
    assert athena.post(f"/api/v1/archive/batches/{bid}/bulk", json={"adopt": True}).json()["error"]["code"] == \
        "separation_of_duties"
    assert apollo.post(f"/api/v1/archive/batches/{bid}/complete", json={"reason": "依据已补充"}).json()["status"] == "final"
    assert athena.post(f"/api/v1/archive/batches/{bid}/bulk", json={"adopt": True}).status_code == 200
    assert athena.post(f"/api/v1/archive/batches/{bid}/complete", json={}).json()["status"] == "done"
    assert athena.post(f"/api/v1/archive/batches/{bid}/bulk", json={"adopt": True}).status_code == 409

    b = rita.get(f"/api/v1/archive/batches/{bid}").json()
    final = {f["dh"]: f for f in b["final_list"]}
    assert set(final) == {"WS-2020-002", "WS-2021-004", "WS-2010-006"}       # 001 declassified at 复核
    assert final["WS-2020-002"]["level"] == "机密" and "机密★20年" in final["WS-2020-002"]["instruction"]
    assert final["WS-2021-004"]["period"] == "30年"        # decided by hand, no period read: the statutory default
    assert final["WS-2010-006"]["number"].endswith("-003")
    assert b["people"] == {"initial": ["rita"], "recheck": ["apollo"], "final": ["athena"]}

    # the record: a decision row per item and step, batch rows for complete/return, audit entries, chain intact
    with svc.st.db.read() as s:
        rows = [(d.item_id, d.step) for d in s.execute(select(ArchiveDecision).where(ArchiveDecision.batch_id == bid)).scalars()]
        actions = [e.action for e in s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
                   if e.action.startswith("archive.")]
        assert audit.verify(s).ok
    assert sum(1 for item, step in rows if item is not None and step == "initial") == 6
    assert sum(1 for item, _ in rows if item is None) == 5
    for a in ("archive.created", "archive.scanned", "archive.initial.bulk_decision", "archive.initial.decision",
              "archive.initial.complete", "archive.recheck.decision", "archive.final.return",
              "archive.final.complete"):
        assert a in actions, a

    # the register and the summary
    r = athena.get(f"/api/v1/archive/batches/{bid}/register.xlsx")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content), read_only=True)
    rows = list(wb["登记表"].iter_rows(values_only=True))
    head = list(rows[0])
    assert head[-6:] == ["初审意见", "复核意见", "审核意见", "审核后保密属性", "编号", "标记说明"]
    by_dh = {row[1]: dict(zip(head, row)) for row in rows[1:]}
    assert by_dh["WS-2015-001"]["审核后保密属性"] == "非涉密" and "自行解密" in by_dh["WS-2015-001"]["复核意见"]
    assert by_dh["WS-2020-002"]["编号"] and by_dh["WS-2020-002"]["审核后保密属性"] == "涉密（机密）"
    r = athena.get(f"/api/v1/archive/batches/{bid}/summary.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    import pypdfium2 as pdfium
    pdf = pdfium.PdfDocument(r.content)
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "档案保密审查汇总表" in text and "涉密档案清单" in text and "WS-2020-002" in text
    lst = rita.get("/api/v1/archive/batches").json()["batches"]
    assert lst[0]["id"] == bid and lst[0]["status"] == "done"


def test_retention_purges_the_catalogue_with_the_zip(svc, tmp_path):
    """The retention purge deletes an archive batch's uploaded catalogue (目录) like its ZIP once the
    scan has ended; the batch, its items and the catalogue's name stay."""
    from service.jobs import purge_expired
    from service.models import ArchiveBatch, Job
    rita = svc.login("rita")
    bid = upload(rita, tmp_path).json()["id"]
    assert wait_batch(rita, bid)["status"] == "initial"
    with svc.st.db.read() as s:
        b = s.get(ArchiveBatch, bid)
        cat, zip_blob = b.catalog_blob_id, s.get(Job, b.job_id).blob_id
    blobs = svc.settings.data_dir / "blobs"
    assert cat and (blobs / cat).exists() and (blobs / zip_blob).exists()
    purge_expired(svc.st)                                               # not yet expired
    assert (blobs / cat).exists()
    res = purge_expired(svc.st, at=time.time() + svc.settings.retention_days * 86400 + 10)
    assert res["blobs"] == 2
    assert not (blobs / cat).exists() and not (blobs / zip_blob).exists()
    with svc.st.db.read() as s:
        assert s.get(ArchiveBatch, bid).catalog_blob_id is None
        purge = s.execute(select(AuditEntry).where(AuditEntry.action == "retention.purge")).scalars().all()
    assert len(purge) == 1
    b = rita.get(f"/api/v1/archive/batches/{bid}").json()
    assert b["catalogue"] == "目录.xlsx" and b["items"] == 6
    assert purge_expired(svc.st, at=time.time() + svc.settings.retention_days * 86400 + 10)["blobs"] == 0   # once


def test_bad_uploads(svc, tmp_path):
    rita = svc.login("rita")
    r = rita.post("/api/v1/archive/batches", files={"file": ("x.zip", b"not a zip", "application/zip")})
    assert r.status_code == 415 and r.json()["error"]["code"] == "archive_zip_invalid"
    r = rita.post("/api/v1/archive/batches", files={"file": ("a.zip", zip_bytes(), "application/zip"),
                                                     "catalog": ("c.csv", b"a,b\n1,2\n", "text/csv")})
    assert r.status_code == 422 and r.json()["error"]["code"] == "archive_catalog_invalid"


def test_migration_up_and_down(tmp_path):
    """The archive revision creates its tables on a database at the revision before it and drops
    them again (whatever its number after re-chaining: found by its file name)."""
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine, inspect

    from service.db import MIGRATIONS_DIR
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    rev = next(r for r in ScriptDirectory.from_config(cfg).walk_revisions() if "archive_review" in r.path)
    eng = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    cfg.attributes["engine"] = eng

    def tables():
        return set(inspect(create_engine(eng.url)).get_table_names())
    command.upgrade(cfg, rev.down_revision)
    assert "archive_batches" not in tables()
    command.upgrade(cfg, rev.revision)
    assert {"archive_batches", "archive_items", "archive_decisions"} <= tables()
    command.downgrade(cfg, rev.down_revision)
    assert not {"archive_batches", "archive_items", "archive_decisions"} & tables()
    command.upgrade(cfg, "head")
    assert "archive_items" in tables()


def test_pages(svc, tmp_path):
    """The pages in Chinese: the list with the upload form, a batch with its items; an author is refused."""
    rita, alice = svc.login("rita"), svc.login("alice")
    bid = upload(rita, tmp_path).json()["id"]
    wait_batch(rita, bid)
    page = rita.get("/archive")
    assert page.status_code == 200 and "提交档案批次" in page.text and bid in page.text
    assert "<td>6</td>" in page.text and "built-in method" not in page.text
    page = rita.get(f"/archive/{bid}")
    assert page.status_code == 200
    assert "共 6 件" in page.text
    for words in ("待初审", "全部采纳系统建议", "WS-2015-001", "已到期（自行解密候选，待确认）", "开放审核候选", "审查登记表（xlsx）"):
        assert words in page.text, words
    assert alice.get(f"/archive/{bid}").status_code == 403


def test_bulk_value_on_selected_items(svc, tmp_path):
    """A bulk decision with one value for the selected items is recorded per item (bulk) with one audit entry."""
    rita = svc.login("rita")
    bid = upload(rita, tmp_path).json()["id"]
    b = wait_batch(rita, bid)
    assert b["scanned"] == 6 and b["job_status"] == "done"
    ids = [it["id"] for it in b["items_detail"]][:2]
    val = {"attribute": "non_secret", "access": "控制使用", "reason": "内容涉及个人信息，控制使用"}
    r = rita.post(f"/api/v1/archive/batches/{bid}/bulk", json={"items": ids, "decision": val})
    assert r.status_code == 200 and r.json()["decided"] == ids
    b = rita.get(f"/api/v1/archive/batches/{bid}").json()
    got = {it["id"]: it["initial"] for it in b["items_detail"]}
    assert all(got[i]["access"] == "控制使用" and got[i]["reason"] == val["reason"] for i in ids)
    assert [d["bulk"] for d in b["decisions"]] == [True, True]
    with svc.st.db.read() as s:
        bulk = [e for e in s.execute(select(AuditEntry)).scalars() if e.action == "archive.initial.bulk_decision"]
        assert len(bulk) == 1 and str(ids[0]) in bulk[0].after
    assert rita.post(f"/api/v1/archive/batches/{bid}/bulk", json={"items": [999999], "decision": val}).status_code == 404


def test_poisoned_job_fails_the_batch(tmp_path):
    """A batch whose job keeps failing is not left 'scanning': after job_max_attempts it is 扫描失败."""
    from service.jobs import claim
    from service.models import ArchiveBatch, Job
    with running_service(tmp_path, "sqlite", workers=0) as svc:
        svc.user("rita", "reviewer")
        rita = svc.login("rita")
        bid = upload(rita, tmp_path).json()["id"]
        with svc.st.db.write() as s:
            b = s.get(ArchiveBatch, bid)
            s.get(Job, b.job_id).attempts = svc.settings.job_max_attempts
        assert claim(svc.st, "t") is None
        b = rita.get(f"/api/v1/archive/batches/{bid}").json()
        assert b["status"] == "failed" and b["status_zh"] == "扫描失败" and b["job_status"] == "failed"
