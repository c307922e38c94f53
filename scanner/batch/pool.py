"""Scanning files on every core: the scan task (`scan_one`, `scan_paths`: also the Dask task, see
scanner.distributed) and the pool supervisor.

- A process pool (the Scanner built once in this process before the workers fork, which inherit
  it; elsewhere one per worker) scans files in small chunks, with a
  bounded number of chunks in flight.
- A worker that crashes (a parser killed by a hostile file) breaks the pool; the pool is rebuilt,
  the in-flight files are retried one by one, and a file that crashes a worker twice gets an
  error record (decision review: the scan fails closed).
- With sandboxed workers (`SandboxLimits`: network namespace, memory cap, CPU budget per file) a
  wall-clock watchdog in the parent kills a worker that hangs; its file gets extract.timeout.
"""
from __future__ import annotations

import gc
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures import TimeoutError as FutTimeout
from concurrent.futures.process import BrokenProcessPool
from collections.abc import Callable, Iterator

from .. import get_scanner
from ..config import SandboxLimits
from ..extract import errors as E
from ..extract.isolated import with_ocr
from ..extract.sandbox import (cap_worker_memory, cpu_budget, default_limits, enter_network_namespace,
                               needs_isolation, path_needs_isolation)
from ..model import Document, Report, ScanError
from .inputs import Item

_worker_opts: dict = {}


def scan_failed(detail: str = "") -> ScanError:
    return ScanError("scan.failed", "扫描过程中出错，结果不完整，需人工审查。", detail)


def worker_crashed(detail: str = "") -> ScanError:
    return ScanError("scan.worker_crashed",
                     "扫描该文件时进程异常退出（文件可能损坏、为恶意构造或超出资源限制），需人工审查。", detail)


_ERRORS = {"scan.failed": scan_failed, "scan.worker_crashed": worker_crashed}


# -- the scan task -------------------------------------------------------------------------------

def _init_worker(light: bool, isolated, limits: SandboxLimits | None = None, with_segments: bool = False,
                 names_report: str | None = None) -> None:
    """A pool worker (or this process, for an in-process run). With limits it is a sandbox
    (isolation without a new process per file): no network (own network namespace, when the
    kernel allows it), an address-space cap above what it holds after building its scanner, a
    CPU-time budget per file (SIGXCPU ends the worker); the parent adds a wall-clock watchdog.
    The file that ends a worker is found by rescanning the in-flight files one at a time."""
    _worker_opts.update(light=light, isolated=isolated, limits=limits, with_segments=with_segments,
                        names_report=names_report)
    if limits is not None:
        _worker_opts["netns"] = enter_network_namespace(limits)
    ocr = None
    try:   # build the scanner now, not inside the first task
        ocr = get_scanner(light, names_report=names_report).ocr
    except Exception:
        pass
    if limits is not None:
        # the OCR engine is built in the worker on its first picture, inside this cap: it gets the
        # address space a sandboxed child gets for OCR (with_ocr), or a worker that had read a few
        # files ran out of it inside OCR, depending on what it had read before (extract.ocr_unavailable)
        cap_worker_memory(with_ocr(limits, ocr) if ocr is not None else limits)


def _isolate(path: str, isolated, data: bytes | None = None) -> bool:
    """isolated: True/"always", False/"never"/"off", or "auto" (like `baomi scan`: plain text is
    decoded in-process, every parsed format is extracted in a limited child process)."""
    if data is not None:
        return needs_isolation(data, isolated or "off")
    return path_needs_isolation(path, isolated or "off")


def error_record(item: Item, err: ScanError) -> dict:
    return Report.could_not_scan(item.path, [err]).to_dict()


def scan_one(item: Item, light: bool = False, isolated: bool | str = False, data: bytes | None = None,
             with_segments: bool = False, names_report: str | None = None,
             on_pages: Callable[[int, int], None] | None = None) -> dict:
    """Scan one file; never raises. Returns the JSON report with a `batch` object added (and the
    segments, for writers that show the text). on_pages(done, total): OCR pages of a multi-page scan."""
    t0 = time.perf_counter()
    try:
        sc = get_scanner(light, names_report=names_report)
        iso = _isolate(item.path, isolated, data)
        if data is not None:
            rep = sc.scan_bytes(data, source=item.path, isolated=iso, progress=on_pages)
        else:
            rep = sc.scan_file(item.path, isolated=iso, progress=on_pages)
        d = rep.to_dict(with_segments=with_segments)
    except Exception as exc:   # fail closed: a scanner bug becomes a review, never a silent pass
        d = error_record(item, scan_failed(type(exc).__name__))
    d["batch"] = {"path": item.path, "size": item.size, "mtime_ns": item.mtime_ns,
                  "ms": round((time.perf_counter() - t0) * 1000, 2), "pid": os.getpid()}
    return d


def scan_paths(items: list[Item], light: bool = False, isolated: bool | str = False,
               with_segments: bool = False) -> list[dict]:
    """Scan a chunk of files in this process (the unit of work of the pool and of Dask). In a
    sandboxed worker (limits) each file gets a CPU budget and is extracted in-process. A pool
    worker's own options (_init_worker) win over the arguments."""
    light = _worker_opts.get("light", light)
    isolated = _worker_opts.get("isolated", isolated)
    limits = _worker_opts.get("limits")
    kw = {"with_segments": _worker_opts.get("with_segments", with_segments), "names_report": _worker_opts.get("names_report")}
    if limits is None:
        return scan_group(items, light=light, isolated=isolated, **kw)
    ocr = get_scanner(light, names_report=kw["names_report"]).ocr
    ocr_cpu = int(ocr.budget_s * max(1, ocr.threads)) if ocr.enabled else 0    # OCR's own budget on top
    return scan_group(items, light=light, isolated=False, limits=limits, ocr_cpu=ocr_cpu, **kw)


# documents up to this many characters are scanned together (Scanner.scan_documents: the models'
# fixed cost per call shared); a larger one is scanned alone
GROUP_MAX_CHARS = 50_000


def scan_group(items: list[Item], light: bool = False, isolated: bool | str = False, with_segments: bool = False,
               names_report: str | None = None, limits: SandboxLimits | None = None, ocr_cpu: int = 0) -> list[dict]:
    """scan_one of each item, in order, the small documents' detection run together
    (Scanner.scan_documents; the same reports). limits: a sandboxed worker's per-file CPU budget
    (each extraction gets one; the documents scanned together get one each, summed). A record's
    batch.ms: its extraction and its share of the detection."""
    try:
        sc = get_scanner(light, names_report=names_report)
    except Exception:   # every file fails closed the way scan_one records it
        return [scan_one(it, light=light, isolated=isolated, with_segments=with_segments,
                         names_report=names_report) for it in items]
    out: list[dict] = [{} for _ in items]
    small: list[tuple[int, Document, float]] = []        # (index, document, extraction ms)
    for n, it in enumerate(items):
        t0 = time.perf_counter()
        if limits is not None:
            cpu_budget(limits.cpu_s + ocr_cpu)
        try:
            doc, ms = extract_item(sc, it, isolated)
            if sum(len(seg.text) for seg in doc.segments) <= GROUP_MAX_CHARS:
                small.append((n, doc, ms))
                continue
            rep: Report | Exception = sc.scan_document(doc, extract_ms=ms)
        except Exception as exc:   # noqa: BLE001 - recorded as a failed scan (review)
            rep = exc
        out[n] = _record(rep, it, time.perf_counter() - t0, with_segments)
    if small:
        if limits is not None:
            cpu_budget(limits.cpu_s * len(small))
        t1 = time.perf_counter()
        reports: list[Report] | list[Exception]
        try:
            reports = sc.scan_documents([d for _, d, _ in small], [m for _, _, m in small])
        except Exception as exc:   # noqa: BLE001 - recorded as failed scans (review)
            reports = [exc] * len(small)
        share = (time.perf_counter() - t1) / len(small)
        for (n, _doc, ms), r in zip(small, reports):
            out[n] = _record(r, items[n], ms / 1000 + share, with_segments)
    return out


def extract_item(sc, item: Item, isolated: bool | str) -> tuple[Document, float]:
    """The document of one file (the parsing step of scan_group) and its extraction ms."""
    return sc.extract_file(item.path, isolated=_isolate(item.path, isolated))


def _record(rep: Report | Exception, item: Item, busy_s: float, with_segments: bool) -> dict:
    """The JSON record of a report (or of a scan that raised: fails closed) with its `batch` object."""
    try:
        if isinstance(rep, Exception):
            raise rep
        d = rep.to_dict(with_segments=with_segments)
    except Exception as exc:   # fail closed: a scanner bug becomes a review, never a silent pass
        d = error_record(item, scan_failed(type(exc).__name__))
    d["batch"] = {"path": item.path, "size": item.size, "mtime_ns": item.mtime_ns,
                  "ms": round(busy_s * 1000, 2), "pid": os.getpid()}
    return d


# -- running many ----------------------------------------------------------------------------------

def scan_items(todo: list[Item], emit: Callable[[dict], None], jobs: int | None = None, light: bool = False,
               isolated: bool | str = False, chunk_size: int = 8, sandbox: str = "worker",
               limits: SandboxLimits | None = None, with_segments: bool = False,
               names_report: str | None = None, on_pages: Callable[[int, int], None] | None = None) -> int:
    """Scan every item, calling `emit(record)` as results arrive (in completion order). jobs=None
    uses every core; jobs=1 without sandboxed workers scans in this process.

    isolated: False/"never", or True/"always"/"auto" (untrusted files). With sandbox="worker"
    isolation is done by the pool's worker processes themselves (limits: memory cap, CPU budget per
    file, wall-clock watchdog), ~10x faster than sandbox="child", which starts a limited child
    process per parsed file (scanner.extract.isolated, as `baomi scan FILE` does).
    Returns the number of files recorded as ending a worker."""
    jobs = max(1, jobs or os.cpu_count() or 1)
    if isolated not in (False, None, "never", "off") and sandbox == "worker":
        limits = limits or default_limits()
        isolated = False                 # extraction runs in the sandboxed worker itself
    else:
        limits = None
    if limits is None and (jobs == 1 or len(todo) <= 1):
        _init_worker(light, isolated, with_segments=with_segments, names_report=names_report)
        for it in todo:
            emit(scan_one(it, light=light, isolated=isolated, with_segments=with_segments, names_report=names_report,
                          on_pages=on_pages))
        return 0
    if not todo:
        return 0
    if _mp_context().get_start_method() == "fork":
        _prebuild(light, names_report)
    return _run_pool(todo, emit, jobs, light, isolated, chunk_size, limits, (with_segments, names_report))


def chunks(items: list[Item], size: int) -> Iterator[list[Item]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _mp_context():
    import multiprocessing as mp
    # fork starts workers fastest (the scanner modules are already imported); spawn elsewhere
    try:
        return mp.get_context("fork")
    except ValueError:
        return mp.get_context("spawn")


def _prebuild(light: bool, names_report: str | None) -> None:
    """Build the scanner (imports, rules, automata, models) once in this process before the pool
    forks: every worker, and every pool rebuilt after a crash, inherits it instead of building its
    own (~1-2 s of CPU per worker, the whole cost of a small batch), with what the detectors load
    on first use (Scanner.warm: the segmenter of the explanations, ~1 s). A failure here is left to
    the workers, whose scans then fail closed."""
    try:
        get_scanner(light, names_report=names_report).warm()
    except Exception:
        pass
    # what is built so far (rules, automata, model tables: ~170,000 tracked objects) moves to the
    # permanent generation: no worker's full collection walks it again (~0.1 s each), nor writes
    # to its pages (copy-on-write keeps them shared)
    gc.freeze()


STARTUP_S = 120.0     # allowance for a worker to start (build its scanner, load models) before the watchdog


def _kill(pool: ProcessPoolExecutor) -> None:
    for p in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            p.kill()
        except Exception:
            pass
    pool.shutdown(wait=False, cancel_futures=True)


def _run_pool(todo: list[Item], emit: Callable[[dict], None], jobs: int, light: bool, isolated, chunk_size: int,
              limits: SandboxLimits | None = None, opts: tuple = ()) -> int:
    """Pool with a bounded number of chunks in flight; survives worker crashes and (with limits)
    hangs. opts: the rest of _init_worker's arguments (with_segments, names_report). Returns the
    number of files recorded as ending a worker."""
    # small chunks keep the progress bar live and the load balanced; cap so that each worker
    # gets several chunks even for small folders
    chunk_size = max(1, min(chunk_size, len(todo) // (jobs * 4) or 1))
    pending: list[list[Item]] = list(chunks(todo, chunk_size))
    pending.reverse()                         # pop() from the end keeps the input order
    crashed = 0
    ctx = _mp_context()
    watchdog = limits.wall_s * chunk_size if limits is not None else None
    while pending:
        started = False      # until a first result arrives the workers may still be starting
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker,
                                   initargs=(light, isolated, limits, *opts))
        inflight: dict = {}
        suspects: list[list[Item]] = []
        stuck = False
        try:
            while (pending or inflight) and not suspects:
                while pending and len(inflight) < jobs * 3:
                    chunk = pending.pop()
                    try:
                        inflight[pool.submit(scan_paths, chunk, light, isolated)] = chunk
                    except BrokenProcessPool:     # a worker died since the last results: rescan below
                        suspects.append(chunk)
                        break
                if suspects:
                    break
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
                        recs = [failed_record(it, "scan.failed", type(exc).__name__) for it in chunk]
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
            crashed += _run_suspects([it for c in suspects for it in c], emit, ctx, light, isolated, limits,
                                      opts)
    return crashed


def failed_record(it: Item, code: str, detail: str) -> dict:
    """The record of a file whose scan did not come back (a crashed or stuck worker, a pool fault)."""
    err = E.timeout(detail) if code == "extract.timeout" else _ERRORS.get(code, scan_failed)(detail)
    rec = error_record(it, err)
    rec["batch"] = {"path": it.path, "size": it.size, "mtime_ns": it.mtime_ns}
    return rec


def _run_suspects(items: list[Item], emit: Callable[[dict], None], ctx, light: bool, isolated,
                   limits: SandboxLimits | None = None, opts: tuple = ()) -> int:
    crashed = 0
    pool = None
    try:
        for it in items:
            if pool is None:
                pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_init_worker,
                                           initargs=(light, isolated, limits, *opts))
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
                recs = [failed_record(it, "extract.timeout", f"no result within {limits.wall_s:g} s")]
                crashed += 1
            except BrokenProcessPool:
                pool.shutdown(wait=False, cancel_futures=True)
                pool = None
                recs = [failed_record(it, "scan.worker_crashed", "worker process died")]
                crashed += 1
            except Exception as exc:
                recs = [failed_record(it, "scan.failed", type(exc).__name__)]
            for rec in recs:
                emit(rec)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return crashed
