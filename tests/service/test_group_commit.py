"""Group commit (service.db.Database.write_grouped): concurrent writers share one commit, each
call in its own savepoint; a call that fails loses only its own rows; a call returns only once its
rows are committed; the audit chain stays one unbroken chain in the order the calls ran. On both
backends, through the database layer and through POST /api/v1/scan."""
from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, func, select

from service import audit
from service.models import AuditEntry, ReportRow, Submission
from support.service_helpers import BACKENDS, running_service


@pytest.fixture(params=BACKENDS)
def svc(request, tmp_path):
    with running_service(tmp_path, request.param, workers=0) as s:
        s.user("alice", "author")
        yield s


def _commits(db) -> list[int]:
    """How many COMMITs the write engine has run (a real count, from SQLAlchemy's commit event)."""
    n = [0]

    @event.listens_for(db.write_engine, "commit")
    def _count(_conn):
        n[0] += 1
    return n


def _submission(s, title: str) -> str:
    sub = Submission(id=str(uuid.uuid4()), owner_id=1, title=title, status="pending_review")
    s.add(sub)
    audit.append(s, audit.SYSTEM, "submission.created", "submission", sub.id)
    return sub.id


def test_concurrent_calls_share_commits_and_are_committed_when_they_return(svc):
    db = svc.st.db
    commits = _commits(db)
    seen_after_return: list[bool] = []
    first_in = threading.Event()

    def call(i: int) -> str:
        def fn(s):
            first_in.set()
            time.sleep(0.02)              # a slow group: the others queue behind it
            return _submission(s, f"组提交 {i}")
        sid = db.write_grouped(fn)
        with db.read() as s:              # another connection sees the row as soon as the call returned
            seen_after_return.append(s.get(Submission, sid) is not None)
        return sid

    with ThreadPoolExecutor(12) as ex:
        ids = list(ex.map(call, range(24)))
    assert len(set(ids)) == 24 and all(seen_after_return) and len(seen_after_return) == 24
    assert commits[0] < 24, "every call committed on its own: nothing was grouped"
    with db.read() as s:
        v = audit.verify(s)
        assert v.ok, v.to_dict()
        created = s.execute(select(AuditEntry.object_id).where(AuditEntry.action == "submission.created")
                            .order_by(AuditEntry.seq)).scalars().all()
    assert sorted(created) == sorted(ids)


def test_a_failing_call_loses_only_its_own_rows(svc):
    db = svc.st.db
    gate = threading.Event()
    results: dict[int, object] = {}

    def call(i: int):
        def fn(s):
            if i == 0:
                gate.wait(5)              # hold the first group open until the others have queued
            sid = _submission(s, f"失败隔离 {i}")
            if i == 3:
                raise ValueError("this call fails after writing")
            return sid
        try:
            results[i] = db.write_grouped(fn)
        except ValueError as exc:
            results[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(6)]
    threads[0].start()
    time.sleep(0.2)
    for t in threads[1:]:
        t.start()
    time.sleep(0.3)
    gate.set()
    for t in threads:
        t.join(10)
    assert isinstance(results[3], ValueError)
    ok = [results[i] for i in (0, 1, 2, 4, 5)]
    assert all(isinstance(x, str) for x in ok)
    with db.read() as s:
        titles = set(s.execute(select(Submission.title)).scalars())
        assert "失败隔离 3" not in titles
        assert {f"失败隔离 {i}" for i in (0, 1, 2, 4, 5)} <= titles
        v = audit.verify(s)
        assert v.ok and v.count == s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


def test_a_call_alone_in_its_group_that_fails_keeps_nothing(svc):
    """A lone call runs without a savepoint: its failure rolls the whole transaction back, which
    held only its own work (its rows and its audit entry), and the next call leads again."""
    db = svc.st.db
    with db.read() as s:
        seq0 = s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()

    def fails(s):
        _submission(s, "单独失败")
        s.flush()
        raise ValueError("after its rows were written")
    with pytest.raises(ValueError):
        db.write_grouped(fails)
    assert not db._leading
    with db.read() as s:
        assert "单独失败" not in set(s.execute(select(Submission.title)).scalars())
        assert s.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == seq0
    assert db.write_grouped(lambda s: _submission(s, "单独之后"))
    with db.read() as s:
        assert audit.verify(s).ok


def test_a_failed_commit_raises_to_every_caller_of_the_group(svc, monkeypatch):
    db = svc.st.db
    real = db._write_txn

    def failing_txn():
        gen = real()
        s = next(gen)
        yield s
        gen.throw(OSError(28, "No space left on device"))  # the commit's turn: the disk is full (rolled back)
    monkeypatch.setattr(db, "_write_txn", failing_txn)
    with pytest.raises(OSError):
        db.write_grouped(lambda s: _submission(s, "未提交"))
    monkeypatch.setattr(db, "_write_txn", real)
    with db.read() as s:
        assert "未提交" not in set(s.execute(select(Submission.title)).scalars())
    assert db.write_grouped(lambda s: _submission(s, "之后")) and not db._leading


def test_concurrent_scans_over_http_keep_reports_and_one_chain(svc):
    a = svc.login("alice")
    text = "关于做好年度工作的通知。联系人王某，办公电话010-66668888。"

    def scan(i: int):
        r = a.post("/api/v1/scan", json={"text": f"{text}{i}"})
        return r.status_code, r.json().get("report_id")

    with ThreadPoolExecutor(8) as ex:
        res = list(ex.map(scan, range(32)))
    assert all(code == 200 and rid for code, rid in res)
    with svc.st.db.read() as s:
        for _, rid in res:
            assert s.get(ReportRow, rid) is not None
        scanned = s.execute(select(AuditEntry.object_id).where(AuditEntry.action == "scan.scanned")).scalars().all()
        assert sorted(scanned) == sorted(rid for _, rid in res)
        assert audit.verify(s).ok
