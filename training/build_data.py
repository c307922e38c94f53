"""Build the compact reference tables in lexicons/data/ from the public corpora in ../shared/data.

    python -m training.build_data ../shared/data

Outputs (committed, with provenance in lexicons/data/README.md):
  id_regions.tsv   6-digit administrative region code, valid_from year, valid_to year (blank = open)
  bank_bins.tsv    card prefix (BIN), card length, bank code, card type
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def code_validity(row: dict) -> tuple[int | None, int | None]:
    """Union of the validity of every name a code had: "东郊区,[1992-]东丽区" stays valid after 1991."""
    import re
    ranges = []
    for part in row["name"].split(","):
        m = re.match(r"\[(\d{4})?-(\d{4})?\]", part)
        if m:
            ranges.append((int(m.group(1)) if m.group(1) else None, int(m.group(2)) if m.group(2) else None))
        else:
            ranges.append((row["valid_from"], row["valid_to"]))
    frm = None if any(a is None for a, _ in ranges) else min(a for a, _ in ranges)
    to = None if any(b is None for _, b in ranges) else max(b for _, b in ranges)
    return frm, to


def build(shared_data: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in open(shared_data / "ids" / "cn_regions.jsonl", encoding="utf-8")]
    with open(out / "id_regions.tsv", "w", encoding="utf-8") as fh:
        fh.write("# code\tvalid_from\tvalid_to  (source: python-stdnum loc.dat via ../shared/data/ids)\n")
        for r in sorted(rows, key=lambda r: r["text"]):
            frm, to = code_validity(r)
            fh.write(f"{r['text']}\t{frm or ''}\t{to or ''}\n")
    bins = [json.loads(line) for line in open(shared_data / "ids" / "bank_bins.jsonl", encoding="utf-8")]
    with open(out / "bank_bins.tsv", "w", encoding="utf-8") as fh:
        fh.write("# prefix\tlength\tbank_code\tcard_type  (source: hexindai/bcbc via ../shared/data/ids)\n")
        for b in sorted(bins, key=lambda b: (b["text"], b["card_length"])):
            fh.write(f"{b['text']}\t{b['card_length']}\t{b['bank_code']}\t{b['card_type']}\n")


if __name__ == "__main__":
    build(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"), Path(__file__).resolve().parent.parent / "lexicons" / "data")
