"""Load and crash test against a real `baomi serve` on loopback (bounded in clients and time).

    .venv/bin/python bench/loadtest.py --clients 50 --duration 60 --kill-at 30

N concurrent clients (closed loop) send a mix of synchronous 5,000-character scans (POST
/api/v1/scan) and submissions of a 5,000-character file (POST /api/v1/submissions, a job).
At --kill-at seconds the server gets `kill -9` and is restarted at once; clients keep going.
At the end: every acknowledged (202) submission must exist and its job must complete.
Prints status counts, p50/p99 per kind, 5xx count, and the crash check. Exit 1 on any 5xx,
a lost acknowledged submission or a job that does not complete.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))       # the real-server helper the process tests use
sys.path.insert(0, str(ROOT / "bench"))       # corpus.TextGen for --texts news
from support.server import Server  # noqa: E402

PARA = ("关于进一步做好年度重点工作的通知。各单位要按照统一部署，认真组织实施，确保各项任务按期完成。"
        "会议强调，要坚持问题导向，加强统筹协调，推动工作落实。联系人王某，办公电话010-66668888。")


def make_text(i: int, n: int = 5000) -> str:
    rnd = random.Random(i)
    parts, size = [], 0
    while size < n:
        p = PARA if rnd.random() > 0.1 else f"编号{rnd.randint(100000, 999999)}的材料请于本周内报送。"
        parts.append(p)
        size += len(p)
    text = "".join(parts)[:n]
    if i % 17 == 0:
        text = "秘密★5年\n" + text[10:]
    return text


_NEWS: list = []


def make_news_text(i: int, n: int = 5000) -> str:
    """A distinct 5,000-character draft of public news sentences (bench/corpus.py's TextGen, seeded
    by i: paragraph lines, a planted ID/phone/bank card/e-mail/IP/term every ~2,000 characters),
    the 秘密★ mark on every 17th like make_text: what `--texts news` sends (closer to a real
    draft than make_text's one notice paragraph repeated, with ~50 findings in 5,000 characters)."""
    from corpus import TextGen
    if not _NEWS:
        _NEWS.append(TextGen(0).sents)
    gen = TextGen.__new__(TextGen)
    gen.rng, gen.sents = random.Random(i), _NEWS[0]
    text, _ = gen.text(n)
    if i % 17 == 0:
        text = "秘密★5年\n" + text[10:]
    return text


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(q * len(xs))) - 1))]


class Conn:
    """One keep-alive HTTP/1.1 connection over raw asyncio streams: the load generator runs on the
    same cores as the server, so it must cost little (httpx's AsyncClient cost ~10 ms of CPU per
    request here, about a third of the server's own). Enough HTTP for this server: Content-Length
    or chunked answers, `Connection: close` honoured, reconnect on the next request."""

    def __init__(self, host: str, port: int, headers: dict[str, str]):
        self.host, self.port = host, port
        self.head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": f"{host}:{port}", **headers}.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes, ctype: str) -> tuple[int, dict, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        try:
            self.writer.write(f"{method} {path} HTTP/1.1\r\n{self.head}Content-Type: {ctype}\r\n"
                              f"Content-Length: {len(body)}\r\n\r\n".encode("latin-1") + body)
            lines = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            headers = {}
            for line in lines[1:]:
                if line:
                    k, _, v = line.partition(":")
                    headers[k.strip().lower()] = v.strip()
            if headers.get("transfer-encoding", "").lower() == "chunked":
                parts = []
                while True:
                    n = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    parts.append(await self.reader.readexactly(n + 2))
                    if n == 0:
                        break
                data = b"".join(p[:-2] for p in parts)
            else:
                data = await self.reader.readexactly(int(headers.get("content-length", "0")))
        except BaseException:
            self.close()
            raise
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def multipart(fields: dict[str, str], name: str, filename: str, data: bytes, ctype: str) -> tuple[bytes, str]:
    boundary = f"baomi{random.getrandbits(64):016x}"
    out = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
           for k, v in fields.items()]
    out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
               f"Content-Type: {ctype}\r\n\r\n".encode() + data + f"\r\n--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


async def client_loop(cid: int, srv: Server, headers: dict[str, str], deadline: float, ratio: float, out: dict):
    rnd = random.Random(cid)
    c = Conn("127.0.0.1", srv.port, headers)
    i = 0
    try:
        while time.monotonic() < deadline:
            i += 1
            kind = "upload" if rnd.random() < ratio else "scan"
            text = out["make"](cid * 100000 + i)
            if kind == "scan":
                path, ctype = "/api/v1/scan", "application/json"
                body = json.dumps({"text": text}, ensure_ascii=False).encode("utf-8")
            else:
                path = "/api/v1/submissions"
                body, ctype = multipart({"title": f"负载测试 {cid}-{i}", "channel": "门户网站"}, "file",
                                        f"draft-{cid}-{i}.txt", text.encode("utf-8"), "text/plain")
            t0 = time.perf_counter()
            try:
                status, rh, data = await asyncio.wait_for(c.request("POST", path, body, ctype), 120.0)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as exc:
                out["conn_errors"] += 1
                out["conn_error_types"][type(exc).__name__] = out["conn_error_types"].get(type(exc).__name__, 0) + 1
                await asyncio.sleep(1.0)     # server down (the kill): back off, don't storm the restart
                continue
            dt = time.perf_counter() - t0
            key = f"{kind}:{status}"
            out["status"][key] = out["status"].get(key, 0) + 1
            if status < 400:
                out["lat"][kind].append(dt)
            if kind == "upload" and status == 202:
                out["acked"].append(json.loads(data)["id"])
            if status in (429, 503):
                await asyncio.sleep(float(rh.get("retry-after", "1")) / 10)
    finally:
        c.close()


def _proc_stats() -> dict[int, tuple[int, float]]:
    """pid -> (ppid, CPU seconds user + system) of every process, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                f = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(d)] = (int(f[1]), (int(f[11]) + int(f[12])) / tick)     # ppid, utime + stime
    return stats


def tree_cpu_s(pid: int, stats: dict[int, tuple[int, float]] | None = None) -> float:
    """CPU seconds (user + system) of a process and every live descendant, from /proc."""
    stats = stats if stats is not None else _proc_stats()
    todo, total = [pid], 0.0
    while todo:
        p = todo.pop()
        total += stats.get(p, (0, 0.0))[1]
        todo.extend(c for c, (pp, _) in stats.items() if pp == p)
    return total


def worker_cpu_s(pid: int) -> dict[int, float]:
    """CPU seconds of each child tree of the server (its HTTP worker processes), by pid."""
    stats = _proc_stats()
    return {c: tree_cpu_s(c, stats) for c, (pp, _) in stats.items() if pp == pid}


def connections_per_process(pid: int, port: int) -> list[int]:
    """Established connections to `port` held by each child of the server (its HTTP processes),
    from /proc/net/tcp and each process's descriptors; largest first."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            f = row.split()
            if f[3] == "01" and int(f[1].rsplit(":", 1)[1], 16) == port:     # ESTABLISHED, local port
                inodes.add(f[9])
    counts = []
    for c, (pp, _) in _proc_stats().items():
        if pp != pid:
            continue
        n = 0
        try:
            for fd in os.listdir(f"/proc/{c}/fd"):
                try:
                    link = os.readlink(f"/proc/{c}/fd/{fd}")
                except OSError:
                    continue
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    n += 1
        except OSError:
            continue
        if n:
            counts.append(n)
    return sorted(counts, reverse=True)


def wait_started(pid: int, bound_s: float = 120.0) -> float:
    """Wait until every server process has finished starting (the whole tree's CPU idle for
    0.5 s): /healthz answers once the first HTTP process is up, and keep-alive clients that
    connect before the others listen all stay on that one. -> seconds waited."""
    t0 = time.monotonic()
    last = tree_cpu_s(pid)
    while time.monotonic() - t0 < bound_s:
        time.sleep(0.5)
        now = tree_cpu_s(pid)
        if now - last < 0.03:
            break
        last = now
    return time.monotonic() - t0


def run(args) -> int:
    base = Path(args.data_dir or tempfile.mkdtemp(prefix="baomi-load-"))
    env = dict(baomi_workers=str(args.workers), baomi_http_workers=str(args.http_workers), baomi_queue_max="100000",
               baomi_queue_max_per_principal="100000", baomi_light_scanner="1" if args.light else "0")
    srv = Server(base / "data", db_url=args.db_url, **env).start()
    print(f"server {srv.url}  data {base}  started after {wait_started(srv.proc.pid):.1f}s more", flush=True)
    login = srv.login("author")
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in login.cookies.items()),
               "X-CSRF-Token": login.headers["X-CSRF-Token"]}
    out = {"make": make_news_text if args.texts == "news" else make_text,
           "status": {}, "lat": {"scan": [], "upload": []}, "acked": [], "conn_errors": 0, "conn_error_types": {}}
    killed = {"at": None, "restart_s": None}

    async def killer(t_start):
        if args.kill_at <= 0:
            return
        await asyncio.sleep(args.kill_at)
        killed["at"] = time.monotonic() - t_start
        srv.kill9()
        t0 = time.monotonic()
        await asyncio.to_thread(srv.start)
        await asyncio.to_thread(wait_started, srv.proc.pid)
        killed["restart_s"] = time.monotonic() - t0
        print(f"kill -9 at {killed['at']:.1f}s, restarted in {killed['restart_s']:.1f}s", flush=True)

    conns: list[list[int]] = []

    async def census():
        # where the clients' keep-alive connections are, halfway (kept while the server runs)
        await asyncio.sleep(args.duration / 2)
        if args.kill_at <= 0:
            conns.append(await asyncio.to_thread(connections_per_process, srv.proc.pid, srv.port))

    async def main():
        t_start = time.monotonic()
        deadline = t_start + args.duration
        await asyncio.gather(killer(t_start), census(), *[client_loop(i, srv, headers, deadline, args.upload_ratio, out)
                                                for i in range(args.clients)])
    t0 = time.time()
    cpu0, workers0 = tree_cpu_s(srv.proc.pid), worker_cpu_s(srv.proc.pid)
    client0 = resource.getrusage(resource.RUSAGE_SELF)
    asyncio.run(main())
    client1 = resource.getrusage(resource.RUSAGE_SELF)
    elapsed = time.time() - t0
    server_cpu = tree_cpu_s(srv.proc.pid) - cpu0 if args.kill_at <= 0 else None   # a restart resets it
    workers1 = worker_cpu_s(srv.proc.pid)
    # how evenly the HTTP processes shared the work (keep-alive clients stay where they were accepted)
    shares = sorted((workers1[w] - workers0[w] for w in workers1 if w in workers0), reverse=True)
    client_cpu = client1.ru_utime + client1.ru_stime - client0.ru_utime - client0.ru_stime
    # crash check: every acknowledged submission exists and its job completes
    staff = srv.login("reviewer")
    missing, t_drain = [], time.time()
    pending = set(out["acked"])
    states: dict[str, str] = {}
    while pending and time.time() - t_drain < args.drain_timeout:
        for sid in list(pending):
            r = staff.get(f"/api/v1/submissions/{sid}")
            if r.status_code == 404:
                missing.append(sid)
                pending.discard(sid)
                continue
            job = r.json()["versions"][-1]["job"]
            if job and job["status"] in ("done", "failed"):
                states[job["status"]] = states.get(job["status"], 0) + 1
                pending.discard(sid)
        if pending:
            time.sleep(1.0)
    drain_s = time.time() - t_drain
    total_ok = sum(len(v) for v in out["lat"].values())
    five = sum(v for k, v in out["status"].items() if k.split(":")[1].startswith("5"))
    summary = {
        "clients": args.clients, "texts": args.texts, "http_workers": args.http_workers or os.cpu_count(), "duration_s": round(elapsed, 1), "db": "postgresql" if args.db_url else "sqlite",
        "requests_ok": total_ok, "throughput_rps": round(total_ok / elapsed, 1), "status": out["status"],
        # the server's CPU per answered request (no kill): what sets the closed-loop latency,
        # whatever else the machine runs; 2 free cores serve at most 2000 / this requests per second
        "server_cpu_ms_per_request": round(server_cpu / total_ok * 1000, 1) if server_cpu and total_ok else None,
        # the load generator's own CPU (it runs on the same cores): ~1 ms per request with raw streams
        "client_cpu_ms_per_request": round(client_cpu / total_ok * 1000, 1) if total_ok else None,
        "server_process_cpu_shares": [round(x / sum(shares), 2) for x in shares] if args.kill_at <= 0 and sum(shares) else None,
        "connections_per_process": conns[0] if conns else None,
        "http_5xx": five, "connection_errors_during_restart": out["conn_errors"], "conn_error_types": out["conn_error_types"],
        "scan_p50_ms": round(pct(out["lat"]["scan"], 0.5) * 1000, 1), "scan_p95_ms": round(pct(out["lat"]["scan"], 0.95) * 1000, 1),
        "scan_p99_ms": round(pct(out["lat"]["scan"], 0.99) * 1000, 1),
        "upload_p50_ms": round(pct(out["lat"]["upload"], 0.5) * 1000, 1), "upload_p99_ms": round(pct(out["lat"]["upload"], 0.99) * 1000, 1),
        "killed_at_s": killed["at"] and round(killed["at"], 1), "restart_s": killed["restart_s"] and round(killed["restart_s"], 1),
        "acknowledged_submissions": len(out["acked"]), "missing_after_restart": len(missing),
        "jobs_not_completed": len(pending), "job_states": states, "drain_s": round(drain_s, 1),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    srv.stop()
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    ok = five == 0 and not missing and not pending
    print("RESULT:", "OK" if ok else "FAIL")
    return 0 if ok else 1


def gate_bench(args) -> int:
    """One CMS client, sequential: a fresh 5,000-character text, then the same text again
    (answered from the content-hash cache)."""
    base = Path(args.data_dir or tempfile.mkdtemp(prefix="baomi-gate-"))
    srv = Server(base / "data", db_url=args.db_url, baomi_workers="1",
                 baomi_light_scanner="1" if args.light else "0").start()
    try:
        c = httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.accounts()['cms']}"}, timeout=60)
        fresh, cached = [], []
        for i in range(args.gate_bench):
            text = make_text(900000 + i)
            t0 = time.perf_counter()
            r = c.post("/api/v1/gate", json={"text": text})
            fresh.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            r2 = c.post("/api/v1/gate", json={"text": text})
            cached.append(time.perf_counter() - t0)
            assert r.status_code == r2.status_code == 200 and r2.json()["cached"]
    finally:
        srv.stop()
    print(json.dumps({"gate_requests": args.gate_bench,
                      "fresh_p50_ms": round(pct(fresh, 0.5) * 1000), "fresh_p95_ms": round(pct(fresh, 0.95) * 1000),
                      "cached_p50_ms": round(pct(cached, 0.5) * 1000), "cached_p95_ms": round(pct(cached, 0.95) * 1000),
                      "load_average": [round(x, 2) for x in os.getloadavg()]}))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--kill-at", type=float, default=30.0, help="seconds; 0 = no kill")
    ap.add_argument("--upload-ratio", type=float, default=0.2)
    ap.add_argument("--workers", type=int, default=2, help="job threads per server process")
    ap.add_argument("--http-workers", type=int, default=0, help="server processes (0 = the server's default: one per core)")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--db-url", default="", help="postgresql://... (default: SQLite in the data dir)")
    ap.add_argument("--drain-timeout", type=float, default=600.0)
    ap.add_argument("--light", action="store_true", help="rules-only scanner")
    ap.add_argument("--texts", choices=("notice", "news"), default="notice",
                    help="notice: one notice paragraph repeated with varying numbers (~50 findings a text); "
                         "news: distinct drafts of news sentences with a few planted findings (make_news_text)")
    ap.add_argument("--json-out", default="", help="also write the summary JSON here (bench/run.py)")
    ap.add_argument("--gate-bench", type=int, default=0, metavar="N",
                    help="instead: N sequential gate calls from one CMS client (fresh and cached)")
    args = ap.parse_args(argv)
    if args.gate_bench:
        return gate_bench(args)
    if args.clients > 200 or args.duration > 600:
        ap.error("bounded: at most 200 clients and 600 s")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
