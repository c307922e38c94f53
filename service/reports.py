"""Scanning a draft and keeping its report: the encrypted report body, the plain finding rows
the workflow and the record read, and the report a job gets when the scan could not finish.

The full report (with segments, i.e. draft text) is stored encrypted with the report id as
associated data; the plain columns hold what the queue, the workflow and the record need
(decision, categories, positions, fingerprints). After the retention purge only those remain."""
from __future__ import annotations

import json
import os
import uuid
from contextlib import nullcontext
from dataclasses import dataclass

from sqlalchemy import insert

from scanner.extract.sandbox import needs_isolation
from scanner.model import Report, ScanError

from .models import FindingRow, ReportRow, now
from .state import ServiceState
from .storage import tmp_name


def store_report(s, st: ServiceState, report, created_by: int | None) -> ReportRow:
    return insert_report(s, prepare_report(st, report, created_by))


@dataclass
class PreparedReport:
    """A report's rows, serialised and encrypted (prepare_report) before any transaction: the
    writer lock is held only for the INSERTs (insert_report). `body`: the report contract with
    segments, as stored (what /scan answers, without the segments unless asked: one to_dict)."""
    row: ReportRow          # the report row as an object (not in any session), for its callers
    values: dict            # the same row's columns, as insert_report writes them
    findings: list[dict]
    body: dict
    report_id: str

    def answer(self, with_segments: bool = False) -> dict:
        """report.to_dict(with_segments) of the stored report (the same keys in the same order:
        segments come last) with its report_id: a new dict, the stored body is left as it is."""
        out = {k: v for k, v in self.body.items() if with_segments or k != "segments"}
        out["report_id"] = self.report_id
        return out


# json.dumps(..., ensure_ascii=False, default=str) without a new encoder for each of a report's findings
_DETAIL_JSON = json.JSONEncoder(ensure_ascii=False, default=str).encode


def prepare_report(st: ServiceState, report, created_by: int | None) -> PreparedReport:
    rid = str(uuid.uuid4())
    full = report.to_dict(with_segments=True)
    values = dict(id=rid, sha256=report.sha256 or "", source=report.source[:255],
                  media_type=report.media_type or "", decision=report.decision,
                  risk_score=float(report.risk_score), finding_count=len(report.findings),
                  categories=",".join(sorted({f.category for f in report.findings})),
                  error_codes=",".join(sorted({e.code for e in report.errors})),
                  ruleset_hash=report.ruleset_hash, scanner_version=report.scanner_version,
                  body_enc=st.cipher.encrypt(json.dumps(full, ensure_ascii=False).encode("utf-8"),
                                             aad=rid.encode()),
                  purged_at=None, created_by=created_by, created_at=now())
    rows = []
    for i, f in enumerate(report.findings):
        # explanation, suggestion and location can quote the matched text: encrypted, never plain
        detail = _DETAIL_JSON({"explanation": f.explanation, "suggestion": f.suggestion,
                               "location": f.location}).encode("utf-8")
        rows.append(dict(report_id=rid, idx=i, category=f.category, rule_id=f.rule_id,
                         severity=f.severity, confidence=float(f.confidence), layer=f.layer,
                         segment_id=f.segment_id, start=f.start, end=f.end,
                         fingerprint=f.fingerprint, explanation="", suggestion="", location="{}",
                         group_id=(f.group or "")[:24], needs_verdict=bool(f.needs_verdict),
                         allow_entry_id=_entry_id(f.allowlisted),
                         detail_enc=st.cipher.encrypt(detail, aad=_detail_aad(rid, i))))
    return PreparedReport(ReportRow(**values), values, rows, full, rid)


def insert_report(s, prep: PreparedReport) -> ReportRow:
    # Core INSERTs, no ORM unit of work (~0.9 ms a scan less): the returned row is not in the
    # session; who needs it there loads it (s.get)
    s.execute(insert(ReportRow.__table__), prep.values)
    if prep.findings:      # one multi-row INSERT (a 5,000-character draft has ~50 findings): no ORM object each
        s.execute(insert(FindingRow.__table__), prep.findings)     # Core: no ORM bulk bookkeeping per row
    return prep.row


def _entry_id(allowlisted: dict | None) -> int | None:
    """The service's allowlist row id of the entry that covered a finding (service.remembered)."""
    e = str((allowlisted or {}).get("entry") or "")
    return int(e) if e.isdigit() else None


def _detail_aad(report_id: str, idx: int) -> bytes:
    return f"finding:{report_id}:{idx}".encode()


def finding_detail(s, r: FindingRow) -> dict:
    """A finding row's explanation, suggestion and location: decrypted (the session carries the
    service's cipher: service.db), or the plain columns of a row written before issue 13;
    empty after the retention purge."""
    if r.detail_enc is not None:
        return json.loads(s.info["cipher"].decrypt(r.detail_enc, aad=_detail_aad(r.report_id, r.idx)))
    return {"explanation": r.explanation, "suggestion": r.suggestion, "location": json.loads(r.location or "{}")}


def seal_plain_details(s, cipher) -> int:
    """Rows written before issue 13 with plain explanation/suggestion/location: encrypt them into
    detail_enc and empty the plain columns (start-up; purged reports keep nothing) -> rows sealed."""
    from sqlalchemy import or_, select
    n = 0
    q = select(FindingRow).where(FindingRow.detail_enc.is_(None), or_(
        FindingRow.explanation != "", FindingRow.suggestion != "", FindingRow.location != "{}"))
    for r in s.execute(q).scalars():
        rep = s.get(ReportRow, r.report_id)
        if rep is not None and rep.purged_at is None:
            detail = {"explanation": r.explanation, "suggestion": r.suggestion, "location": json.loads(r.location or "{}")}
            r.detail_enc = cipher.encrypt(json.dumps(detail, ensure_ascii=False).encode("utf-8"),
                                          aad=_detail_aad(r.report_id, r.idx))
        r.explanation, r.suggestion, r.location = "", "", "{}"
        n += 1
    return n


def load_report(st: ServiceState, row: ReportRow, with_segments: bool = False) -> dict:
    """The report contract. After the retention purge only the plain columns remain."""
    if row.body_enc is None:
        d = {"source": row.source, "sha256": row.sha256, "media_type": row.media_type,
             "decision": row.decision, "risk_score": row.risk_score, "findings": [], "errors": [],
             "purged": True, "scanner_version": row.scanner_version, "ruleset_hash": row.ruleset_hash}
    else:
        d = json.loads(st.cipher.decrypt(row.body_enc, aad=row.id.encode()))
        if not with_segments:
            d.pop("segments", None)
    d["report_id"] = row.id
    return d


def reading_issues(s, row: ReportRow) -> tuple[list[dict], list[dict]]:
    """What the scanner could not read (errors) and how it read the file (notes) of a stored
    report, each {code, message} with the Chinese message (which names the pages or parts): from
    the encrypted body (the session carries the cipher: service.db); after the retention purge only
    the error codes remain (message empty)."""
    if row.body_enc is None:
        return [{"code": c, "message": ""} for c in (row.error_codes or "").split(",") if c], []
    body = json.loads(s.info["cipher"].decrypt(row.body_enc, aad=row.id.encode()))
    return ([{"code": e["code"], "message": e.get("message", "")} for e in body.get("errors", [])],
            [{"code": n["code"], "message": n.get("message", "")} for n in body.get("notes", [])])


def failed_report(source: str, sha256: str, code: str) -> Report:
    """The report of a job that could not be scanned: decision review (fail closed)."""
    return Report.could_not_scan(source, [ScanError("service.job_failed",
                                                    "自动审查未能完成（解析失败或超出资源限制），需人工审查。", code)],
                                 sha256=sha256, risk_score=1.0)


def report_audit_summary(report) -> dict:
    """What the audit log keeps of a scan: decision, counts, fingerprints, error codes (no text)."""
    return {"decision": report.decision, "findings": len(report.findings),
            "fingerprints": [f.fingerprint for f in report.findings][:200],
            "errors": sorted({e.code for e in report.errors})}


def scan_draft(st: ServiceState, data: bytes, filename: str, text_input: bool = False, scanner=None,
               sync: bool = False, progress=None):
    """Scan a draft. Plain text from JSON is scanned in process (no parser involved); a file goes
    through the isolated extractor (a child process with rlimits) when the isolation setting says
    so for its content (`scanner.extract.sandbox.needs_isolation`: auto = every format that needs
    a parser, always = every file, off = none): the bytes are written to data/tmp/<uuid>.work
    (0600) for the child and removed right after. progress(done, total): OCR pages of a
    multi-page scan, as they are read.

    sync=True (a request waiting for its answer: /scan, /gate): an in-process scan takes one of
    the process's scan slots (settings.scan_concurrency), so concurrent requests take turns in
    order. Jobs and isolated extractions (whose parsing runs in the child, up to its wall-clock
    limit) take none: a slow file never holds up the synchronous scans."""
    sc = scanner or st.get_scanner()
    if text_input:
        with st.scan_slots if sync else nullcontext():
            return sc.scan_text(data.decode("utf-8", "replace"), source=filename)
    if not needs_isolation(data, st.isolation):
        with st.scan_slots if sync else nullcontext():
            return sc.scan_bytes(data, source=filename, isolated=False, progress=progress)
    work = st.blobs.tmp / tmp_name(str(uuid.uuid4()), "work")
    fd = os.open(work, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return sc.scan_file(work, source=filename, isolated=True, progress=progress)
    finally:
        work.unlink(missing_ok=True)


# the layers a CMS publishes: what "the same text" means when it sends the approved draft as JSON
PUBLISHED_LAYERS = ("body", "table")


def text_mac(st: ServiceState, segments) -> str | None:
    """A keyed fingerprint (HMAC with the audit key) of a report's published text: the body and
    table segments in order, NFKC, all whitespace removed. The same approved draft sent by a CMS
    as JSON text matches the approval made on the uploaded file; a keyed hash, so the column
    tells nothing about short texts. None when there is no such text."""
    import unicodedata
    parts = [(x.text if hasattr(x, "text") else x.get("text", "")) for x in segments
             if (x.layer if hasattr(x, "layer") else x.get("layer")) in PUBLISHED_LAYERS]
    norm = "".join(unicodedata.normalize("NFKC", "".join(parts)).split())
    return st.db.audit_key.mac("published-text", norm) if norm else None
