"""一事一审 numbers (service/recordno.py): one per submission, per year, in order, never repeated —
also when submissions are made concurrently, on both databases; the prefix is a setting; the number
is on the API, the page and the record; a new version keeps it."""
from __future__ import annotations

import re
import threading
import time

import pytest
from sqlalchemy import select

from service import recordno
from service.clock import beijing
from service.models import RecordCounter, Submission
from support.service_helpers import BACKENDS, running_service, wait_submission

NUMBER = re.compile(r"^保审〔(\d{4})〕(\d+)号$")


def test_year_is_beijing_time():
    from service.models import Submission as Sub
    sub = Sub(id="x", created_at=1798736400.0)     # 2026-12-31 17:00 UTC = 2027-01-01 01:00 北京时间
    assert beijing(sub.created_at).year == 2027


def test_format_and_prefix_cleaning():
    assert recordno.format_number("保审", 2026, 17) == "保审〔2026〕17号"
    assert recordno.format_number("市局 保审\x00\n", 2027, 1) == "市局保审〔2027〕1号"
    assert len(recordno.clean_prefix("长" * 40)) == recordno.MAX_PREFIX


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_submissions_get_distinct_consecutive_numbers(backend, tmp_path):
    with running_service(tmp_path, backend) as svc:
        svc.user("alice", "author")
        author = svc.login("alice")
        numbers: list[str] = []
        errors: list[object] = []

        def submit(i: int) -> None:
            r = author.post("/api/v1/submissions", json={"text": f"第{i}号通知：本周五下午召开例会。", "title": f"例会{i}"})
            if r.status_code != 202:
                errors.append((r.status_code, r.text))
            else:
                numbers.append(r.json()["record_no"])

        threads = [threading.Thread(target=submit, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        assert len(set(numbers)) == 12
        with svc.st.db.read() as s:
            rows = s.execute(select(Submission.record_no, Submission.created_at)).all()
            counter = {c.year: c.last for c in s.execute(select(RecordCounter)).scalars()}
        year = beijing(time.time()).year
        parsed = sorted(int(NUMBER.match(no).group(2)) for no, _ in rows)
        assert parsed == list(range(1, 13))
        assert {NUMBER.match(no).group(1) for no, _ in rows} == {str(year)}
        assert counter == {year: 12}


def test_number_on_api_page_and_record_and_kept_by_new_version(tmp_path):
    with running_service(tmp_path, record_prefix="区政府保审") as svc:
        svc.user("alice", "author")
        author = svc.login("alice")
        r = author.post("/api/v1/submissions", json={"text": "关于开展社区志愿服务活动的通知", "title": "志愿服务"})
        assert r.status_code == 202, r.text
        sid = r.json()["id"]
        first = wait_submission(author, sid)
        no = first["record_no"]
        assert re.fullmatch(r"区政府保审〔\d{4}〕1号", no), no
        assert f"一事一审编号：{no}" in author.get(f"/api/v1/submissions/{sid}/record.html").text
        assert no in author.get(f"/s/{sid}").text
        # a second submission takes the next number; a new version of the first keeps its own
        r2 = author.post("/api/v1/submissions", json={"text": "关于召开年度工作总结会的通知", "title": "总结会"})
        assert wait_submission(author, r2.json()["id"])["record_no"].endswith("〕2号")
        assert author.post(f"/api/v1/submissions/{sid}/versions", json={"text": "修改后的通知正文", "note": "改"}).status_code == 202
        assert wait_submission(author, sid)["record_no"] == no
