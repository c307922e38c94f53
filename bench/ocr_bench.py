"""OCR benchmarks (issue 11), part of `make bench` (bench/run.py, section "ocr"; alone:
`python bench/ocr_bench.py [--quick] [--one-core]`).

1. OCR seconds per dense A4 page at 200 dpi on one core: pages of 26 lines of Chinese drawn with
   the CJK font, each OCR'd by the engine in a child process pinned to one core (one onnxruntime
   thread), engine built once; wall and CPU seconds per page, p50/p99. Accuracy: lines read exactly.
2. A 50-page image-only scanned PDF end to end on 2 cores: `Scanner.scan_file(isolated=True)` (the
   sandboxed child, as the service runs it) with two OCR threads; seconds in all and per page.
3. The text-layer check on the benchmark's 100-page PDF (bench/corpus.py): the cost of
   scanner.extract.textlayer.problem over every page, against the PDF's whole extraction time
   (goal <= 10 %), and that no page of it is OCR'd (a good text layer never is).
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE))

SENTENCES = ["各单位要加强值班值守，严格落实领导带班和二十四小时值班制度。",
             "发现安全隐患请及时向属地应急管理部门报告，不得迟报漏报。",
             "市政府办公室将对各地落实情况进行督查，并通报督查结果。",
             "请于本月二十日前将工作总结报送市应急管理局综合科。"]


def dense_page(k: int):
    from support.pictures import page
    lines = ["秘密★5年", f"关于做好第{k + 1}季度安全生产工作的通知"]
    for i in range(24):
        s = SENTENCES[(i + k) % len(SENTENCES)]
        lines.append(f"{i + 1}. {s[: 26]}")
    return page(lines, px=34, top=120, step=82), lines


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    if not xs:
        return 0.0
    k = (len(xs) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


_ONE_CORE = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
from PIL import Image
from scanner.extract import ocr
# the opt-in int8 recogniser (BAOMI_OCR_REC=int8, ScanConfig.ocr_rec) instead of the wheel's
REC = "int8" if sys.argv[2] == "int8" else "float"
if sys.argv[2] == "package":          # the settings before the tuning: 1600 px, batches of 6 lines
    ocr.MAX_SIDE, ocr.REC_BATCH = 1600, 6
ocr.use_options(ocr.OcrOptions(threads=1, rec=REC))
t0 = time.perf_counter(); eng = ocr.engine(1, REC); load = time.perf_counter() - t0
eng.max_side_len = ocr.MAX_SIDE
stage = {"det": 0.0, "cls": 0.0, "rec": 0.0}
def timed(name, fn):
    def call(*a, **k):
        c = time.process_time(); r = fn(*a, **k); stage[name] += time.process_time() - c; return r
    return call
for name, attr in (("det", "text_det"), ("cls", "text_cls"), ("rec", "text_rec")):
    setattr(eng, attr, timed(name, getattr(eng, attr)))
out = {"load_s": load, "pages": []}
for path, want in json.loads(sys.stdin.read()):
    img = Image.open(path); img.load()
    for k in stage: stage[k] = 0.0
    w0, c0 = time.perf_counter(), time.process_time()
    res = ocr.recognize(img)
    got = [ln.text for ln in res.lines if ln.confidence >= ocr.KEEP_CONFIDENCE]
    exact = sum(1 for a in want if a.replace(" ", "") in {g.replace(" ", "") for g in got})
    out["pages"].append({"wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0,
                         "lines": len(want), "exact": exact, "mark": any(g.replace(" ", "") == "秘密★5年" for g in got),
                         **{k + "_s": v for k, v in stage.items()}})
print(json.dumps(out))
"""

VARIANTS = ("plain", "rotated +3°", "rotated -3°", "JPEG q60", "grey background")


def variant(img, k: int):
    """Page k of the bench in one of the hard cases the tests also read (k % 5)."""
    import io

    from PIL import Image
    v = VARIANTS[k % len(VARIANTS)]
    if v.startswith("rotated"):
        return img.rotate(3 if "+" in v else -3, resample=Image.BICUBIC, fillcolor=(255, 255, 255))
    if v == "JPEG q60":
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=60)
        return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    if v == "grey background":
        return Image.eval(img.convert("L"), lambda x: int(x * 200 / 255)).convert("RGB")
    return img


SETTINGS = {"tuned": "as shipped: the wheel's float recogniser, 1280 px, one line per run",
            "int8": "BAOMI_OCR_REC=int8: the int8 recogniser (models/, training/ocr_quant.py), otherwise as shipped",
            "package": "the wheel's float recogniser, 1600 px, rec batches of 6 (the package's defaults)"}


def ocr_one_core(n_pages: int, settings: str = "tuned") -> dict:
    """settings: one of SETTINGS, side by side on the same pages."""
    with tempfile.TemporaryDirectory(prefix="baomi-ocrb-") as tmp:
        items = []
        for k in range(n_pages):
            img, lines = dense_page(k)
            p = Path(tmp) / f"p{k}.png"
            variant(img, k).save(p)
            items.append([str(p), lines])
        r = subprocess.run([sys.executable, "-c", _ONE_CORE, str(ROOT), settings], input=json.dumps(items),
                           text=True, capture_output=True, timeout=120 + 120 * n_pages, check=True)
    data = json.loads(r.stdout)
    walls = [p["wall_s"] for p in data["pages"]]
    cpus = [p["cpu_s"] for p in data["pages"]]
    lines = sum(p["lines"] for p in data["pages"])
    return {"settings": settings, "what": SETTINGS[settings], "pages": n_pages, "engine_load_s": round(data["load_s"], 2),
            "load_average": [round(x, 1) for x in __import__("os").getloadavg()],
            "wall_p50_s": round(pct(walls, 50), 2), "wall_p99_s": round(pct(walls, 99), 2),
            "cpu_p50_s": round(pct(cpus, 50), 2), "cpu_p99_s": round(pct(cpus, 99), 2),
            **{f"{k}_cpu_p50_s": round(pct([p[k + "_s"] for p in data["pages"]], 50), 2) for k in ("det", "cls", "rec")},
            "lines_exact": f"{sum(p['exact'] for p in data['pages'])}/{lines}",
            "marks_read": f"{sum(1 for p in data['pages'] if p['mark'])}/{n_pages}",
            "page": "A4 at 200 dpi (1654 x 2339 px), 26 lines, one core, one thread; pages cycle through "
                    + ", ".join(VARIANTS)}


def scanned_pdf_end_to_end(n_pages: int) -> dict:
    from scanner.engine import Scanner
    from scanner.extract.ocr import OcrOptions
    from support.pictures import scanned_pdf
    imgs = [dense_page(k)[0] for k in range(n_pages)]
    with tempfile.TemporaryDirectory(prefix="baomi-ocrb-") as tmp:
        p = Path(tmp) / "scan.pdf"
        p.write_bytes(scanned_pdf(imgs))
        del imgs
        sc = Scanner(light=True, ocr=OcrOptions(threads=2, budget_s=3600))
        import resource
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        w0 = time.perf_counter()
        rep = sc.scan_file(p, isolated=True)
        wall = time.perf_counter() - w0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    pages_read = len({s.locator.get("page") for s in rep.segments if s.layer == "ocr"})
    return {"pages": n_pages, "seconds": round(wall, 1), "per_page_s": round(wall / n_pages, 2),
            "child_cpu_s": round(cpu, 1), "child_cpu_per_page_s": round(cpu / n_pages, 2),
            "load_average": [round(x, 1) for x in __import__("os").getloadavg()],
            "pages_read": pages_read, "decision": rep.decision, "errors": [e.code for e in rep.errors],
            "how": "Scanner.scan_file(isolated=True), OCR threads 2, on the machine's 2 cores"}


def textlayer_cost(pdf_path: Path, repeat: int = 3) -> dict:
    from scanner.extract import extract
    from scanner.extract import textlayer
    from scanner.extract.pdf import judge_pages
    ext = []
    doc = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        doc = extract(pdf_path)
        ext.append(time.perf_counter() - t0)
    texts: dict[int, list[str]] = {}
    for s in doc.segments:
        if s.layer == "body" and isinstance(s.locator.get("page"), int):
            texts.setdefault(s.locator["page"], []).append(s.text)
    pages = {k: "\n".join(v) for k, v in texts.items()}
    checks = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        garbled, empty = judge_pages(pages, {})
        checks.append(time.perf_counter() - t0)
    e, c = statistics.median(ext), statistics.median(checks)
    assert textlayer.problem("") is None
    return {"pages": len(pages), "extract_s": round(e, 3), "check_ms": round(c * 1000, 2),
            "share": round(c / e, 4), "goal_share": 0.10, "garbled_pages": len(garbled),
            "pages_without_text": len(empty), "ocr_images": doc.meta.get("ocr_images", 0)}


def run(corpus_pdf: Path | None, quick: bool, log=print, one_core_only: bool = False) -> dict:
    out = {}
    n = 4 if quick else 12
    log(f"[ocr] {n} dense A4 pages at 200 dpi, one core")
    out["one_core"] = ocr_one_core(n)
    log(f"[ocr] the same {n} pages with the int8 recogniser (BAOMI_OCR_REC=int8), side by side")
    out["one_core_int8"] = ocr_one_core(n, "int8")
    log(f"[ocr] the same {n} pages with the package's settings (1600 px, rec batches of 6), side by side")
    out["one_core_package"] = ocr_one_core(n, "package")
    if one_core_only:
        return out
    n = 8 if quick else 50
    log(f"[ocr] {n}-page scanned PDF end to end, 2 cores")
    out["scanned_pdf"] = scanned_pdf_end_to_end(n)
    if corpus_pdf is not None and corpus_pdf.exists():
        log("[ocr] text-layer check on the 100-page PDF")
        out["textlayer"] = textlayer_cost(corpus_pdf)
    return out


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    if "--one-core" in argv:           # only the per-page figures, the three settings side by side
        print(json.dumps(run(None, quick, log=lambda m: print(m, file=sys.stderr), one_core_only=True),
                         ensure_ascii=False, indent=2))
        return 0
    pdf = HERE / ("corpus-quick" if quick else "corpus") / "doc" / "bench_100p.pdf"
    if not pdf.exists():            # the benchmark corpus's 100-page PDF, built alone
        import corpus as corpus_mod
        pdf.parent.mkdir(parents=True, exist_ok=True)
        corpus_mod.make_pdf(pdf, corpus_mod.TextGen())
    print(json.dumps(run(pdf, quick, log=lambda m: print(m, file=sys.stderr)),
                     ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
