"""Name and address figures measured THROUGH THE SCANNER (pii.name / pii.address findings).

    python -m training.eval_names [--limit N] [--json]

Data: the held-out 20 % of ../shared/data/ner/cluener_train.jsonl (common.is_heldout on the record
id; the tagger never trained on it). Each sentence is scanned with scanner.scan_text; a finding is a
true positive when its [start, end) equals a gold span exactly (label `name` for pii.name,
`address` for pii.address). Addresses are reported twice: against every gold `address` span (most
are city or country names, which the scanner deliberately does not report as personal data) and
against the gold spans that are specific (is_specific_address: house number, building, room).
Because CLUENER holds few specific addresses, a third figure uses the held-out 20 % of
../shared/data/address/address_train.jsonl put into sentence frames written for evaluation only:
exact whole-address span, and the share of addresses whose numbered tail is covered by a finding.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from scanner.detectors.names import is_specific_address
from .common import DATA, is_heldout, prf, read_jsonl


def heldout_records(limit: int | None = None) -> list[dict]:
    rows = [r for r in read_jsonl(DATA / "ner" / "cluener_train.jsonl") if is_heldout(r["id"])]
    return rows[:limit] if limit else rows


def evaluate(scanner, rows) -> dict:
    counts = {k: [0, 0, 0] for k in ("name", "address_all", "address_specific")}
    chars = 0
    t0 = time.perf_counter()
    for r in rows:
        text = r["text"]
        chars += len(text)
        rep = scanner.scan_text(text)
        pred_n = {(f.start, f.end) for f in rep.findings if f.category == "pii.name" and f.segment_id == 0}
        pred_a = {(f.start, f.end) for f in rep.findings if f.category == "pii.address" and f.segment_id == 0}
        gold_n = {(s["start"], s["end"]) for s in r["spans"] if s["label"] == "name"}
        gold_a = {(s["start"], s["end"]) for s in r["spans"] if s["label"] == "address"}
        gold_as = {(a, b) for a, b in gold_a if is_specific_address(text[a:b])}
        for key, pred, gold in (("name", pred_n, gold_n), ("address_all", pred_a, gold_a),
                                ("address_specific", pred_a, gold_as)):
            c = counts[key]
            c[0] += len(pred & gold)
            c[1] += len(pred - gold)
            c[2] += len(gold - pred)
    secs = time.perf_counter() - t0
    res = {k: prf(*v) for k, v in counts.items()}
    # for address_specific, predictions that hit a non-specific gold span or no span count as false positives
    res["sentences"] = len(rows)
    res["chars"] = chars
    res["scan_seconds"] = round(secs, 2)
    return res


# Frames for the address check, written for evaluation only (the training frames are different).
EVAL_FRAMES = ["请将发票寄到{A}。", "他的住处在{A}，平时很少回来。", "现居{A}", "经核实，其户籍登记在{A}。",
               "邮寄地址为{A}，请注意查收。", "当晚，两人在{A}楼下发生争执。"]


def address_records(limit: int = 400) -> list[dict]:
    """Held-out addresses of ../shared/data/address (never trained on) that are specific, in frames."""
    out = []
    for r in read_jsonl(DATA / "address" / "address_train.jsonl"):
        if not is_heldout(r["id"]) or any(s["label"] == "person" for s in r["spans"]):
            continue
        a = r["text"]
        if not is_specific_address(a):
            continue
        frame = EVAL_FRAMES[len(out) % len(EVAL_FRAMES)]
        k = frame.index("{A}")
        out.append({"text": frame.replace("{A}", a), "start": k, "end": k + len(a)})
        if len(out) >= limit:
            break
    return out


def evaluate_addresses(scanner, rows) -> dict:
    """Exact whole-address spans, and 'covered': the findings together cover the numbered tail."""
    tp = fp = fn = covered = 0
    for r in rows:
        rep = scanner.scan_text(r["text"])
        pred = {(f.start, f.end) for f in rep.findings if f.category == "pii.address"}
        gold = (r["start"], r["end"])
        tp += gold in pred
        fn += gold not in pred
        fp += len(pred - {gold})
        tail = r["end"] - 3
        covered += any(a <= tail < b for a, b in pred)
    res = prf(tp, fp, fn)
    res["covered_rate"] = round(covered / max(1, len(rows)), 4)
    res["sentences"] = len(rows)
    return res


OFFICE = Path(__file__).resolve().parents[1] / "training_data" / "names" / "office_text.jsonl"


def evaluate_office(scanner) -> dict:
    """Office-like lines (forms, labels, headings, Latin fragments; training_data/names): a pii.name
    finding is correct when its text is one of the line's names."""
    tp = fp = fn = 0
    wrong: list[str] = []
    for r in read_jsonl(OFFICE):
        rep = scanner.scan_text(r["text"])
        pred = [f.text for f in rep.findings if f.category == "pii.name"]
        gold = list(r["names"])
        for t in pred:
            if t in gold:
                tp += 1
                gold.remove(t)
            else:
                fp += 1
                wrong.append(t)
        fn += len(gold)
    res = prf(tp, fp, fn)
    res["false_names"] = wrong
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--light", action="store_true", help="measure light mode (no models) for comparison")
    ap.add_argument("--office", action="store_true", help="only the office-text precision set")
    args = ap.parse_args(argv)
    from scanner.engine import Scanner
    scanner = Scanner(light=args.light, names_report="all")   # the tagger itself, unfiltered
    if args.office:
        print(json.dumps(evaluate_office(scanner), ensure_ascii=False, indent=2))
        return
    res = evaluate(scanner, heldout_records(args.limit))
    res["address_dataset"] = evaluate_addresses(scanner, address_records())
    res["office_text"] = evaluate_office(scanner)
    res["model_version"] = scanner.model_version
    print(json.dumps(res, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
