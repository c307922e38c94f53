"""Validators against the public test vectors in ../shared/data/ids (python-stdnum, bcbc)."""
from __future__ import annotations

import json

import pytest

from scanner.validators import (
    bank_bin,
    id_check_char,
    luhn,
    masked_resident_id,
    partial_resident_id,
    resident_id,
    uscc,
)


def _vectors(shared_dir):
    return [json.loads(line) for line in open(shared_dir / "data" / "ids" / "cn_ids.jsonl", encoding="utf-8")]


def test_resident_id_vectors_strict(shared_dir):
    """python-stdnum semantics (strict region years): every valid accepted, every invalid rejected."""
    rows = [r for r in _vectors(shared_dir) if r["label"] == "cn_resident_id"]
    assert len(rows) >= 10
    for r in rows:
        assert resident_id(r["text"], strict_years=True) == (r["expect"] == "valid"), r


def test_resident_id_lenient_only_relaxes_creation_year(shared_dir):
    """The scanner accepts a region code created after the birth year (cards carry the region at
    issuance, first issued 1984); everything else stays rejected."""
    for r in _vectors(shared_dir):
        if r["label"] != "cn_resident_id":
            continue
        lenient = resident_id(r["text"])
        if r["expect"] == "valid":
            assert lenient, r
        elif r["note"] != "county was not registered yet at birth year":
            assert not lenient, r


def test_uscc_vectors(shared_dir):
    rows = [r for r in _vectors(shared_dir) if r["label"] == "cn_uscc"]
    assert len(rows) > 100
    for r in rows:
        assert uscc(r["text"]) == (r["expect"] == "valid"), r


def test_credit_codes_are_never_reported_as_id_numbers(shared_dir, light_scanner):
    rows = [r for r in _vectors(shared_dir) if r["label"] == "cn_uscc"]
    text = "\n".join(f"统一社会信用代码：{r['text']}" for r in rows)
    report = light_scanner.scan_text(text)
    assert not [f for f in report.findings if f.category in ("pii.id_card", "pii.bank_card", "pii.phone")]


def test_luhn_vectors(shared_dir):
    for r in _vectors(shared_dir):
        if r["label"] == "luhn":
            assert luhn(r["text"]) == (r["expect"] == "valid"), r


def test_bank_bins_and_length():
    assert bank_bin("6217007777777777772") == (True, True)      # CCB debit, 19 digits
    assert bank_bin("4367427777777776") == (True, False)        # known prefix, other length
    assert bank_bin("2026110715302288") == (False, False)


@pytest.mark.parametrize("body", ["33010619790408216", "11010219910101007", "44011320141005001"])
def test_check_character_round_trip(body):
    full = body + id_check_char(body)
    assert resident_id(full)
    wrong = next(c for c in "0123456789X" if c != full[-1])
    assert not resident_id(full[:-1] + wrong)


def test_future_and_impossible_birth_dates_rejected():
    for birth in ("20991231", "19800230", "18991231"):
        body = "110102" + birth + "007"
        assert not resident_id(body + id_check_char(body)), birth


@pytest.mark.parametrize("value,ok", [
    ("3622011988****0417", True),      # a 12306 ticket: region and birth year show
    ("330106********2160", True),      # birth date masked
    ("330***********2160", True),      # the 公示 form (reported only with travel words)
    ("110105********123X", True),
    ("9922011988****0417", False),     # no such province
    ("3622011988**0417", False),       # 16 characters
    ("3622011850****0417", False),     # birth year out of range
    ("362201198*8***0417", False),     # digits inside the mask
    ("3****************7", False),     # one visible digit says nothing of a province
    ("362201198810010417", False),     # nothing masked: the full-number rule's job
])
def test_masked_resident_id(value, ok):
    assert masked_resident_id(value) is ok


@pytest.mark.parametrize("value,ok", [
    ("35048119791105", True),        # region and birth date of an 18-digit number, the rest cut off
    ("3301061979040821", True),
    ("330106790408216", True),       # a legacy 15-digit number
    ("99048119791105", False),       # no such province
    ("35048119791332", False),       # no such date
    ("35048121001105", False),       # born in the future
    ("330106197904082160", False),   # a whole number is pii.id_card.v1's
    ("3504811979110", False),
])
def test_partial_resident_id(value, ok):
    assert partial_resident_id(value) is ok
