"""Archive review benchmark (issue 14), part of `make bench` (bench/run.py, section "archive"; alone:
`python bench/archive_bench.py [--limit N] [--jobs 2] [--files DIR]`).

`scanner.archive.run_archive` (what `baomi archive scan DIR --catalog 目录.csv -o RESULT.xlsx` runs) in
full mode (models; OCR on) on the benchmark corpus's small mixed files (bench/corpus.py files/: txt,
gb18030 txt, html, docx, pdf), every file or the first `limit` (linked into a temporary folder), with
a generated catalogue (one row per file: 档号 = the file name, 题名, 形成日期 spread over 40 years, so
the opening-age and period reasoning run), on `jobs` sandboxed workers. Reported: files per second
end to end (scan + suggestion + register), the scan alone (the batch summary), the register step,
and the resumed second run (nothing rescanned, the register rebuilt)."""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


def _subset(files_dir: Path, dest: Path, limit: int | None) -> list[Path]:
    from scanner.batch import iter_inputs
    paths = [Path(it.path) for it in iter_inputs(str(files_dir))][:limit or None]
    dest.mkdir(parents=True, exist_ok=True)
    for p in paths:
        (dest / p.name).symlink_to(p.resolve())
    return paths


def _catalog(paths: list[Path], out: Path) -> Path:
    with open(out, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["档号", "题名", "形成日期", "保管期限"])
        for i, p in enumerate(paths):
            day = dt.date(1985, 1, 1) + dt.timedelta(days=(i * 37) % (40 * 365))
            w.writerow([p.stem, f"通知{i}", day.isoformat(), "永久" if i % 3 else "30年"])
    return out


def run(files_dir: Path, jobs: int = 2, limit: int | None = None, light: bool = False, log=print) -> dict:
    from scanner.archive import run_archive
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "archive"
        paths = _subset(files_dir, src, limit)
        cat = _catalog(paths, Path(d) / "目录.csv")
        out = Path(d) / "result.xlsx"
        log(f"archive: {len(paths):,} files, {jobs} workers ({'light' if light else 'full mode, with models'})")
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        res = run_archive(src, out, catalog=cat, jobs=jobs, resume=False, light=light, progress=False)
        el = time.perf_counter() - t0
        t1 = time.perf_counter()
        again = run_archive(src, out, catalog=cat, jobs=jobs, resume=True, light=light, progress=False)
        el2 = time.perf_counter() - t1
        t = res.totals
        return {"files": len(res.rows), "jobs": jobs, "light": light, "seconds": round(el, 2),
                "files_s": round(len(res.rows) / el, 2) if el else None,
                "scan_files_s": round(res.summary.files_per_s, 2), "register_s": round(el - res.summary.elapsed_s, 2),
                "resume_s": round(el2, 2), "resume_skipped": again.summary.skipped_resume,
                "matched": t.matched, "opening_review": t.opening_review, "errors": t.errors,
                "attribute": dict(t.attribute), "access": dict(t.access), "expiry": dict(t.expiry),
                "loadavg_start": round(load0, 2), "loadavg_end": round(os.getloadavg()[0], 2),
                "xlsx_bytes": out.stat().st_size if out.exists() else None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", help="folder of files (default: bench/corpus/files, built when missing)")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--light", action="store_true")
    a = ap.parse_args(argv)
    files = Path(a.files) if a.files else HERE / "corpus" / "files"
    if not files.is_dir():
        import corpus as corpus_mod
        corpus_mod.make_files(files, corpus_mod.TextGen(corpus_mod.SEED), 10_000)
    print(json.dumps(run(files, a.jobs, a.limit, a.light, log=lambda m: print(m, file=sys.stderr)),
                     ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
