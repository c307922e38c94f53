"""Batch mode for archives (档案保密审查): scan a folder or a list of files on every core into a
JSONL results file that survives interruptions.

    from scanner.batch import run_batch
    summary = run_batch(["/archive"], "results.jsonl", jobs=None, resume=True)

- inputs.py: the one path walker (files, directories, `@list.txt`) and the Item resume key;
- pool.py: the scan task (also the Dask task, scanner.distributed) and the crash-surviving pool;
- store.py: the JSONL results file (appended, flushed per line), resume keys, repair of a
  half-written last line;
- progress.py: the progress line on stderr (done/total, rate, ETA, decisions so far);
- summary.py: the summary over the whole JSONL (resumed runs too), written next to it as
  `<out>.summary.txt` and `<out>.summary.html`, with the `baomi scan` exit code.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from ..config import SandboxLimits
from .inputs import Item, iter_inputs
from .pool import scan_items, scan_one, scan_paths
from .progress import Progress
from .store import JsonlWriter, load_done
from .summary import BatchSummary, render_summary_html, render_summary_text, summarize

__all__ = ["run_batch", "Run", "Item", "iter_inputs", "load_done", "scan_one", "scan_paths", "scan_items",
           "BatchSummary", "summarize", "render_summary_text", "render_summary_html", "Progress"]


class Run:
    """One batch run: what is left to scan (after resume), the writer and the progress line.
    Shared by run_batch (process pool), the CLI and scanner.distributed.run_dask."""

    def __init__(self, paths_or_listfile, out_jsonl, resume: bool, list_file: str | None,
                 progress: bool | None, progress_stream=None, hidden: bool = True, hook=None,
                 exclude: tuple[str, ...] = ()):
        self.t0 = time.monotonic()
        self.out = out = str(out_jsonl)
        done = load_done(out) if resume else set()
        excl = [out, out + ".summary.txt", out + ".summary.html", *exclude]
        all_items = list(iter_inputs(paths_or_listfile, list_file=list_file, exclude=excl, hidden=hidden))
        self.todo = [it for it in all_items if it.key not in done]
        self.summary = BatchSummary(out=out, skipped_resume=len(all_items) - len(self.todo))
        if progress is None:
            stream = progress_stream or sys.stderr
            progress = hasattr(stream, "isatty") and stream.isatty()
        self.prog = Progress(len(self.todo), bool(progress), stream=progress_stream)
        self.writer = JsonlWriter(out, append=resume)
        self.hook = hook       # record -> record, in this process before it is written (scanner.archive)

    def emit(self, rec: dict) -> None:
        if self.hook is not None:
            rec = self.hook(rec)
        self.writer.write(rec)
        self.prog.update(rec)

    def close(self) -> None:
        self.writer.close()
        self.prog.close()

    def finish(self, write_summary: bool = True, summary_html: str | None = None,
               fail_on: str | None = None) -> BatchSummary:
        s = self.summary
        s.scanned_now = self.prog.done
        s.bytes_scanned = sum(max(it.size, 0) for it in self.todo)
        s.elapsed_s = time.monotonic() - self.t0
        s.files_per_s = s.scanned_now / s.elapsed_s if s.elapsed_s > 0 else 0.0
        summarize(self.out, s)
        s.exit_code = s.compute_exit_code(fail_on)
        if write_summary:
            s.summary_txt = self.out + ".summary.txt"
            s.summary_html = summary_html or (self.out + ".summary.html")
            Path(s.summary_txt).write_text(render_summary_text(s), encoding="utf-8")
            Path(s.summary_html).write_text(render_summary_html(s), encoding="utf-8")
        return s


def run_batch(paths_or_listfile, out_jsonl: str | os.PathLike, jobs: int | None = None,
              resume: bool = True, light: bool = False, isolated: bool | str = False,
              list_file: str | None = None, progress: bool | None = None, chunk_size: int = 8,
              write_summary: bool = True, progress_stream=None, summary_html: str | None = None,
              fail_on: str | None = None, sandbox: str = "worker", limits: SandboxLimits | None = None,
              hidden: bool = True, names_report: str | None = None, with_segments: bool = False,
              hook=None, exclude: tuple[str, ...] = ()) -> BatchSummary:
    """Scan every file under `paths_or_listfile` (a path, a list of paths, or "@list.txt") into
    `out_jsonl`; jobs, isolated, sandbox and limits as in `pool.scan_items`. hidden=False skips
    dot-files met while walking directories (as `baomi scan` does); names_report as get_scanner's.
    with_segments: records carry the extracted text (for `hook`, which may reduce it: it runs in this
    process on each record before it is written); exclude: paths not to scan.

    Returns the summary; `summary.exit_code` (also `int(summary)`) is the `baomi scan` exit code
    over every file in the JSONL, with `fail_on` as in the CLI."""
    run = Run(paths_or_listfile, out_jsonl, resume, list_file, progress, progress_stream, hidden, hook, exclude)
    try:
        run.summary.crashed = scan_items(run.todo, run.emit, jobs=jobs, light=light, isolated=isolated,
                                         chunk_size=chunk_size, sandbox=sandbox, limits=limits,
                                         names_report=names_report, with_segments=with_segments,
                                         on_pages=run.prog.pages)
    finally:
        run.close()
    return run.finish(write_summary, summary_html=summary_html, fail_on=fail_on)
