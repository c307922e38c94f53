"""The run file of a site inspection (what `--since` compares with): per fetched URL its kind,
content hash (sha256 of the bytes served), size, decision and finding categories. Never page
text, titles, link texts or matched text: a run file can be kept and shared without becoming
a copy of what it found.

    {"format": "baomi.site.run/1", "start_url", "started_at", "finished_at",
     "resources": [{"url", "kind", "sha256", "size", "decision", "categories": [...]}]}

`load_run(PATH)`: a run file, or a directory of them (the newest by finished_at)."""
from __future__ import annotations

import json
import os
from pathlib import Path

RUN_FORMAT = "baomi.site.run/1"


def run_state(res, previous: dict | None = None) -> dict:
    """The state of `res` (a CrawlResult); unchanged resources keep the previous run's decision."""
    prev = {r["url"]: r for r in (previous or {}).get("resources", [])}
    out = []
    for r in res.resources:
        if r.report is not None:
            decision = r.report.get("decision")
            cats = sorted({f.get("category", "") for f in r.report.get("findings") or []} - {""})
            errors = [e.get("code", "") for e in r.report.get("errors") or []]
        else:
            p = prev.get(r.url, {})
            decision, cats, errors = p.get("decision"), p.get("categories", []), p.get("errors", [])
        out.append({"url": r.url, "kind": r.kind, "sha256": r.sha256, "size": r.size, "decision": decision,
                    "categories": cats, "errors": errors})
    return {"format": RUN_FORMAT, "start_url": res.start_url, "started_at": res.started_at,
            "finished_at": res.finished_at, "requests": res.requests, "resources": out,
            "skipped_total": dict(res.skipped_total)}


def save_run(state: dict, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_run(path) -> dict:
    p = Path(path)
    if p.is_dir():
        runs = []
        for f in p.glob("*.run.json"):
            try:
                d = json.loads(f.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if d.get("format") == RUN_FORMAT:
                runs.append((d.get("finished_at") or "", f.name, d, f))
        if not runs:
            raise FileNotFoundError(f"no *.run.json in {p}")
        _, _, d, f = max(runs, key=lambda t: (t[0], t[1]))
        d["_file"] = str(f)
        return d
    d = json.loads(p.read_text(encoding="utf-8"))
    if d.get("format") != RUN_FORMAT:
        raise ValueError(f"{p} is not a site inspection run file ({RUN_FORMAT})")
    d["_file"] = str(p)
    return d


def previous_hashes(state: dict) -> dict[str, str]:
    return {r["url"]: r.get("sha256", "") for r in state.get("resources", [])}


def removed_since(state: dict, res) -> list[dict]:
    """What the previous run fetched and this one did not reach (taken down, moved, or beyond a limit)."""
    now = {r.url for r in res.resources}
    return [{"url": r["url"], "kind": r.get("kind"), "previous_decision": r.get("decision"),
             "categories": r.get("categories", [])}
            for r in state.get("resources", []) if r["url"] not in now]


# -- the progress (resume) file: what `--resume` continues from ----------------------------------
# JSON Lines, appended as each resource's scan record comes back (a crawl cut short keeps what it
# did): a header {"format", "start_url"}, then per scanned resource {"url", "asked", "kind", "depth",
# "referrer", "sha256", "size", "content_type", "decision", "categories", "verdict", "errors",
# "risk_score", "links", "nofollow"} — links are the normalised URLs a page links to (to rebuild the frontier).
# Like run files: never page text, titles, link texts or matched text.
PROGRESS_FORMAT = "baomi.site.progress/1"


def progress_entry(rs) -> dict:
    rep = rs.report or {}
    findings = rep.get("findings") or []
    return {"url": rs.url, "asked": rs.asked or rs.url, "kind": rs.kind, "depth": rs.depth, "referrer": rs.referrer,
            "sha256": rs.sha256, "size": rs.size, "content_type": rs.content_type,
            "decision": rep.get("decision", "review"),
            "categories": sorted({f.get("category", "") for f in findings} - {""}),
            "verdict": sorted({f.get("category", "") for f in findings if f.get("needs_verdict")} - {""}),
            "errors": [e.get("code", "") for e in rep.get("errors") or []],
            "risk_score": rep.get("risk_score", 0.0), "links": list(rs.links), "nofollow": rs.nofollow}


class ProgressWriter:
    """Append one line per scanned resource, flushed at once (resume after a kill keeps all whole lines)."""

    def __init__(self, path, start_url: str, resume: bool):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not resume or not self.path.exists() or self.path.stat().st_size == 0
        torn = not fresh and not self.path.read_bytes().endswith(b"\n")     # killed mid-line
        self.fh = open(self.path, "w" if fresh else "a", encoding="utf-8")  # noqa: SIM115 (closed by close())
        if torn:
            self.fh.write("\n")
        if fresh:
            self._line({"format": PROGRESS_FORMAT, "start_url": start_url})

    def _line(self, d: dict) -> None:
        self.fh.write(json.dumps(d, ensure_ascii=False) + "\n")
        self.fh.flush()
        os.fsync(self.fh.fileno())

    def __call__(self, rs) -> None:
        self._line(progress_entry(rs))

    def close(self) -> None:
        self.fh.close()


def load_progress(path, start_url: str) -> dict[str, dict]:
    """{url: entry} of what a cut-short run scanned (keyed by final and requested URL); a partial
    last line (the run was killed while writing) is ignored. ValueError: not a progress file, or
    of another start URL."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    try:
        head = json.loads(lines[0]) if lines else {}
    except ValueError:
        head = {}
    if head.get("format") != PROGRESS_FORMAT:
        raise ValueError(f"{path} is not a site inspection progress file ({PROGRESS_FORMAT})")
    if head.get("start_url") != start_url:
        raise ValueError(f"{path} belongs to a run from {head.get('start_url')}")
    done: dict[str, dict] = {}
    for ln in lines[1:]:
        try:
            e = json.loads(ln)
        except ValueError:
            continue
        if isinstance(e, dict) and e.get("url"):
            done[e["url"]] = e
            done.setdefault(e.get("asked") or e["url"], e)
    return done


def resumed_report(e: dict) -> dict:
    """A stand-in scan record for a resource scanned before the interruption: its decision,
    categories and error codes (the matched text was never kept)."""
    note = "续查：沿用中断前的扫描结论（进度文件不保存原文，详情需重新检查）。"
    return {"source": e["url"], "decision": e.get("decision", "review"), "risk_score": e.get("risk_score", 0.0),
            "findings": [{"category": c, "needs_verdict": c in e.get("verdict", []), "severity": "info",
                          "text": "", "explanation": note} for c in e.get("categories", [])],
            "errors": [{"code": c, "message": note} for c in e.get("errors", [])], "resumed": True}
