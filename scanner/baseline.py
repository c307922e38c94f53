"""`baomi baseline create|update|audit` and `baomi scan --baseline FILE` (detect-secrets/gitleaks
style, issue 16): a baseline records the fingerprints of findings already known in a tree, so a
later scan reports only what is new. It holds fingerprints, rules, categories, counts and reviewer
labels only, never the matched text.

    baomi baseline create docs/ -o .baomi-baseline.json
    baomi scan --baseline .baomi-baseline.json docs/          # only findings not in the baseline
    baomi baseline update .baomi-baseline.json docs/          # add new ones, keep labels
    baomi baseline audit .baomi-baseline.json                 # counts per rule and label
    baomi baseline audit .baomi-baseline.json --set FP false_alarm --reason "单位公开电话"
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import datetime, UTC
from pathlib import Path

from .allowlist import LABELS, Allowlist, Entry

KIND = "baomi-baseline"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load(path: str | Path) -> dict:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("kind") != KIND:
        raise ValueError(f"{path} is not a baomi baseline")
    return data


def save(data: dict, path: str | Path) -> None:
    data["entries"] = sorted(data["entries"], key=lambda e: (e["rule_id"], e["fingerprint"]))
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def as_allowlist(data: dict) -> Allowlist:
    return Allowlist([Entry(fingerprint=e["fingerprint"], rule_id=e["rule_id"], scope="everywhere",
                            reason=e.get("reason") or "基线中已有的发现", label=e.get("label") or "accepted",
                            who="baseline") for e in data["entries"]])


def collect(paths: list[str], light: bool) -> tuple[dict[tuple[str, str], dict], str]:
    from . import get_scanner
    from .batch.inputs import iter_inputs
    from .extract.sandbox import path_needs_isolation
    scanner = get_scanner(light=light)
    seen: dict[tuple[str, str], dict] = {}
    for item in iter_inputs(paths, hidden=False):
        path = item.path
        rep = scanner.scan_file(path, source=path, isolated=path_needs_isolation(path, "auto"))
        for f in rep.findings:
            e = seen.setdefault((f.fingerprint, f.rule_id), {"fingerprint": f.fingerprint, "rule_id": f.rule_id,
                                                             "category": f.category, "count": 0})
            e["count"] += 1
    return seen, scanner.fingerprint_key_id


def cmd_create(args) -> int:
    seen, kid = collect(args.paths, args.light)
    data = {"kind": KIND, "version": 1, "fingerprint_key_id": kid, "created": _now(), "updated": _now(),
            "entries": [{**e, "label": None, "reason": ""} for e in seen.values()]}
    save(data, args.output)
    print(f"基线已写入 {args.output}：{len(seen)} 条发现指纹（不含原文）。")
    return 0


def cmd_update(args) -> int:
    data = load(args.baseline)
    seen, kid = collect(args.paths, args.light)
    if data.get("fingerprint_key_id") not in (None, "", kid):
        print("✗ 基线由另一个指纹密钥生成，无法比较（请在同一安装上更新，或重新创建基线）。", file=sys.stderr)
        return 2
    old = {(e["fingerprint"], e["rule_id"]): e for e in data["entries"]}
    entries, added, dropped = [], 0, 0
    for key, e in seen.items():
        prev = old.get(key)
        entries.append({**e, "label": prev.get("label") if prev else None, "reason": prev.get("reason", "") if prev else ""})
        added += prev is None
    for key, e in old.items():
        if key not in seen:
            if e.get("label"):
                entries.append(e)        # a reviewer's label is kept even when the text is gone
            else:
                dropped += 1
    data.update(entries=entries, updated=_now(), fingerprint_key_id=kid)
    save(data, args.baseline)
    print(f"基线已更新：新增 {added} 条，移除 {dropped} 条，共 {len(entries)} 条。")
    return 0


def cmd_audit(args) -> int:
    data = load(args.baseline)
    if args.set:
        fp, label = args.set
        if label not in LABELS:
            print(f"✗ 标签只能是 {'、'.join(LABELS)}。", file=sys.stderr)
            return 64
        hits = [e for e in data["entries"] if e["fingerprint"].startswith(fp)]
        if len(hits) != 1:
            print(f"✗ 指纹前缀 {fp} 匹配到 {len(hits)} 条，需要恰好一条。", file=sys.stderr)
            return 2
        hits[0]["label"], hits[0]["reason"] = label, args.reason or hits[0].get("reason", "")
        data["updated"] = _now()
        save(data, args.baseline)
        print(f"已标记 {hits[0]['fingerprint'][:12]}（{hits[0]['rule_id']}）为 {label}。")
        return 0
    by_rule = Counter((e["rule_id"], e.get("label") or "unlabelled") for e in data["entries"])
    print(f"基线 {args.baseline}：{len(data['entries'])} 条（指纹密钥 {data.get('fingerprint_key_id', '')}）")
    for (rule, label), n in sorted(by_rule.items()):
        print(f"  {rule:40s} {label:12s} {n}")
    return 0


def add_baseline_parser(sub) -> None:
    p = sub.add_parser("baseline", help="基线：记录已知发现的指纹，之后只报告新增发现",
                       description=__doc__.splitlines()[0])
    bsub = p.add_subparsers(dest="baseline_command", required=True)
    c = bsub.add_parser("create", help="扫描并写出基线")
    c.add_argument("paths", nargs="+")
    c.add_argument("--output", "-o", default=".baomi-baseline.json")
    c.add_argument("--light", action="store_true")
    c.set_defaults(func=cmd_create)
    u = bsub.add_parser("update", help="重新扫描，加入新发现，保留标签")
    u.add_argument("baseline")
    u.add_argument("paths", nargs="+")
    u.add_argument("--light", action="store_true")
    u.set_defaults(func=cmd_update)
    a = bsub.add_parser("audit", help="按规则和标签统计；--set 指纹 标签 给一条发现打标签")
    a.add_argument("baseline")
    a.add_argument("--set", nargs=2, metavar=("FINGERPRINT", "LABEL"))
    a.add_argument("--reason", default="")
    a.set_defaults(func=cmd_audit)
