"""档案保密审查 (archive review): every item of a folder or a ZIP scanned with the batch runner (all
cores, progress, resume; or the Dask runner), each given a suggested 保密属性, 开放建议 and 保密期限
reasoning (scanner.archive.assess, figures in lexicons/archive.toml), linked to its catalogue row
(scanner.archive.catalog), and written as a register workbook (scanner.archive.register).

    from scanner.archive import run_archive
    result = run_archive("/archive.zip", "result.xlsx", catalog="目录.xlsx")

Beside RESULT.xlsx: RESULT.xlsx.jsonl (the scan reports, one per item: what resume reads; the
extracted text is reduced to the 成文日期 and the catalogue link before it is written) and, for a
ZIP, RESULT.xlsx.files/ (its items unpacked, names checked, dates kept so that resume recognises
them). The register is rebuilt from the whole JSONL each run."""
from __future__ import annotations

import datetime as dt
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..batch import BatchSummary, run_batch
from ..batch.store import iter_records
from ..config import ScanConfig
from .assess import Assessment, assess
from .catalog import Catalog, Entry
from .register import Row, Totals, write_register
from .rules import ArchiveRules, load_rules

__all__ = ["run_archive", "ArchiveResult", "Assessment", "assess", "Catalog", "load_rules", "build_rows",
           "write_register", "unpack_zip", "zip_items", "text_facts"]

VISIBLE = ("body", "table", "header", "footer", "ocr", "note")
HEAD_CHARS = 1500


@dataclass
class ArchiveResult:
    rows: list[Row]
    unmatched: list[Entry]
    totals: Totals
    summary: BatchSummary | None
    xlsx: str
    jsonl: str
    as_of: dt.date
    meta: list[tuple[str, str]] = field(default_factory=list)


def _member_name(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if not info.flag_bits & 0x800:          # no UTF-8 flag: Chinese Windows tools write GBK
        try:
            name = name.encode("cp437").decode("gb18030")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name


def zip_items(zf: zipfile.ZipFile) -> list[tuple[str, zipfile.ZipInfo]]:
    """The archive items of a ZIP (opened with scanner.extract.zipsafe.open_zip, which refused
    bombs, traversal and duplicates): (path with / separators, member), directories and macOS
    resource forks left out, in path order."""
    out = []
    for info in zf.infolist():
        if info.is_dir():
            continue
        parts = [p for p in _member_name(info).replace("\\", "/").split("/") if p not in ("", ".")]
        if not parts or ".." in parts or parts[0].startswith("__MACOSX"):
            continue
        out.append(("/".join(parts), info))
    return sorted(out, key=lambda x: x[0])


def unpack_zip(zip_path: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Unpack an archive ZIP for review (the scanner's zip pre-flight first: bombs, traversal and
    duplicate names refused); each file keeps its date from the ZIP, so a second run resumes."""
    from ..extract.zipsafe import open_zip, read_member
    dest = Path(dest)
    zf = open_zip(Path(zip_path).read_bytes())
    for name, info in zip_items(zf):
        target = dest.joinpath(*name.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime(*info.date_time).timestamp()
        if target.exists() and target.stat().st_size == info.file_size and int(target.stat().st_mtime) == int(stamp):
            continue
        target.write_bytes(read_member(zf, info))
        os.utime(target, (stamp, stamp))
    return dest


def text_facts(rules: ArchiveRules, rec: dict, catalog: Catalog | None = None) -> dict:
    """What the register needs from an item's text, kept in its record instead of the text: the
    成文日期 found (and how), and the catalogue row whose 题名 is in its first lines."""
    text = "\n".join(s.get("text", "") for s in rec.get("segments", []) if s.get("layer") in VISIBLE)
    d, how = rules.find_date(text)
    facts: dict = {"text_date": d.isoformat() if d else "", "date_source": how}
    if catalog is not None:
        path = (rec.get("batch") or {}).get("path") or rec.get("source", "")
        e, kind = catalog.match(path, text[:HEAD_CHARS])
        if e is not None and kind == "title_text":
            facts["title_row"] = e.row
    return facts


def build_rows(records, root: str, rules: ArchiveRules, as_of: dt.date,
               catalog: Catalog | None = None) -> tuple[list[Row], list[Entry]]:
    """Register rows (in path order) from scan records; catalogue rows no item linked to."""
    rows: list[Row] = []
    used: set[int] = set()
    by_row = {e.row: e for e in catalog.entries} if catalog else {}
    latest: dict[str, dict] = {}
    for rec in records:                     # a resumed run may hold a file twice: the last one counts
        latest[(rec.get("batch") or {}).get("path") or rec.get("source", "")] = rec
    for path in sorted(latest):
        rec = latest[path]
        entry, how = (None, "")
        if catalog is not None:
            entry, how = catalog.match(path)
            row = (rec.get("archive") or {}).get("title_row")
            if entry is None and row in by_row:
                entry, how = by_row[row], "title_text"
        if entry is not None:
            used.add(entry.row)
        a = assess(rules, rec, as_of, entry.date if entry else None)
        rel = os.path.relpath(path, root) if root and os.path.isabs(path) == os.path.isabs(root) else path
        rows.append(Row(rel.replace(os.sep, "/"), a, entry, how))
    unmatched = [e for e in (catalog.entries if catalog else []) if e.row not in used]
    return rows, unmatched


def run_archive(source: str | os.PathLike, out_xlsx: str | os.PathLike, *, catalog: str | os.PathLike | None = None,
                jobs: int | None = None, resume: bool = True, light: bool = False, isolated: bool | str = "auto",
                dask: str | None = None, n_workers: int | None = None, as_of: dt.date | None = None,
                progress: bool | None = None, progress_stream=None, lexicons: Path | None = None) -> ArchiveResult:
    """Scan every item of `source` (a directory or a .zip) and write the register to `out_xlsx`.
    dask: None (process pool on `jobs` cores, None = all), "local" (a LocalCluster of n_workers)
    or a scheduler address."""
    lex = Path(lexicons) if lexicons else ScanConfig.from_env(light=light or None).lexicons
    rules = load_rules(lex)
    as_of = as_of or dt.date.today()
    out = str(out_xlsx)
    jsonl = out + ".jsonl"
    src = Path(source)
    root = src
    if src.is_file() and zipfile.is_zipfile(src):
        root = unpack_zip(src, out + ".files")
    cat = Catalog.load(catalog) if catalog else None
    exclude = tuple(str(p) for p in (out, catalog) if p)

    def hook(rec: dict) -> dict:
        rec["archive"] = text_facts(rules, rec, cat)
        rec.pop("segments", None)
        return rec

    kw = dict(resume=resume, light=light, isolated=isolated, progress=progress, progress_stream=progress_stream,
              write_summary=False, hidden=False, with_segments=True, hook=hook, exclude=exclude)
    if dask:
        from ..distributed import run_dask
        summary = run_dask([str(root)], jsonl, address=None if dask == "local" else dask, n_workers=n_workers, **kw)
    else:
        summary = run_batch([str(root)], jsonl, jobs=jobs, **kw)
    rows, unmatched = build_rows(iter_records(jsonl), str(root), rules, as_of, cat)
    meta = [("审查对象", str(source)), ("目录", str(catalog or "（未提供）")), ("审查基准日", as_of.isoformat()),
            ("保密期限依据", rules.max_basis), ("未标明期限", rules.default_basis), ("开放审核", rules.opening_basis),
            ("本次扫描文件数", str(summary.scanned_now)), ("续扫跳过", str(summary.skipped_resume)),
            ("扫描速度", f"{summary.files_per_s:.2f} 文件/秒")]
    totals = write_register(out, rows, unmatched, meta)
    return ArchiveResult(rows, unmatched, totals, summary, out, jsonl, as_of, meta)
