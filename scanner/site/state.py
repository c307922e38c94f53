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
