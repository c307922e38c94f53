"""Why pdfplumber and spaCy are not dependencies: each measured against what the scanner uses instead.

    python bench/dropped_deps.py            # needs pdfplumber==0.11.10 and spacy==3.8.18 installed
                                            # beside the project's deps (they are not in requirements.lock)

1. PDF text and character boxes of the benchmark's 100-page CJK PDF (bench/corpus.py make_pdf,
   reportlab, STSong-Light): pypdfium2 (what scanner/extract/pdf.py and pdf_layers.py use) against
   pdfplumber (pdfminer.six underneath). Text of every page + every character's box.
2. Chinese word segmentation of 2,000 public news sentences (../shared/data/news): jieba alone (what
   the scanner uses) against spaCy's blank `zh` pipeline with its jieba segmenter.

Each measurement runs in a fresh child process: wall time of the work, and the child's peak RSS
(ru_maxrss), including the import of the library. Prints one JSON object.
"""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

PDF_PYPDFIUM2 = """
import sys, time, pypdfium2 as pdfium
t = time.perf_counter(); pdf = pdfium.PdfDocument(sys.argv[1]); chars = boxes = 0
for page in pdf:
    tp = page.get_textpage(); chars += len(tp.get_text_bounded() or "")
    for i in range(tp.count_chars()):
        tp.get_charbox(i); boxes += 1
print(time.perf_counter() - t, chars, boxes)
"""
PDF_PDFPLUMBER = """
import sys, time, pdfplumber
t = time.perf_counter(); chars = boxes = 0
with pdfplumber.open(sys.argv[1]) as pdf:
    for page in pdf.pages:
        chars += len(page.extract_text() or ""); boxes += len(page.chars)
print(time.perf_counter() - t, chars, boxes)
"""
SEG_JIEBA = """
import json, sys, time, jieba
jieba.setLogLevel(60); jieba.initialize()
texts = json.load(open(sys.argv[1], encoding="utf-8"))
t = time.perf_counter(); n = sum(len(jieba.lcut(x)) for x in texts)
print(time.perf_counter() - t, n, 0)
"""
SEG_SPACY = """
import json, sys, time, jieba, spacy
jieba.setLogLevel(60)
nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
texts = json.load(open(sys.argv[1], encoding="utf-8"))
t = time.perf_counter(); n = sum(len(d) for d in nlp.pipe(texts))
print(time.perf_counter() - t, n, 0)
"""


def _child(code: str, arg: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", code + """
import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
""", arg], capture_output=True, text=True, check=True)
    work, n, boxes, rss = proc.stdout.split()[-4:]
    return {"seconds": round(float(work), 3), "count": int(n), "boxes": int(boxes),
            "peak_rss_mb": round(int(rss) / 1024, 1)}


def main() -> int:
    import tempfile

    from corpus import SHARED, TextGen, make_pdf

    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "doc100.pdf"
        buf = io.BytesIO()
        make_pdf(buf, TextGen(), pages=100)
        pdf.write_bytes(buf.getvalue())
        out["pdf_100_pages"] = {"pypdfium2": _child(PDF_PYPDFIUM2, str(pdf)),
                                "pdfplumber": _child(PDF_PDFPLUMBER, str(pdf))}
        texts = [json.loads(line)["text"] for line in
                 open(SHARED / "data" / "news" / "peoplesdaily_dev.jsonl", encoding="utf-8")][:2000]
        tj = Path(tmp) / "texts.json"
        tj.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        out["segment_2000_sentences"] = {"jieba": _child(SEG_JIEBA, str(tj)),
                                         "spacy_blank_zh_jieba": _child(SEG_SPACY, str(tj))}
    p, s = out["pdf_100_pages"], out["segment_2000_sentences"]
    out["ratios"] = {
        "pdfplumber/pypdfium2 seconds": round(p["pdfplumber"]["seconds"] / p["pypdfium2"]["seconds"], 1),
        "pdfplumber/pypdfium2 rss": round(p["pdfplumber"]["peak_rss_mb"] / p["pypdfium2"]["peak_rss_mb"], 1),
        "spacy/jieba seconds": round(s["spacy_blank_zh_jieba"]["seconds"] / s["jieba"]["seconds"], 1),
        "spacy/jieba rss": round(s["spacy_blank_zh_jieba"]["peak_rss_mb"] / s["jieba"]["peak_rss_mb"], 1),
    }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
