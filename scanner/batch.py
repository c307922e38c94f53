"""Batch mode for archives (档案保密审查): scan a folder or a list of files on every core.

    from scanner.batch import run_batch
    summary = run_batch(["/archive"], "results.jsonl", jobs=None, resume=True)

- A process pool (one Scanner per worker process, built once) scans files in small chunks.
- Results are appended to a JSONL file as they arrive (one report per line, plus a "batch"
  object with the path, size and mtime), flushed per line, so an interruption loses nothing
  that was written.
- `resume=True` reads the existing JSONL and skips every file whose (path, size, mtime_ns)
  is already there; a half-written last line is cut off first.
- A progress line on stderr shows done/total, rate, ETA and decisions so far.
- At the end a summary (decisions, categories, errors, rate) is written next to the JSONL as
  `<out>.summary.txt` and `<out>.summary.html`, computed from the whole JSONL (resumed runs too).
- A worker that crashes (a parser killed by a hostile file) breaks the pool; the pool is rebuilt,
  the in-flight files are retried one by one, and a file that crashes a worker twice gets an
  error record (decision review: the scan fails closed).

The same scan function (`scan_paths`) is what the distributed runner (scanner.distributed)
sends as tasks to a Dask cluster.
"""
from __future__ import annotations

import html
import json
import os
import sys
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterable, Iterator

from .config import SandboxLimits
from .policy import exit_code
from .extract.sandbox import (cap_worker_memory, cpu_budget, default_limits, enter_network_namespace,
                              needs_isolation, path_needs_isolation)

DECISIONS = ("pass", "review", "block")


# -- inputs and keys ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    path: str
    size: int
    mtime_ns: int

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.path, self.size, self.mtime_ns)


def _stat_item(path: str) -> Item | None:
    try:
        st = os.stat(path)
    except OSError:
        return Item(path, -1, -1)       # scanned anyway: the scanner reports it as unreadable
    return Item(path, st.st_size, st.st_mtime_ns)


def iter_inputs(paths: str | os.PathLike | Iterable[str | os.PathLike], list_file: str | None = None,
                exclude: Iterable[str] = ()) -> Iterator[Item]:
    """Files to scan, in a stable order: directories are walked (sorted, symlinked dirs not
    followed), plain files taken as they are, `@name` or `list_file` reads one path per line."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    excluded = {os.path.abspath(e) for e in exclude}
    seen: set[str] = set()

    def emit(p: str) -> Iterator[Item]:
        if os.path.abspath(p) in excluded or p in seen:
            return
        seen.add(p)
        it = _stat_item(p)
        if it is not None:
            yield it

    sources: list[str] = [str(p) for p in paths]
    if list_file:
        sources.append("@" + str(list_file))
    for src in sources:
        if src.startswith("@") and not os.path.exists(src):
            with open(src[1:], encoding="utf-8") as fh:
                for line in fh:
                    line = line.rstrip("\n").rstrip("\r")
                    if line.strip() and not line.startswith("#"):
                        if os.path.isdir(line):
                            yield from iter_inputs([line], exclude=excluded)
                        else:
                            yield from emit(line)
            continue
        if os.path.isdir(src):
            for root, dirs, files in os.walk(src):
                dirs.sort()
                for name in sorted(files):
                    yield from emit(os.path.join(root, name))
        else:
            yield from emit(src)


# -- the scan function (also the distributed task) ---------------------------------------------

_worker_opts: dict = {}


def _init_worker(light: bool, isolated, limits: SandboxLimits | None = None) -> None:
    """A pool worker. With limits it is a sandbox (isolation without a new process per file): no
    network (own network namespace, when the kernel allows it), an address-space cap above what
    it holds after building its scanner, a CPU-time budget per file (SIGXCPU ends the worker);
    the parent adds a wall-clock watchdog (the worker is killed). The file that ends a worker is
    found by rescanning the in-flight files one at a time."""
    _worker_opts.update(light=light, isolated=isolated, limits=limits)
    if limits is not None:
        _worker_opts["netns"] = enter_network_namespace(limits)
    try:   # build the scanner now, not inside the first task
        from . import get_scanner
        get_scanner(light)
    except Exception:
        pass
    if limits is not None:
        cap_worker_memory(limits)


def scan_one(item: Item, light: bool = False, isolated: bool = False, data: bytes | None = None) -> dict:
    """Scan one file; never raises. Returns the JSON report with a `batch` object added."""
    from . import get_scanner
    from .model import ScanError
    t0 = time.perf_counter()
    try:
        sc = get_scanner(light)
        iso = _isolate(item.path, isolated, data)
        if data is not None:
            rep = sc.scan_bytes(data, source=item.path, isolated=iso)
        else:
            rep = sc.scan_file(item.path, isolated=iso)
        d = rep.to_dict()
    except Exception as exc:   # fail closed: a scanner bug becomes a review, never a silent pass
        err = ScanError("scan.failed", "扫描过程中出错，结果不完整，需人工审查。", type(exc).__name__)
        d = error_record(item, err)
    d["batch"] = {"path": item.path, "size": item.size, "mtime_ns": item.mtime_ns,
                  "ms": round((time.perf_counter() - t0) * 1000, 2), "pid": os.getpid()}
    return d


def _isolate(path: str, isolated, data: bytes | None = None) -> bool:
    """isolated: True/"always", False/"never"/"off", or "auto" (like `baomi scan`: plain text is
    decoded in-process, every parsed format is extracted in a limited child process)."""
    if data is not None:
        return needs_isolation(data, isolated or "off")
    return path_needs_isolation(path, isolated or "off")


def error_record(item: Item, err) -> dict:
    from .model import Report
    return Report.could_not_scan(item.path, [err]).to_dict()


def scan_paths(items: list[Item], light: bool = False, isolated: bool = False) -> list[dict]:
    """Scan a chunk of files in this process (the unit of work of the pool and of Dask). In a
    sandboxed worker (limits) each file gets a CPU budget and is extracted in-process."""
    light = _worker_opts.get("light", light)
    isolated = _worker_opts.get("isolated", isolated)
    limits = _worker_opts.get("limits")
    if limits is None:
        return [scan_one(it, light=light, isolated=isolated) for it in items]
    from . import get_scanner
    ocr = get_scanner(light).ocr
    ocr_cpu = int(ocr.budget_s * max(1, ocr.threads)) if ocr.enabled else 0    # OCR's own budget on top
    out = []
    for it in items:
        cpu_budget(limits.cpu_s + ocr_cpu)
        out.append(scan_one(it, light=light, isolated=False))
    return out


# -- output and resume -------------------------------------------------------------------------

def record_key(rec: dict) -> tuple[str, int, int] | None:
    b = rec.get("batch")
    if not isinstance(b, dict):
        return None
    try:
        return (b["path"], int(b["size"]), int(b["mtime_ns"]))
    except (KeyError, TypeError, ValueError):
        return None


def load_done(out_path: str | os.PathLike) -> set[tuple[str, int, int]]:
    """Keys already in the JSONL; cuts off a half-written last line (an interrupted write)."""
    done: set[tuple[str, int, int]] = set()
    p = Path(out_path)
    if not p.exists():
        return done
    good_end = 0
    with open(p, "rb") as fh:
        pos = 0
        for raw in fh:
            pos += len(raw)
            if not raw.endswith(b"\n"):
                break
            try:
                rec = json.loads(raw)
            except ValueError:
                break
            k = record_key(rec)
            if k is not None:
                done.add(k)
            good_end = pos
    if good_end != p.stat().st_size:
        with open(p, "r+b") as fh:
            fh.truncate(good_end)
    return done


class JsonlWriter:
    def __init__(self, path: str | os.PathLike, append: bool):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(path, "a" if append else "w", encoding="utf-8")

    def write(self, rec: dict) -> None:
        self.fh.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.fh.flush()

    def close(self) -> None:
        self.fh.close()


# -- progress ----------------------------------------------------------------------------------

class Progress:
    """One line on stderr: 已扫描 done/total, rate (files/s), ETA, decisions so far."""

    def __init__(self, total: int, enabled: bool, stream=None, interval: float = 0.25):
        self.total, self.enabled = total, enabled
        self.stream = stream or sys.stderr
        self.interval = interval
        self.done = 0
        self.decisions: Counter = Counter()
        self.t0 = time.monotonic()
        self._last = 0.0
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def update(self, rec: dict) -> None:
        self.done += 1
        self.decisions[rec.get("decision", "review")] += 1
        now = time.monotonic()
        if self.enabled and (now - self._last >= self.interval or self.done == self.total):
            self._last = now
            self.render(now)

    def line(self, now: float | None = None) -> str:
        now = now or time.monotonic()
        el = max(now - self.t0, 1e-9)
        rate = self.done / el
        left = max(self.total - self.done, 0)
        eta = left / rate if rate > 0 else float("inf")
        pct = 100.0 * self.done / self.total if self.total else 100.0
        width = 24
        fill = int(width * pct / 100)
        bar = "█" * fill + "░" * (width - fill)
        d = self.decisions
        return (f"扫描 scan {bar} {self.done}/{self.total} {pct:5.1f}% "
                f"{rate:7.1f} 文件/s files/s ETA {_hms(eta)} | "
                f"通过 pass {d['pass']} 复核 review {d['review']} 阻断 block {d['block']}")

    def render(self, now: float | None = None) -> None:
        text = self.line(now)
        if self.tty:
            self.stream.write("\r" + text + "\x1b[K")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.render()
            if self.tty:
                self.stream.write("\n")
            self.stream.flush()


def _hms(s: float) -> str:
    if s == float("inf") or s != s:
        return "--:--"
    s = int(s)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


# -- summary -----------------------------------------------------------------------------------

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
    with open(out_path, encoding="utf-8") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
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
    lines += ["", f"{'类别 category':<28}{'发现 findings':>14}{'文件 files':>12}{'pass':>8}{'review':>8}{'block':>8}"]
    for c, n in s.categories.items():
        cd = s.category_decision.get(c, {})
        lines.append(f"{c:<28}{n:>14}{s.category_files.get(c, 0):>12}"
                     f"{cd.get('pass', 0):>8}{cd.get('review', 0):>8}{cd.get('block', 0):>8}")
    if s.errors:
        lines += ["", f"{'错误 error':<36}{'文件 files':>12}"]
        for c, n in s.errors.items():
            lines.append(f"{c:<36}{n:>12}")
    return "\n".join(lines) + "\n"


def render_summary_html(s: BatchSummary) -> str:
    e = html.escape

    def table(head: list[str], rows: list[list]) -> str:
        th = "".join(f"<th>{e(h)}</th>" for h in head)
        trs = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>" for r in rows)
        return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"

    dec_rows = [[k, v] for k, v in s.decisions.items()]
    cat_rows = [[c, n, s.category_files.get(c, 0), s.category_decision.get(c, {}).get("pass", 0),
                 s.category_decision.get(c, {}).get("review", 0), s.category_decision.get(c, {}).get("block", 0)]
                for c, n in s.categories.items()]
    err_rows = [[c, n] for c, n in s.errors.items()]
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>批量扫描汇总</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:4px 10px;text-align:right}}td:first-child,th:first-child{{text-align:left}}</style>
</head><body>
<h1>批量扫描汇总</h1>
<p>结果文件：{e(s.out)}<br>文件数：{s.total_files}（本次扫描 {s.scanned_now}，续扫跳过 {s.skipped_resume}）<br>
用时：{s.elapsed_s:.1f} 秒，{s.files_per_s:.1f} 文件/秒</p>
<h2>结论</h2>{table(["结论", "文件数"], dec_rows)}
<h2>发现类别</h2>{table(["类别", "发现数", "文件数", "pass", "review", "block"], cat_rows)}
<h2>无法读取或扫描出错</h2>{table(["错误代码", "文件数"], err_rows) if err_rows else "<p>无</p>"}
</body></html>
"""


# -- the runner --------------------------------------------------------------------------------

def _chunks(items: list[Item], size: int) -> Iterator[list[Item]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _mp_context():
    import multiprocessing as mp
    # fork starts workers fastest (the scanner modules are already imported); forkserver elsewhere
    try:
        return mp.get_context("fork")
    except ValueError:
        return mp.get_context("spawn")


class Run:
    """One batch run: what is left to scan (after resume), the writer and the progress line.
    Shared by run_batch (process pool) and scanner.distributed.run_dask."""

    def __init__(self, paths_or_listfile, out_jsonl, resume: bool, list_file: str | None,
                 progress: bool | None, progress_stream=None):
        self.t0 = time.monotonic()
        self.out = out = str(out_jsonl)
        done = load_done(out) if resume else set()
        excl = [out, out + ".summary.txt", out + ".summary.html"]
        all_items = list(iter_inputs(paths_or_listfile, list_file=list_file, exclude=excl))
        self.todo = [it for it in all_items if it.key not in done]
        self.summary = BatchSummary(out=out, skipped_resume=len(all_items) - len(self.todo))
        if progress is None:
            stream = progress_stream or sys.stderr
            progress = hasattr(stream, "isatty") and stream.isatty()
        self.prog = Progress(len(self.todo), bool(progress), stream=progress_stream)
        self.writer = JsonlWriter(out, append=resume)

    def emit(self, rec: dict) -> None:
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
              fail_on: str | None = None, sandbox: str = "worker", limits: SandboxLimits | None = None) -> BatchSummary:
    """Scan every file under `paths_or_listfile` (a path, a list of paths, or "@list.txt") into
    `out_jsonl`. jobs=None uses every core; jobs=1 without isolation scans in this process.

    isolated: False/"never", or True/"always"/"auto" (untrusted files). With sandbox="worker" (the
    default) isolation is done by the pool's worker processes themselves (limits: memory cap, CPU
    budget per file, wall-clock watchdog), ~10x faster than sandbox="child", which starts a limited
    child process per parsed file (scanner.extract.isolated, as `baomi scan FILE` does).

    Returns the summary; `summary.exit_code` (also `int(summary)`) is the `baomi scan` exit code
    over every file in the JSONL, with `fail_on` as in the CLI."""
    run = Run(paths_or_listfile, out_jsonl, resume, list_file, progress, progress_stream)
    jobs = max(1, jobs or os.cpu_count() or 1)
    wants_isolation = isolated not in (False, None, "never")
    if wants_isolation and sandbox == "worker":
        limits = limits or default_limits()
        isolated = False                 # extraction runs in the sandboxed worker itself
    else:
        limits = None
    try:
        if limits is None and (jobs == 1 or len(run.todo) <= 1):
            _init_worker(light, isolated)
            for it in run.todo:
                run.emit(scan_one(it, light=light, isolated=isolated))
        elif run.todo:
            run.summary.crashed = _run_pool(run.todo, run.emit, jobs, light, isolated, chunk_size, limits)
    finally:
        run.close()
    return run.finish(write_summary, summary_html=summary_html, fail_on=fail_on)


STARTUP_S = 120.0     # allowance for a worker to start (build its scanner, load models) before the watchdog


def _kill(pool: ProcessPoolExecutor) -> None:
    for p in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            p.kill()
        except Exception:
            pass
    pool.shutdown(wait=False, cancel_futures=True)


def _run_pool(todo: list[Item], emit, jobs: int, light: bool, isolated, chunk_size: int,
              limits: SandboxLimits | None = None) -> int:
    """Pool with a bounded number of chunks in flight; survives worker crashes and (with limits)
    hangs. Returns the number of files recorded as ending a worker."""
    # small chunks keep the progress bar live and the load balanced; cap so that each worker
    # gets several chunks even for small folders
    chunk_size = max(1, min(chunk_size, len(todo) // (jobs * 4) or 1))
    pending: list[list[Item]] = list(_chunks(todo, chunk_size))
    pending.reverse()                         # pop() from the end keeps the input order
    crashed = 0
    ctx = _mp_context()
    watchdog = limits.wall_s * chunk_size if limits is not None else None
    while pending:
        started = False      # until a first result arrives the workers may still be starting
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker,
                                   initargs=(light, isolated, limits))
        inflight: dict = {}
        suspects: list[list[Item]] = []
        stuck = False
        try:
            while (pending or inflight) and not suspects:
                while pending and len(inflight) < jobs * 3:
                    chunk = pending.pop()
                    inflight[pool.submit(scan_paths, chunk, light, isolated)] = chunk
                finished, _ = wait(list(inflight), return_when=FIRST_COMPLETED,
                                   timeout=None if watchdog is None else watchdog + (0 if started else STARTUP_S))
                started = started or bool(finished)
                if not finished:          # nothing came back for wall_s per file: a worker hangs
                    stuck = True
                    suspects.extend(inflight.values())
                    inflight.clear()
                    break
                for fut in finished:
                    chunk = inflight.pop(fut)
                    try:
                        recs = fut.result()
                    except BrokenProcessPool:
                        suspects.append(chunk)
                        continue
                    except Exception as exc:   # pickling or another pool error: fail closed
                        recs = [_failed(it, "scan.failed", type(exc).__name__) for it in chunk]
                    for rec in recs:
                        emit(rec)
        finally:
            if stuck:
                _kill(pool)
            else:
                pool.shutdown(wait=not suspects, cancel_futures=True)
        if suspects:
            # everything in flight when the pool broke is suspect: rescan it one file at a time
            # in a one-worker pool, so that the file that ends a worker is known exactly
            suspects.extend(inflight.values())
            crashed += _run_suspects([it for c in suspects for it in c], emit, ctx, light, isolated, limits)
    return crashed


def _failed(it: Item, code: str, detail: str) -> dict:
    from .extract import errors as E
    from .model import ScanError
    if code == "extract.timeout":
        err = E.timeout(detail)
    else:
        msg = {"scan.worker_crashed": "扫描该文件时进程异常退出（文件可能损坏、为恶意构造或超出资源限制），需人工审查。"}.get(
            code, "扫描过程中出错，结果不完整，需人工审查。")
        err = ScanError(code, msg, detail)
    rec = error_record(it, err)
    rec["batch"] = {"path": it.path, "size": it.size, "mtime_ns": it.mtime_ns}
    return rec


def _run_suspects(items: list[Item], emit, ctx, light: bool, isolated, limits: SandboxLimits | None = None) -> int:
    from concurrent.futures import TimeoutError as FutTimeout
    crashed = 0
    pool = None
    try:
        for it in items:
            if pool is None:
                pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_init_worker,
                                           initargs=(light, isolated, limits))
                try:     # start the worker (scanner build) outside the file's time limit
                    pool.submit(os.getpid).result(timeout=STARTUP_S)
                except Exception:
                    pass
            try:
                recs = pool.submit(scan_paths, [it], light, isolated).result(
                    timeout=limits.wall_s if limits is not None else None)
            except FutTimeout:
                _kill(pool)
                pool = None
                recs = [_failed(it, "extract.timeout", f"no result within {limits.wall_s:g} s")]
                crashed += 1
            except BrokenProcessPool:
                pool.shutdown(wait=False, cancel_futures=True)
                pool = None
                recs = [_failed(it, "scan.worker_crashed", "worker process died")]
                crashed += 1
            except Exception as exc:
                recs = [_failed(it, "scan.failed", type(exc).__name__)]
            for rec in recs:
                emit(rec)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return crashed


def main(argv: list[str] | None = None) -> int:
    import argparse
    ap = argparse.ArgumentParser(prog="python -m scanner.batch", description="批量扫描（多进程，可续扫）")
    ap.add_argument("paths", nargs="+", help="files, folders, or @list.txt (one path per line)")
    ap.add_argument("--out", required=True, help="results JSONL (appended on --resume)")
    ap.add_argument("--jobs", type=int, default=None, help="worker processes (default: every core)")
    ap.add_argument("--no-resume", action="store_true", help="start over instead of skipping finished files")
    ap.add_argument("--light", action="store_true", help="rules only, no models")
    ap.add_argument("--isolated", action="store_true",
                    help="untrusted files: sandboxed workers (memory cap, CPU budget per file, watchdog)")
    ap.add_argument("--sandbox", choices=["worker", "child"], default="worker",
                    help="with --isolated: limits on the worker processes, or a child process per file")
    args = ap.parse_args(argv)
    s = run_batch(args.paths, args.out, jobs=args.jobs, resume=not args.no_resume, light=args.light,
                  isolated=args.isolated, sandbox=args.sandbox, progress=True)
    sys.stderr.write(render_summary_text(s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
