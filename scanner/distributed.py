"""Collections beyond one machine: the batch scan as tasks on a Dask cluster.

    from scanner.distributed import run_dask
    run_dask(["/archive"], "results.jsonl", address="tcp://scheduler:8786")   # an existing cluster
    run_dask(["/archive"], "results.jsonl", n_workers=2)                      # a LocalCluster

Each task is `scanner.batch.scan_paths(chunk)`, the same function the process pool runs; each
Dask worker process builds its Scanner once (scanner.get_scanner caches it per process). The
driver keeps a bounded number of tasks in flight, writes the JSONL as results arrive, resumes
like `run_batch` (path + size + mtime_ns) and writes the same summary files.

Workers read the files by path, so the paths must be visible to them (a shared file system).
Without one, pass `ship_bytes=True`: the driver reads each file and sends its bytes.

Why Dask and not Ray: `distributed` installs from PyPI next to the pinned environment without
changing any pin (pure Python plus tornado/msgpack/psutil), while Ray is a ~100 MB wheel with
its own gRPC/protobuf requirements. Every task is a plain function on a list of paths, so moving
to Ray is `ray.remote(scan_paths)`.
"""
from __future__ import annotations

import os
from pathlib import Path

from .batch import BatchSummary, Item, Run
from .batch.pool import chunks, failed_record, scan_one, scan_paths


def scan_blobs(blobs: list[tuple[Item, bytes]], light: bool = False, isolated: bool = False,
               with_segments: bool = False) -> list[dict]:
    """Task body when the driver ships file contents (no shared file system)."""
    return [scan_one(it, light=light, isolated=isolated, data=data, with_segments=with_segments) for it, data in blobs]


def _read(it: Item) -> bytes | None:
    try:
        return Path(it.path).read_bytes()
    except OSError:
        return None


def local_cluster(n_workers: int | None = None, memory_limit: str = "2GiB"):
    """A LocalCluster of single-threaded worker processes (no dashboard: nothing listens beyond
    loopback and no web assets are needed)."""
    from distributed import LocalCluster
    return LocalCluster(n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=1,
                        processes=True, dashboard_address=None, memory_limit=memory_limit,
                        host="127.0.0.1")


def run_dask(paths_or_listfile, out_jsonl: str | os.PathLike, *, client=None, address: str | None = None,
             n_workers: int | None = None, light: bool = False, isolated: bool | str = False,
             resume: bool = True, list_file: str | None = None, chunk_size: int = 16,
             ship_bytes: bool = False, progress: bool | None = None, progress_stream=None,
             write_summary: bool = True, summary_html: str | None = None,
             fail_on: str | None = None, hidden: bool = True, with_segments: bool = False, hook=None,
             exclude: tuple[str, ...] = ()) -> BatchSummary:
    from distributed import Client, as_completed

    run = Run(paths_or_listfile, out_jsonl, resume, list_file, progress, progress_stream, hidden, hook, exclude)
    todo = run.todo
    own_cluster = own_client = None
    if client is None:
        if address:
            client = own_client = Client(address)
        else:
            own_cluster = local_cluster(n_workers)
            client = own_client = Client(own_cluster)
    try:
        nworkers = max(1, len(client.scheduler_info().get("workers", {})) or (n_workers or 1))
        size = max(1, min(chunk_size, len(todo) // (nworkers * 4) or 1))
        pending = list(chunks(todo, size))
        pending.reverse()
        window = nworkers * 3

        def submit(chunk):
            if ship_bytes:
                blobs = [(it, _read(it) or b"") for it in chunk]
                fut = client.submit(scan_blobs, blobs, light, isolated, with_segments, pure=False)
            else:
                fut = client.submit(scan_paths, chunk, light, isolated, with_segments, pure=False)
            futmap[fut.key] = chunk
            return fut

        futmap: dict = {}
        ac = as_completed([submit(pending.pop()) for _ in range(min(window, len(pending)))])
        for fut in ac:
            chunk = futmap.pop(fut.key)
            try:
                recs = fut.result()
            except Exception as exc:   # a task that failed or whose worker died: fail closed
                recs = [failed_record(it, "scan.worker_crashed" if "Killed" in type(exc).__name__ else "scan.failed",
                                type(exc).__name__) for it in chunk]
            for rec in recs:
                run.emit(rec)
            fut.release()
            if pending:
                ac.add(submit(pending.pop()))
    finally:
        run.close()
        if own_client is not None:
            own_client.close()
        if own_cluster is not None:
            own_cluster.close()
    return run.finish(write_summary, summary_html=summary_html, fail_on=fail_on)
