"""Synchronous scans take turns (settings.scan_concurrency): at most N in-process scans run at once
for /scan and /gate; jobs are not held by the slots. Counted on the real scanner (its scan_text
wrapped to record how many calls are inside at once), through the real HTTP route."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from service.reports import scan_draft
from support.service_helpers import running_service

TEXT = "关于做好年度工作的通知。联系人王某，办公电话010-66668888。".encode()


class Inside:
    """Wraps a scanner's scan_text: the most calls seen inside at once."""

    def __init__(self, scanner):
        self.real, self.lock, self.now, self.most = scanner.scan_text, threading.Lock(), 0, 0

    def __call__(self, *a, **kw):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(0.05)        # room for another call to come in, if nothing stops it
            return self.real(*a, **kw)
        finally:
            with self.lock:
                self.now -= 1


@pytest.mark.parametrize("slots", [1, 2])
def test_sync_scans_take_turns_jobs_do_not(tmp_path, monkeypatch, slots):
    with running_service(tmp_path, "sqlite", scan_concurrency=slots) as svc:
        sc = svc.st.get_scanner()
        inside = Inside(sc)
        monkeypatch.setattr(sc, "scan_text", inside)
        with ThreadPoolExecutor(6) as ex:
            reports = list(ex.map(lambda i: scan_draft(svc.st, TEXT, f"t{i}", text_input=True, sync=True), range(6)))
        assert inside.most == slots and len(reports) == 6
        assert all(r.findings for r in reports)
        inside.most = 0
        with ThreadPoolExecutor(4) as ex:      # not synchronous (jobs): no turns
            list(ex.map(lambda i: scan_draft(svc.st, TEXT, f"j{i}", text_input=True), range(4)))
        assert inside.most > 1


def test_scan_route_goes_through_the_slots(tmp_path, monkeypatch):
    with running_service(tmp_path, "sqlite", scan_concurrency=1) as svc:
        svc.user("alice", "author")
        a = svc.login("alice")
        sc = svc.st.get_scanner()
        inside = Inside(sc)
        monkeypatch.setattr(sc, "scan_text", inside)
        slots = svc.st.scan_slots
        held = slots.acquire(timeout=5)        # the only slot taken: a /scan request must wait for it
        assert held
        done = []
        t = threading.Thread(target=lambda: done.append(a.post("/api/v1/scan", json={"text": TEXT.decode()})))
        t.start()
        t.join(0.5)
        assert t.is_alive() and not done and inside.most == 0
        slots.release()
        t.join(60)
        assert done and done[0].status_code == 200 and done[0].json()["findings"]
        assert inside.most == 1


def test_the_service_warms_its_full_scanner_in_the_background(tmp_path):
    """What the detectors load on first use (the names tagger's dense tables; the explanations'
    segmenter) is loaded by a background thread at start (ServiceState.warm_scanner, called by
    the app's lifespan), not by the first request; the app starts without waiting for it."""
    from scanner.engine import Scanner
    from service.state import ServiceState
    from support.service_helpers import make_settings

    st = ServiceState.build(make_settings(tmp_path, light_scanner=False), load_scanner=False)
    assert st.warm_scanner() is None                  # nothing built, nothing to warm
    st.scanner = Scanner(light=False)                 # a fresh one: get_scanner's may be warm already
    names = next(d for d in st.scanner.detectors if d.name == "names")
    assert not hasattr(names.model, "_uni")
    t = st.warm_scanner()
    assert t is not None and t.daemon
    t.join(60)
    assert hasattr(names.model, "_uni")
    st.db.dispose()
