"""The site inspection run: crawl politely within scope, then scan every fetched page and
attachment in the sandboxed batch pool, and compare with a previous run.

    result = inspect("https://www.example.gov.cn/", CrawlOptions(max_pages=100), since=load_run("last.run.json"))

Crawl: one request at a time with `delay_s` between requests (or robots.txt's Crawl-delay, capped),
robots.txt honoured per host unless `ignore_robots`, breadth first to `max_depth` (attachments and
pictures of a crawled page are inspected whatever their depth), bounded by `max_pages` fetched
resources, `max_bytes` per resource, `max_total_bytes`, `max_time_s` and `max_redirects`; never off
the scope's hosts (fetch.Scope). What was fetched goes to a private temporary directory.

Scan: the fetched files go through scanner.batch.pool.scan_items with sandboxed workers (network
namespace, memory cap, CPU budget, watchdog; every parsed format, OCR for pictures): a hostile
attachment ends a worker, never the run, and gets an error record (fail closed: review).

Since: a resource whose URL and content hash equal the previous run's is "unchanged" and is not
scanned again; the result keeps only new and changed resources, and lists what the previous run
had and this one did not reach."""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import time
import urllib.robotparser
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.client import HTTPException
from urllib.parse import urlsplit

from . import links as L
from .fetch import Fetcher, Limits, Refused, Scope, normalise

# kinds of resource
PAGE, ATTACHMENT, IMAGE = "page", "attachment", "image"
KIND_ZH = {PAGE: "网页", ATTACHMENT: "附件", IMAGE: "图片"}

DOC_EXT = {"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "wps", "et", "dps", "ofd", "rtf", "txt", "csv",
           "zip", "odt", "ods", "odp"}
IMG_EXT = {"png", "jpg", "jpeg", "gif", "bmp", "tif", "tiff", "webp"}
SKIP_EXT = {"css", "js", "mjs", "map", "mp3", "mp4", "avi", "mov", "wmv", "flv", "m4a", "wav", "ogg", "webm", "woff",
            "woff2", "ttf", "otf", "eot", "ico", "svg", "exe", "msi", "apk", "dmg", "iso", "bin", "jar", "rar", "7z",
            "gz", "tgz", "bz2", "xz", "swf"}
HTML_TYPES = {"text/html", "application/xhtml+xml"}
EXT_BY_TYPE = {"text/html": "html", "application/xhtml+xml": "html", "application/pdf": "pdf", "text/plain": "txt",
               "application/msword": "doc", "application/vnd.ms-excel": "xls", "application/zip": "zip",
               "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
               "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
               "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/bmp": "bmp", "image/tiff": "tif",
               "image/webp": "webp", "application/ofd": "ofd", "application/rtf": "rtf", "text/csv": "csv"}

# why a URL was not inspected (stable codes; `error` ones make the run fail closed: could not check)
SKIP_ZH = {
    "robots": "robots.txt 不允许抓取（可用 --ignore-robots 忽略）",
    "out_of_scope": "站外链接，未访问（可用 --allow-host 加入检查范围）",
    "scheme": "非 http/https 链接，未访问",
    "address": "解析到的地址不在允许范围内，未连接",
    "bad_url": "链接格式无效",
    "dns": "域名无法解析",
    "not_document": "非文档类资源（样式、脚本、音视频、安装包等），未检查",
    "nofollow": "页面声明 nofollow，其链接未访问",
    "depth": "超过最大深度，未访问",
    "limit_pages": "达到数量上限，未访问",
    "limit_time": "达到时间上限，未访问",
    "limit_bytes": "达到总下载量上限，未访问",
    "http_status": "服务器返回错误状态，未能检查",
    "not_found": "链接失效（404/410）",
    "too_large": "超过单个文件大小上限，未能完整检查",
    "too_many_redirects": "重定向次数过多，未能检查",
    "network": "网络错误或超时，未能检查",
}
ERROR_SKIPS = {"http_status", "too_large", "too_many_redirects", "network", "dns", "address"}
MAX_SKIPPED_LISTED = 500


@dataclass
class CrawlOptions:
    max_pages: int = 200              # resources fetched (pages, attachments, pictures)
    max_depth: int = 3                # link steps from the start page (pages; attachments of a crawled page always)
    same_host: bool = False           # exactly the start host (default: its sub-domains too)
    allow_hosts: tuple[str, ...] = ()
    delay_s: float = 1.0
    ignore_robots: bool = False
    max_bytes: int = 20 * 1024 * 1024
    max_total_bytes: int = 500 * 1024 * 1024
    max_time_s: float = 1800.0
    max_redirects: int = 5
    timeout_s: float = 15.0
    loopback_only: bool = False
    light: bool = False
    jobs: int = 1                     # scanning processes (the crawl itself is one request at a time)
    max_crawl_delay_s: float = 30.0
    # scan what was fetched every this many seconds of a long crawl, so that the progress file (and
    # the scan counts) grow while crawling, not only after it; None: scan after the crawl only
    scan_every_s: float | None = 60.0


@dataclass
class Resource:
    url: str
    kind: str
    depth: int
    referrer: str | None = None
    link_text: str = ""
    title: str = ""
    status: int = 0
    content_type: str = ""
    size: int = 0
    sha256: str = ""
    fetch_ms: float = 0.0
    change: str = "new"               # new / changed / unchanged (against --since)
    path: str = ""                    # the fetched body on disk (temporary)
    report: dict | None = None        # the scan report (the JSON contract)
    asked: str = ""                   # the URL requested (before redirects)
    links: list[str] = field(default_factory=list)   # a page's normalised link URLs (the progress file)
    nofollow: bool = False


@dataclass
class Skipped:
    url: str
    code: str
    referrer: str | None = None
    detail: str = ""

    @property
    def error(self) -> bool:
        return self.code in ERROR_SKIPS


@dataclass
class CrawlResult:
    start_url: str
    started_at: str
    finished_at: str = ""
    options: dict = field(default_factory=dict)
    resources: list[Resource] = field(default_factory=list)     # every fetched resource (unchanged too)
    skipped: list[Skipped] = field(default_factory=list)
    skipped_total: dict[str, int] = field(default_factory=dict)
    since: dict | None = None         # the previous run's start, finish and file
    removed: list[dict] = field(default_factory=list)           # in the previous run, not reached now
    requests: int = 0
    bytes: int = 0
    crawl_s: float = 0.0
    scan_s: float = 0.0
    scanned: int = 0                  # resources scanned so far in this run (during and after the crawl)
    stopped: str = ""                 # "" or the limit that ended the crawl (limit_pages/limit_time/limit_bytes/cancelled)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ext(url: str) -> str:
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _classify(url: str, tag_is_link: bool) -> str | None:
    """The kind a link is expected to be, or None when it is not inspected."""
    ext = _ext(url)
    if ext in SKIP_EXT:
        return None
    if ext in IMG_EXT:
        return IMAGE
    if ext in DOC_EXT:
        return ATTACHMENT
    return PAGE if tag_is_link else None


class _Robots:
    def __init__(self, fetcher: Fetcher, ua: str, wait: Callable[[], None]):
        self.fetcher, self.ua, self.wait = fetcher, ua, wait
        self.by_origin: dict[str, urllib.robotparser.RobotFileParser | None] = {}

    def _load(self, origin: str) -> urllib.robotparser.RobotFileParser | None:
        rp = urllib.robotparser.RobotFileParser()
        try:
            self.wait()
            r = self.fetcher.get(origin + "/robots.txt")
        except (Refused, OSError, HTTPException):
            return None                                   # no robots.txt to read: nothing disallowed
        if r.status in (401, 403):
            rp.disallow_all = True
        elif r.status == 200 and not r.truncated:
            rp.parse(r.body.decode("utf-8", "replace").splitlines())
        else:
            return None
        return rp

    def rules(self, url: str) -> urllib.robotparser.RobotFileParser | None:
        u = urlsplit(url)
        origin = f"{u.scheme}://{u.netloc}"
        if origin not in self.by_origin:
            self.by_origin[origin] = self._load(origin)
        return self.by_origin[origin]

    def allowed(self, url: str) -> bool:
        rp = self.rules(url)
        return rp is None or rp.can_fetch(self.ua, url)

    def delay(self, url: str) -> float | None:
        rp = self.rules(url)
        d = rp.crawl_delay(self.ua) if rp is not None else None
        return float(d) if d is not None else None


def _scope(start: str, opts: CrawlOptions) -> Scope:
    hosts = {(urlsplit(start).hostname or "").lower()}
    hosts |= {h.strip().lower().strip("[]") for h in opts.allow_hosts if h.strip()}
    return Scope(hosts, same_host=opts.same_host, loopback_only=opts.loopback_only)


def crawl(start_url: str, opts: CrawlOptions, workdir: str, progress: Callable[[dict], None] | None = None,
          cancel: threading.Event | None = None, previous: dict[str, str] | None = None,
          done: dict[str, dict] | None = None, between: Callable[[CrawlResult], float] | None = None) -> CrawlResult:
    """Fetch within scope into `workdir`; no scanning. previous: {url: sha256} of the last run.
    done: {url: progress entry} of a cut-short run (state.load_progress): those resources are not
    fetched again; they keep their recorded result and their links rebuild the frontier.
    between(res) after each fetched resource (`inspect` scans there now and then) -> the seconds it
    took, which count neither as crawl time nor against max_time_s."""
    from .state import resumed_report
    start = normalise(start_url)
    if start is None:
        raise ValueError("start URL must be http:// or https://")
    res = CrawlResult(start_url=start, started_at=_now(), options=asdict(opts))
    scope = _scope(start, opts)
    fetcher = Fetcher(scope, Limits(opts.max_bytes, opts.timeout_s, opts.max_redirects))
    t0 = time.monotonic()
    last = [0.0]
    extra_delay = [0.0]

    def wait() -> None:
        d = max(opts.delay_s, extra_delay[0])
        gap = time.monotonic() - last[0]
        if last[0] and gap < d:
            time.sleep(d - gap)
        last[0] = time.monotonic()

    robots = None if opts.ignore_robots else _Robots(fetcher, "BaomiSiteInspector", wait)
    frontier: deque[tuple[str, str, int, str | None, str]] = deque([(start, PAGE, 0, None, "")])
    seen = {start}
    listed_skips: set[str] = set()

    def skip(url: str, code: str, referrer: str | None = None, detail: str = "") -> None:
        res.skipped_total[code] = res.skipped_total.get(code, 0) + 1
        if url not in listed_skips and len(res.skipped) < MAX_SKIPPED_LISTED:
            listed_skips.add(url)
            res.skipped.append(Skipped(url, code, referrer, detail))

    def follow(rs: Resource, depth: int, out: list[tuple[str, str]]) -> None:
        """Queue a page's links (normalised URL, link text) that are in scope and not yet seen."""
        for nxt, ltext in out:
            if nxt in seen:
                continue
            seen.add(nxt)
            nk = _classify(nxt, tag_is_link=True)
            if nk is None:
                skip(nxt, "not_document", rs.url)
                continue
            if not scope.host_ok(urlsplit(nxt).hostname or ""):
                skip(nxt, "out_of_scope", rs.url, urlsplit(nxt).hostname or "")
                continue
            if rs.nofollow and nk == PAGE:
                skip(nxt, "nofollow", rs.url)
                continue
            if nk == PAGE and depth + 1 > opts.max_depth:
                skip(nxt, "depth", rs.url)
                continue
            frontier.append((nxt, nk, depth + 1, rs.url, ltext))

    while frontier:
        url, kind, depth, ref, text = frontier.popleft()
        stop = ("cancelled" if cancel is not None and cancel.is_set() else
                "limit_pages" if len(res.resources) >= opts.max_pages else
                "limit_time" if time.monotonic() - t0 > opts.max_time_s else
                "limit_bytes" if fetcher.bytes >= opts.max_total_bytes else "")
        if stop:
            res.stopped = stop
            for u, _k, _d, r, _t in [(url, kind, depth, ref, text), *frontier]:
                skip(u, stop if stop != "cancelled" else "limit_time", r)
            break
        if done and url in done:
            e = done[url]
            if e["url"] != url and e["url"] in seen:
                continue
            seen.add(e["url"])
            rs = Resource(e["url"], e.get("kind", kind), depth, ref, text, status=200,
                          content_type=e.get("content_type", ""), size=e.get("size", 0), sha256=e.get("sha256", ""),
                          report=resumed_report(e), asked=url, links=list(e.get("links", [])),
                          nofollow=bool(e.get("nofollow")))
            if previous is not None and rs.url in previous:
                rs.change = "unchanged" if previous[rs.url] == rs.sha256 else "changed"
            res.resources.append(rs)
            if rs.kind == PAGE:
                follow(rs, depth, [(u, "") for u in rs.links])
            continue
        try:
            scope.check_url(url)
        except Refused as exc:
            skip(url, exc.code, ref, exc.detail)
            continue
        if robots is not None:
            if not robots.allowed(url):
                skip(url, "robots", ref)
                continue
            cd = robots.delay(url)
            extra_delay[0] = min(cd, opts.max_crawl_delay_s) if cd is not None else 0.0
        wait()
        try:
            r = fetcher.get(url)
        except Refused as exc:
            skip(url, exc.code, ref, exc.detail)
            continue
        except (OSError, HTTPException) as exc:
            skip(url, "network", ref, type(exc).__name__)
            continue
        if r.url != url and r.url in seen:
            continue
        seen.add(r.url)
        if r.status in (404, 410):
            skip(url, "not_found", ref, str(r.status))
            continue
        if r.status != 200:
            skip(url, "http_status", ref, str(r.status))
            continue
        if r.truncated:
            skip(url, "too_large", ref, str(opts.max_bytes))
            continue
        is_html = r.content_type in HTML_TYPES or (not r.content_type and r.body[:512].lstrip().lower()
                                                     .startswith((b"<!doctype html", b"<html")))
        if kind == PAGE and not is_html:
            kind = IMAGE if r.content_type.startswith("image/") else ATTACHMENT
        elif kind != PAGE and is_html:
            kind = PAGE
        rs = Resource(r.url, kind, depth, ref, text, status=r.status, content_type=r.content_type, size=len(r.body),
                      sha256=hashlib.sha256(r.body).hexdigest(), fetch_ms=round(r.ms, 1), asked=url)
        if previous is not None and rs.url in previous:
            rs.change = "unchanged" if previous[rs.url] == rs.sha256 else "changed"
        ext = EXT_BY_TYPE.get(r.content_type) or _ext(rs.url) or "bin"
        rs.path = os.path.join(workdir, f"{len(res.resources):05d}.{ext if ext.isalnum() else 'bin'}")
        with open(rs.path, "wb") as fh:
            fh.write(r.body)
        res.resources.append(rs)
        if kind == PAGE:
            page = L.parse(r.body, r.charset)
            rs.title = page.title
            base = normalise(page.base, rs.url) if page.base else rs.url
            rs.nofollow = page.nofollow
            out = []
            for href, ltext in page.links:
                nxt = normalise(href, base or rs.url)
                if nxt is None:
                    low = href.strip().lower()
                    if not low.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
                        skip(href.strip()[:300], "scheme", rs.url)
                    continue
                out.append((nxt, ltext))
            rs.links = [u for u, _ in out]
            follow(rs, depth, out)
        if progress is not None:
            progress({"stage": "crawl", "fetched": len(res.resources), "queued": len(frontier),
                      "scanned": res.scanned, "url": rs.url, "kind": kind})
        if between is not None:
            t0 += between(res)
    res.requests, res.bytes = fetcher.requests, fetcher.bytes
    res.crawl_s = round(time.monotonic() - t0, 3)
    return res


def scan(res: CrawlResult, opts: CrawlOptions, progress: Callable[[dict], None] | None = None,
         scan_file: Callable[[str, str], dict] | None = None,
         on_scanned: Callable[[Resource], None] | None = None) -> None:
    """Scan every new or changed resource not yet scanned (resumed ones carry their result) in
    sandboxed workers; on_scanned(resource) as each record comes back (the progress file) in sandboxed workers; the report's source becomes the URL.
    scan_file(path, url) -> report dict: another scan path (the service's: its scanner, rules and
    isolation setting), called one file at a time in this process; an exception fails closed."""
    from ..batch.inputs import Item
    from ..batch.pool import scan_items
    from ..model import Report, ScanError
    todo = [r for r in res.resources if r.change != "unchanged" and r.report is None]
    by_path = {r.path: r for r in todo}
    items = [Item(r.path, r.size, 0) for r in todo]
    total = res.scanned + len(items)      # what earlier rounds (during the crawl) scanned counts too
    t0 = time.monotonic()

    def emit(rec: dict) -> None:
        rs = by_path.get((rec.get("batch") or {}).get("path") or rec.get("source"))
        if rs is None:
            return
        rec.pop("batch", None)
        rec["source"] = rs.url
        rs.report = rec
        if on_scanned is not None:
            on_scanned(rs)
        res.scanned += 1
        if progress is not None:
            progress({"stage": "scan", "scanned": res.scanned, "total": total, "url": rs.url})

    if scan_file is None:
        scan_items(items, emit, jobs=max(1, opts.jobs), light=opts.light, isolated="auto", sandbox="worker")
    else:
        for rs in todo:
            try:
                rec = scan_file(rs.path, rs.url)
            except Exception as exc:
                rec = Report.could_not_scan(rs.url, [ScanError("scan.failed", "扫描过程中出错，需人工核查。",
                                                               type(exc).__name__)]).to_dict()
            emit({**rec, "batch": {"path": rs.path}})
    for rs in todo:        # fail closed: a resource whose record never came back
        if rs.report is None:
            rs.report = Report.could_not_scan(rs.url, [ScanError("scan.failed", "扫描未完成，需人工核查。", "")]).to_dict()
    res.scan_s = round(res.scan_s + time.monotonic() - t0, 3)


def inspect(start_url: str, opts: CrawlOptions | None = None, since: dict | None = None,
            progress: Callable[[dict], None] | None = None, cancel: threading.Event | None = None,
            scan_file: Callable[[str, str], dict] | None = None, workdir: str | None = None,
            done: dict[str, dict] | None = None, on_scanned: Callable[[Resource], None] | None = None) -> CrawlResult:
    """Crawl, scan (scan_file and on_scanned as in `scan`; during a long crawl every
    opts.scan_every_s seconds what was fetched so far), compare with `since` (a run state, see
    state.py); `done` resumes a cut-short run (as in `crawl`). The
    fetched bodies live in a private temporary directory (under `workdir` if given), removed after."""
    from .state import previous_hashes, removed_since
    opts = opts or CrawlOptions()
    work = tempfile.mkdtemp(prefix="baomi-site-", dir=workdir)
    os.chmod(work, 0o700)
    try:
        last = [time.monotonic()]

        def between(part: CrawlResult) -> float:
            """Scan what the crawl fetched so far, every opts.scan_every_s seconds of crawling."""
            if opts.scan_every_s is None or time.monotonic() - last[0] < opts.scan_every_s:
                return 0.0
            t = time.monotonic()
            scan(part, opts, progress, scan_file, on_scanned)
            last[0] = time.monotonic()
            return last[0] - t

        res = crawl(start_url, opts, work, progress, cancel, previous_hashes(since) if since else None,
                    done, between)
        scan(res, opts, progress, scan_file, on_scanned)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        for r in locals().get("res", CrawlResult("", "")).resources:
            r.path = ""
    if since is not None:
        res.since = {"started_at": since.get("started_at"), "finished_at": since.get("finished_at"),
                     "start_url": since.get("start_url"), "file": since.get("_file")}
        res.removed = removed_since(since, res)
    res.finished_at = _now()
    return res
