"""Report equivalence between two trees (issue 17: a speed change must not change any report).

    # in each tree (e.g. main and a branch), the same command:
    PYTHONPATH=<tree> .venv/bin/python bench/equivalence.py dump /tmp/a.jsonl [--sets ...] [--files N] \
        [--eval-dir /tmp/eval-cases]
    .venv/bin/python bench/equivalence.py diff /tmp/a.jsonl /tmp/b.jsonl

`dump` writes one line per (set, document, configuration): a digest of the extracted document
(segments, errors, notes) and the whole report without its timings (decision, risk score,
reasons, every finding with its offsets, severity, confidence, explanation, evidence and
fingerprint under a fixed key). `diff` names the documents whose lines differ. Sets:

- `eval`: the shared evaluation's dev cases (../shared/eval, built into a temporary directory, or
  once into `--eval-dir` and reused: the builder stamps dates into the files);
- `texts`: the bench corpus's 5,000-character texts (bench/corpus/texts_5k.jsonl), full mode with
  the default names scope, with names_report "all" (every segment tagged) and the CMS gate's
  names scope "cue";
- `files`: the bench corpus's small mixed files (the first N, default all), scanned alone and in
  the batch's chunks of 8 (Scanner.scan_documents);
- `realdocs`: the real documents (tests/realdocs/files), OCR off.

The scanner compared is the one `import scanner` finds (PYTHONPATH); the corpus and the real
documents are always this tree's, so one script dumps both trees.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared"
CORPUS = HERE / "corpus"
REALDOCS = ROOT / "tests" / "realdocs" / "files"
KEY = b"baomi-equivalence-check"
SETS = ("eval", "texts", "files", "realdocs")


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:20]


def doc_key(doc) -> str:
    d = doc.to_dict()
    return _digest([d["segments"], d["errors"], d.get("meta", {}).get("notes", [])])


def report_key(report) -> dict:
    d = report.to_dict()
    d.pop("timings_ms", None)
    d["risk_score"] = repr(report.risk_score)          # exact, not rounded
    for f, src in zip(d["findings"], report.findings):
        f["confidence"] = repr(src.confidence)
    return d


def _scanner(**kw):
    from scanner.engine import Scanner
    return Scanner(fingerprint_key=KEY, **kw)


def _rows_of(name: str, docs: list, scanners: dict, chunked: bool = False):
    for label, sc in scanners.items():
        for doc in docs:
            rep = sc.scan_document(copy.deepcopy(doc))
            yield {"set": name, "conf": label, "doc": doc.source, "doc_key": doc_key(doc), "report": report_key(rep)}
        if chunked:
            for k in range(0, len(docs), 8):
                part = docs[k:k + 8]
                for doc, rep in zip(part, sc.scan_documents([copy.deepcopy(d) for d in part])):
                    yield {"set": name, "conf": label + "+chunk8", "doc": doc.source, "doc_key": doc_key(doc),
                           "report": report_key(rep)}


def dump(out: Path, sets: list[str], n_files: int | None, log, eval_dir: str | None = None) -> int:
    from scanner.extract import extract
    from scanner.extract.ocr import OcrOptions
    from scanner.extract.txt import add_lines
    from scanner.model import Document
    full = {"full": _scanner()}
    rows = 0
    with out.open("w", encoding="utf-8") as fh:
        def put(it):
            nonlocal rows
            for row in it:
                fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
                rows += 1
        if "eval" in sets and (SHARED / "eval" / "build.py").exists():
            with tempfile.TemporaryDirectory() as tmp:
                d = Path(eval_dir) if eval_dir else Path(tmp)
                if not any(d.glob("*.*")):       # built once: the builder stamps dates into the files
                    d.mkdir(parents=True, exist_ok=True)
                    subprocess.run([sys.executable, str(SHARED / "eval" / "build.py"),
                                    str(SHARED / "eval" / "dev_cases.py"), str(d)], check=True, capture_output=True)
                files = sorted(p for p in d.rglob("*")
                               if p.is_file() and p.suffix != ".jsonl" and p.name != "labels.json")
                docs = [extract(p, source=p.name) for p in files]
            log(f"eval: {len(docs)} documents")
            put(_rows_of("eval", docs, full | {"light": _scanner(light=True)}))
        if "texts" in sets:
            path = CORPUS / "texts_5k.jsonl"
            texts = [json.loads(line)["text"] for line in path.open(encoding="utf-8")]
            docs = []
            for k, text in enumerate(texts):
                doc = Document(source=f"text-{k}", sha256="0" * 64, media_type="text/plain")
                add_lines(doc, text, "body")
                docs.append(doc)
            log(f"texts: {len(docs)} documents")
            put(_rows_of("texts", docs, full | {"names_all": _scanner(names_report="all"),
                                                "names_cue": _scanner(names_scope="cue")}))
        if "files" in sets:
            from scanner.batch import iter_inputs
            base = CORPUS / "files"
            items = [it.path for it in iter_inputs(str(base))][:n_files]
            docs = [extract(p, source=str(Path(p).relative_to(base))) for p in items]
            log(f"files: {len(docs)} documents")
            put(_rows_of("files", docs, full, chunked=True))
        if "realdocs" in sets:
            base = REALDOCS
            files = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else []
            docs = [extract(p, source=str(p.relative_to(base)), ocr=OcrOptions(enabled=False)) for p in files]
            log(f"realdocs: {len(docs)} documents")
            put(_rows_of("realdocs", docs, full))
    return rows


def diff(a: Path, b: Path) -> int:
    def load(p):
        out = {}
        for line in p.open(encoding="utf-8"):
            r = json.loads(line)
            out[(r["set"], r["conf"], r["doc"])] = r
        return out
    A, B = load(a), load(b)
    bad = 0
    for k in sorted(set(A) | set(B)):
        ra, rb = A.get(k), B.get(k)
        if ra is None or rb is None:
            print("only in", a if rb is None else b, k)
            bad += 1
            continue
        if ra["doc_key"] != rb["doc_key"]:
            print("extraction differs:", k)
            bad += 1
        if ra["report"] != rb["report"]:
            fa, fb = ra["report"]["findings"], rb["report"]["findings"]
            what = [x for x in ("decision", "risk_score", "decision_reasons", "errors", "model_version")
                    if ra["report"].get(x) != rb["report"].get(x)]
            print("report differs:", k, what, f"findings {len(fa)} vs {len(fb)}")
            bad += 1
    print(f"{len(A)} vs {len(B)} rows, {bad} differ")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out")
    d.add_argument("--sets", default=",".join(SETS))
    d.add_argument("--files", type=int, default=None, help="the first N small files (default all)")
    d.add_argument("--eval-dir", default=None, help="build the dev cases here once and reuse them (the builder "
                   "stamps dates into docx/pdf files, so two builds differ)")
    c = sub.add_parser("diff")
    c.add_argument("a")
    c.add_argument("b")
    a = ap.parse_args(argv)
    if a.cmd == "diff":
        return diff(Path(a.a), Path(a.b))
    n = dump(Path(a.out), [s for s in a.sets.split(",") if s], a.files,
             lambda m: print(f"[equivalence] {m}", file=sys.stderr, flush=True), a.eval_dir)
    print(f"{n} rows → {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
