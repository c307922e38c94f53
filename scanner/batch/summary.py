"""The summary of a batch run, computed from the whole JSONL (resumed runs included): decisions,
categories (findings, files, files per decision), error codes, rate; the `baomi scan` exit code
over every file (policy.exit_code); written as text and as an HTML page (report.html's page)."""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from html import escape

from ..policy import exit_code
from ..report.html import page, table
from ..taxonomy import DECISIONS, TAXONOMY, Taxonomy, decision_zh
from .store import iter_records


@dataclass
class BatchSummary:
    out: str
    total_files: int = 0          # files in the JSONL (all runs)
    scanned_now: int = 0          # files scanned by this run
    skipped_resume: int = 0       # files skipped because already in the JSONL
    elapsed_s: float = 0.0
    files_per_s: float = 0.0
    bytes_scanned: int = 0
    decisions: dict = field(default_factory=dict)
    categories: dict = field(default_factory=dict)        # category -> findings
    category_files: dict = field(default_factory=dict)    # category -> files with it
    category_decision: dict = field(default_factory=dict)  # category -> {decision: files}
    errors: dict = field(default_factory=dict)            # error code -> files
    crashed: int = 0
    summary_txt: str = ""
    summary_html: str = ""
    exit_code: int = 0            # as `baomi scan` (0 pass, 1 review, 2 block, 3 could not scan), all files

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def __int__(self) -> int:     # so that a CLI handler may `return run_batch(...)`
        return self.exit_code

    def compute_exit_code(self, fail_on: str | None) -> int:
        return exit_code([d for d, n in self.decisions.items() if n], sum(self.errors.values()), fail_on)


def summarize(out_path: str | os.PathLike, summary: BatchSummary | None = None) -> BatchSummary:
    s = summary or BatchSummary(out=str(out_path))
    dec: Counter = Counter()
    cats: Counter = Counter()
    cat_files: Counter = Counter()
    cat_dec: dict[str, Counter] = {}
    errs: Counter = Counter()
    n = 0
    for rec in iter_records(out_path):
        n += 1
        d = rec.get("decision", "review")
        dec[d] += 1
        seen = set()
        for f in rec.get("findings", []):
            c = f.get("category", "?")
            cats[c] += 1
            seen.add(c)
        for c in seen:
            cat_files[c] += 1
            cat_dec.setdefault(c, Counter())[d] += 1
        for e in {e.get("code", "?") for e in rec.get("errors", [])}:
            errs[e] += 1
    s.total_files = n
    s.decisions = {k: dec.get(k, 0) for k in DECISIONS} | {k: v for k, v in dec.items() if k not in DECISIONS}
    s.categories = dict(sorted(cats.items()))
    s.category_files = dict(sorted(cat_files.items()))
    s.category_decision = {c: dict(v) for c, v in sorted(cat_dec.items())}
    s.errors = dict(sorted(errs.items()))
    return s


def render_summary_text(s: BatchSummary) -> str:
    lines = [f"批量扫描汇总 Batch summary — {s.out}",
             f"文件 files: {s.total_files} (本次扫描 scanned now {s.scanned_now}, "
             f"续扫跳过 skipped on resume {s.skipped_resume})",
             f"用时 elapsed: {s.elapsed_s:.1f} s, {s.files_per_s:.1f} 文件/s files/s", "",
             f"{'结论 decision':<16}{'文件 files':>12}"]
    for k, v in s.decisions.items():
        lines.append(f"{k:<16}{v:>12}")
    lines += ["", f"{'类别 category':<28}{'发现 findings':>14}{'文件 files':>12}"
              + "".join(f"{d:>8}" for d in DECISIONS)]
    for c, n in s.categories.items():
        cd = s.category_decision.get(c, {})
        lines.append(f"{c:<28}{n:>14}{s.category_files.get(c, 0):>12}" + "".join(f"{cd.get(d, 0):>8}" for d in DECISIONS))
    if s.errors:
        lines += ["", f"{'错误 error':<36}{'文件 files':>12}"]
        for c, n in s.errors.items():
            lines.append(f"{c:<36}{n:>12}")
    return "\n".join(lines) + "\n"


def render_summary_html(s: BatchSummary, taxonomy: Taxonomy | None = None) -> str:
    tax = taxonomy or TAXONOMY
    dec_rows = [[decision_zh(k), v] for k, v in s.decisions.items()]
    cat_rows = [[tax.category_zh(c), c, n, s.category_files.get(c, 0),
                 *(s.category_decision.get(c, {}).get(d, 0) for d in DECISIONS)]
                for c, n in s.categories.items()]
    err_rows = [[c, n] for c, n in s.errors.items()]
    body = (f"<p>结果文件：{escape(s.out)}<br>文件数：{s.total_files}（本次扫描 {s.scanned_now}，续扫跳过 {s.skipped_resume}）<br>"
            f"用时：{s.elapsed_s:.1f} 秒，{s.files_per_s:.1f} 文件/秒</p>"
            f"<h2>结论</h2>{table(['结论', '文件数'], dec_rows)}"
            f"<h2>发现类别</h2>{table(['类别', '代码', '发现数', '文件数', *map(decision_zh, DECISIONS)], cat_rows)}"
            f"<h2>无法读取或扫描出错</h2>{table(['错误代码', '文件数'], err_rows) if err_rows else '<p>无</p>'}")
    return page("批量扫描汇总", body, tax)
