"""Editing the rules, term lists and policy (lexicons/*.toml) from the admin pages.

The files in the running scanner's lexicon directory are the configuration (policy.toml says
so: "edited by the 保密办, read at start-up"). An edit is validated before it is written: the TOML
parses, the file passes the same typed checks as at start-up (scanner.rules.check_file: unknown
keys, categories, severities, decisions, regexes, groups, validators, examples; the message names
the file, the rule and the field), a complete scanner builds from a copy of the directory with the
new file, and none of the file's own true/false examples that held before fails now. Then the file
is replaced atomically, the service's scan and gate scanners are rebuilt from the directory and
swapped together (`ServiceState.reload_rules`: the next scans and gate checks use it), and the
audit log records who, which file and the hashes before and after (never the content)."""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import tomllib
from pathlib import Path

from scanner.engine import Scanner
from scanner.errors import ConfigError
from scanner.rules import check_file

from .. import audit
from ..errors import err

EDITABLE_SUFFIX = ".toml"
MAX_BYTES = 512 * 1024


def lexicon_dir(st) -> Path:
    return Path(st.get_scanner().lexicon_dir)


def resolve(st, rel: str) -> Path:
    base = lexicon_dir(st).resolve()
    p = (base / rel).resolve()
    if base not in p.parents or p.suffix != EDITABLE_SUFFIX or not p.is_file():
        raise err(404, "lexicon_not_found", "没有这个规则/词表文件。")
    return p


def _examples_hold(sc, rel: str, doc: dict) -> list[str]:
    """The file's own examples, judged on its own rules (by rule id) or its own term list:
    examples_true must be found, examples_false must not. -> [(rule, example, message)]"""
    problems = []
    meta = {**doc, **doc.get("lexicon", {})}          # keys may sit under [lexicon] (as scanner.rules reads them)
    groups = []
    if meta.get("category") and ("terms" in meta or "examples_true" in meta):
        cat = meta["category"]
        groups.append((cat, lambda f, cat=cat: f.category == cat and "lexicon" in f.rule_id,
                       meta.get("examples_true", []), meta.get("examples_false", [])))
    for r in doc.get("rules", []):
        if r.get("id"):
            groups.append((r["id"], lambda f, rid=r["id"]: f.rule_id == rid,
                           r.get("examples_true", []), r.get("examples_false", [])))
    for name, hit, trues, falses in groups:
        for i, ex in enumerate(trues[:50], 1):
            if not any(hit(f) for f in sc.scan_text(ex).findings):
                problems.append((name, ex, f"{name}：第 {i} 个正例应命中而未命中"))
        for i, ex in enumerate(falses[:50], 1):
            if any(hit(f) for f in sc.scan_text(ex).findings):
                problems.append((name, ex, f"{name}：第 {i} 个反例不应命中却命中"))
    return problems


def config_error_zh(exc: ConfigError) -> str:
    """文件、规则、字段 in Chinese; the problem itself as the loader states it."""
    where = "，".join(p for p in (exc.file and f"文件 {exc.file}", exc.rule_id and f"规则 {exc.rule_id}",
                                  exc.field and f"字段 {exc.field}") if p)
    return f"规则校验未通过（{where}）：{exc.problem[:300]}" if where else f"规则校验未通过：{exc.problem[:300]}"


def save(st, actor: audit.Actor, rel: str, text: str) -> dict:
    path = resolve(st, rel)
    data = text.replace("\r\n", "\n").encode("utf-8")
    if len(data) > MAX_BYTES:
        raise err(413, "body_too_large", "文件过大。")
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise err(422, "toml_invalid", f"TOML 格式错误：{str(exc)[:200]}")
    old = path.read_bytes()
    if old == data:
        return {"changed": False}
    base = lexicon_dir(st)
    try:
        check_file(base, path.relative_to(base.resolve()).as_posix(), data)
    except ConfigError as exc:
        raise err(422, "ruleset_invalid", config_error_zh(exc))
    old_hash = st.get_scanner().ruleset_hash
    with tempfile.TemporaryDirectory(prefix="lexcheck-") as tmp:
        cand = Path(tmp) / "lexicons"
        shutil.copytree(base, cand)
        (cand / path.relative_to(base.resolve())).write_bytes(data)
        try:
            sc = Scanner(lexicon_dir=cand, light=st.settings.light_scanner)
        except ConfigError as exc:   # a problem across files (e.g. a rule id used in another file)
            raise err(422, "ruleset_invalid", config_error_zh(exc))
        except Exception as exc:     # noqa: BLE001 - a model file, ... : shown to the admin
            raise err(422, "ruleset_invalid", f"规则无法加载：{type(exc).__name__}: {str(exc)[:200]}")
        # no regression: what held with the current file must still hold with the new one
        known = {(n, ex) for n, ex, _ in _examples_hold(st.get_scanner(), rel, tomllib.loads(old.decode("utf-8")))}
        problems = [msg for n, ex, msg in _examples_hold(sc, rel, doc) if (n, ex) not in known]
        if problems:
            raise err(422, "examples_failed", "；".join(problems[:5]))
    tmpfile = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmpfile.write_bytes(data)
    os.replace(tmpfile, path)
    new_hash = st.reload_rules(base).ruleset_hash
    with st.db.write() as s:
        audit.append(s, actor, "lexicon.updated", "lexicon", rel[:64],
                     before={"sha256": hashlib.sha256(old).hexdigest(), "ruleset_hash": old_hash},
                     after={"sha256": hashlib.sha256(data).hexdigest(), "ruleset_hash": new_hash})
    return {"changed": True, "ruleset_hash": new_hash}
