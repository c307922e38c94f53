"""Keyed fingerprints, grouping, needs_verdict, the allowlist (scopes, expiry) and the CLI
baseline (issue 16). Real scanner, real files, real subprocesses for the CLI."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, UTC

import pytest

from scanner.allowlist import Allowlist, Entry, Scope, apply
from scanner.engine import Scanner
from scanner.fingerprint import fingerprint, key_id, load_or_create_key

KEY_A = bytes.fromhex("11" * 32)
KEY_B = bytes.fromhex("22" * 32)
MOBILE = "13572468013"


@pytest.fixture(scope="module")
def scanner_a():
    return Scanner(light=True, fingerprint_key=KEY_A)


def mobile_fp(scanner, text=f"手机{MOBILE}"):
    rep = scanner.scan_text(text)
    return [f for f in rep.findings if f.category == "pii.phone"][0].fingerprint


def test_fingerprint_is_keyed_and_not_recoverable_without_the_key(scanner_a):
    fp = mobile_fp(scanner_a)
    rule = "pii.phone.mobile.v1"
    # not the plain hash the scanner used to publish (which was brute-forced over 1e8 numbers)
    assert fp != hashlib.sha256(f"{rule}\x00{MOBILE}".encode()).hexdigest()[:32]
    # it depends on the key: another install gives another fingerprint for the same number
    assert mobile_fp(Scanner(light=True, fingerprint_key=KEY_B)) != fp
    # brute force over the mobile space without the key: an attacker hashing every candidate with
    # sha256 (or with a guessed key) never meets the fingerprint; here a slice around the number
    guessed_key = bytes(32)
    for n in range(int(MOBILE) - 5000, int(MOBILE) + 5000):
        cand = f"{rule}\x00{n}".encode()
        assert hashlib.sha256(cand).hexdigest()[:32] != fp
        assert hmac.new(guessed_key, cand, hashlib.sha256).hexdigest()[:32] != fp
    # with the key the same computation finds it: the fingerprint is exactly HMAC(key, rule \0 text)
    assert hmac.new(KEY_A, f"{rule}\x00{MOBILE}".encode(), hashlib.sha256).hexdigest()[:32] == fp


def test_fingerprint_stable_for_the_same_key(scanner_a):
    # a frozen vector: the same key, rule and text give this fingerprint in every version
    assert fingerprint(KEY_A, "pii.phone.mobile.v1", MOBILE) == \
        hmac.new(KEY_A, b"pii.phone.mobile.v1\x0013572468013", hashlib.sha256).hexdigest()[:32]
    assert mobile_fp(scanner_a, f"手机 {MOBILE}") == mobile_fp(Scanner(light=True, fingerprint_key=KEY_A))
    assert fingerprint(KEY_A, "r", "a b\nc") == fingerprint(KEY_A, "r", "abc")


def test_key_file_created_on_first_use_private_and_reused(tmp_path):
    path = tmp_path / "data" / "fingerprint.key"
    k1 = load_or_create_key(path)
    assert path.exists() and (path.stat().st_mode & 0o777) == 0o600 and len(k1) == 32
    assert load_or_create_key(path) == k1
    s = Scanner(light=True, fingerprint_key_file=path)
    assert s.fingerprint_key == k1
    assert s.scan_text("x").to_dict()["fingerprint_key_id"] == key_id(k1) != k1.hex()


def test_identical_findings_share_a_group_and_only_deciding_ones_need_a_verdict(scanner_a):
    text = f"手机{MOBILE}\n再次联系：手机 {MOBILE}\n咨询电话：027-88776655\n手机13912345678"
    d = scanner_a.scan_text(text).to_dict()
    mob = [f for f in d["findings"] if f["rule_id"] == "pii.phone.mobile.v1"]
    assert len(mob) == 3 and mob[0]["group"] == mob[1]["group"] != mob[2]["group"]
    groups = {g["group"]: g for g in d["groups"]}
    assert groups[mob[0]["group"]]["count"] == 2 and groups[mob[0]["group"]]["needs_verdict"]
    landline = [f for f in d["findings"] if f["rule_id"] == "pii.phone.landline.v1"][0]
    assert landline["severity"] == "low" and landline["needs_verdict"] is False
    assert not groups[landline["group"]]["needs_verdict"]
    assert d["needs_verdict"] == 2          # two mobile groups; the office landline needs none
    assert sorted(i for g in d["groups"] for i in g["occurrences"]) == list(range(len(d["findings"])))


def entry(fp, **kw):
    return Entry(fingerprint=fp, reason=kw.pop("reason", "单位公开电话"), who="审查员甲", **kw)


def test_allowlist_scopes(scanner_a):
    fp = mobile_fp(scanner_a)
    al = Allowlist([entry(fp, scope="site:portal"), entry(fp, scope="submitter:alice")])
    for scope, hit in ((Scope(site="portal"), True), (Scope(site="other"), False),
                       (Scope(submitter="alice"), True), (Scope(submitter="bob", site="x"), False), (Scope(), False)):
        rep = apply(scanner_a.scan_text(f"手机{MOBILE}"), al, scope, policy=scanner_a.policy)
        f = rep.findings[0]
        assert bool(f.allowlisted) is hit, scope
        assert rep.decision == ("pass" if hit else "review")
        assert f.needs_verdict is (not hit)
        if hit:
            assert f.allowlisted["reason"] == "单位公开电话" and f.allowlisted["who"] == "审查员甲"
    everywhere = Allowlist([entry(fp)])
    assert apply(scanner_a.scan_text(f"手机{MOBILE}"), everywhere, Scope(site="any"), policy=scanner_a.policy).decision == "pass"
    # another number is not covered
    assert apply(scanner_a.scan_text("手机13912345678"), everywhere, policy=scanner_a.policy).decision == "review"


def test_allowlist_expiry_and_rule_pin(scanner_a):
    fp = mobile_fp(scanner_a)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    al = Allowlist([entry(fp, expires="2026-11-30")])
    assert apply(scanner_a.scan_text(f"手机{MOBILE}"), al, now=now, policy=scanner_a.policy).decision == "review"
    al = Allowlist([entry(fp, expires=(now + timedelta(days=1)).isoformat())])
    assert apply(scanner_a.scan_text(f"手机{MOBILE}"), al, now=now, policy=scanner_a.policy).decision == "pass"
    al = Allowlist([entry(fp, rule_id="pii.email.v1")])
    assert apply(scanner_a.scan_text(f"手机{MOBILE}"), al, policy=scanner_a.policy).decision == "review"
    with pytest.raises(ValueError):
        entry(fp, scope="team:x")
    with pytest.raises(ValueError):
        Entry(fingerprint=fp, reason=" ")


def test_allowlist_file_roundtrip_holds_no_text(tmp_path, scanner_a):
    fp = mobile_fp(scanner_a)
    path = tmp_path / "allow.json"
    Allowlist([entry(fp, scope="site:portal", expires="2099-01-01")]).save(path)
    assert MOBILE not in path.read_text(encoding="utf-8")
    al = Allowlist.load(path)
    s = Scanner(light=True, fingerprint_key=KEY_A, allowlist=al, scope=Scope(site="portal"))
    rep = s.scan_text(f"手机{MOBILE}")
    assert rep.decision == "pass" and rep.findings[0].allowlisted["scope"] == "site:portal"


def run_cli(*args, cwd, env):
    return subprocess.run([sys.executable, "-m", "scanner.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_baseline_create_scan_update_audit(tmp_path):
    env = {**os.environ, "BAOMI_FINGERPRINT_KEY_FILE": str(tmp_path / "fp.key")}
    (tmp_path / "a.txt").write_text(f"手机{MOBILE}\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("邮箱 huangjun86@qq.com\n", encoding="utf-8")
    r = run_cli("baseline", "create", "a.txt", "-o", "bl.json", "--light", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "bl.json").read_text(encoding="utf-8")
    assert MOBILE not in text and "13572" not in text
    data = json.loads(text)
    assert [e["rule_id"] for e in data["entries"]] == ["pii.phone.mobile.v1"]
    # scan with the baseline: a.txt's known finding is gone, b.txt's new one reported
    r = run_cli("scan", "--light", "--baseline", "bl.json", "--format", "jsonl", "a.txt", "b.txt", cwd=tmp_path, env=env)
    reps = {json.loads(line)["source"]: json.loads(line) for line in r.stdout.splitlines()}
    assert reps["a.txt"]["findings"] == [] and reps["a.txt"]["decision"] == "pass"
    assert [f["category"] for f in reps["b.txt"]["findings"]] == ["pii.email"] and r.returncode == 1
    # audit: label the known finding; update: add b.txt's, keep the label
    fp = data["entries"][0]["fingerprint"]
    r = run_cli("baseline", "audit", "bl.json", "--set", fp[:10], "false_alarm", "--reason", "单位电话", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    r = run_cli("baseline", "update", "bl.json", "a.txt", "b.txt", "--light", cwd=tmp_path, env=env)
    assert r.returncode == 0 and "新增 1 条" in r.stdout
    data = json.loads((tmp_path / "bl.json").read_text(encoding="utf-8"))
    labels = {e["rule_id"]: e["label"] for e in data["entries"]}
    assert labels == {"pii.phone.mobile.v1": "false_alarm", "pii.email.v1": None}
    r = run_cli("baseline", "audit", "bl.json", cwd=tmp_path, env=env)
    assert "false_alarm" in r.stdout and "huangjun86" not in r.stdout
    r = run_cli("scan", "--light", "--baseline", "bl.json", "--format", "jsonl", "a.txt", "b.txt", cwd=tmp_path, env=env)
    assert r.returncode == 0 and all(json.loads(line)["findings"] == [] for line in r.stdout.splitlines())
    # another install's key cannot update this baseline
    env2 = {**env, "BAOMI_FINGERPRINT_KEY_FILE": str(tmp_path / "other.key")}
    r = run_cli("baseline", "update", "bl.json", "a.txt", "--light", cwd=tmp_path, env=env2)
    assert r.returncode == 2
