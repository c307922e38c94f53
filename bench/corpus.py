"""Reproducible benchmark corpus (seeded; the same files on every machine).

    python bench/corpus.py [--quick] [--out bench/corpus]

- text/: Chinese text of 1 k, 10 k, 100 k, 1 M, 10 M characters (quick: up to 1 M), built from
  public news sentences (../shared/data/news, or a synthetic fallback) with planted findings at a
  known rate (one every PLANT_EVERY characters on average): ID numbers with a valid check digit,
  mobile numbers, bank card numbers (Luhn), e-mail addresses, private IP addresses and lexicon
  terms. Each text has a manifest entry with the planted counts per kind.
- texts_5k.jsonl: 200 texts of 5,000 characters for latency percentiles (same planting).
- doc/: a 100-page docx (python-docx) and a 100-page pdf (reportlab, CJK CID font).
- files/: 10,000 small mixed files (txt utf-8 and gb18030, html, docx, pdf; quick: 1,000).
The manifest (manifest.json) records the parameters; a second run with the same parameters
reuses the corpus.
"""
from __future__ import annotations

import argparse
import io
import json
import random
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
SEED = 20261127
PLANT_EVERY = 2000            # one planted finding per ~2,000 characters
SIZES = [1_000, 10_000, 100_000, 1_000_000, 10_000_000]
QUICK_SIZES = [1_000, 10_000, 100_000, 1_000_000]
VERSION = 4

# Terms planted as lexicon hits (term.internal anywhere in the text; 内部资料 and 注意保存 are
# markings only in marking positions, so they are not planted mid-text).
PLANT_TERMS = ["不得外传", "请勿扩散", "知悉范围", "仅限内部使用", "严禁外传"]


def _news_sentences() -> list[str]:
    out: list[str] = []
    for name in ("news/peoplesdaily_dev.jsonl", "news/msra_val.jsonl"):
        p = SHARED / "data" / name
        if p.exists():
            for line in p.open(encoding="utf-8"):
                t = json.loads(line).get("text", "").strip()
                if 8 <= len(t) <= 300:
                    out.append(t)
    if out:
        return out
    # synthetic fallback: common characters in sentence-like runs
    rng = random.Random(SEED)
    common = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面"
              "而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它")
    for _ in range(3000):
        n = rng.randint(12, 60)
        out.append("".join(rng.choice(common) for _ in range(n)) + "。")
    return out


# -- planted identifiers (all synthetic, all valid by their check rules) -----------------------

_REGIONS = ["110105", "310104", "440305", "330106", "510107", "420111", "320102", "610113"]


def make_id(rng: random.Random) -> str:
    from scanner.validators import id_check_char
    body = rng.choice(_REGIONS) + f"{rng.randint(1960, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}" \
        + f"{rng.randint(0, 999):03d}"
    return body + id_check_char(body)


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    from scanner.validators import luhn
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    return next(body + d for d in "0123456789" if luhn(body + d))


def make_bank(rng: random.Random) -> str:
    return _luhn_complete(rng.choice(["622202", "622848", "621700", "622588", "436742"]), rng.choice([16, 19]), rng)


def make_phone(rng: random.Random) -> str:
    return rng.choice(["139", "138", "186", "150", "177", "133"]) + f"{rng.randint(0, 99999999):08d}"


def make_email(rng: random.Random) -> str:
    user = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 9)))
    return f"{user}{rng.randint(1, 99)}@{rng.choice(['163.com', 'qq.com', 'example.cn', 'sina.com'])}"


def make_ip(rng: random.Random) -> str:
    return rng.choice([f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                       f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}"])


PLANTERS = {
    "pii.id_card": lambda r: f"身份证号{make_id(r)}",
    "pii.phone": lambda r: f"联系电话{make_phone(r)}",
    "pii.bank_card": lambda r: f"银行卡号{make_bank(r)}",
    "pii.email": lambda r: f"邮箱{make_email(r)}",
    "secret.intranet": lambda r: f"服务器地址{make_ip(r)}",
    "term": lambda r: r.choice(PLANT_TERMS),
}


class TextGen:
    """Paragraph lines of news sentences; a planted finding every ~PLANT_EVERY characters."""

    def __init__(self, seed: int = SEED):
        self.rng = random.Random(seed)
        self.sents = _news_sentences()

    def text(self, n_chars: int, plant_every: int = PLANT_EVERY) -> tuple[str, dict]:
        rng = self.rng
        parts: list[str] = []
        planted: dict[str, int] = {k: 0 for k in PLANTERS}
        size = 0
        next_plant = rng.randint(plant_every // 2, plant_every * 3 // 2)
        line = 0
        kinds = list(PLANTERS)
        while size < n_chars:
            para = []
            for _ in range(rng.randint(2, 6)):
                s = rng.choice(self.sents)
                para.append(s)
                size += len(s)
                if size >= next_plant:
                    k = kinds[rng.randrange(len(kinds))]
                    p = PLANTERS[k](rng) + "。"
                    para.append(p)
                    size += len(p)
                    planted[k] += 1
                    next_plant = size + rng.randint(plant_every // 2, plant_every * 3 // 2)
            parts.append("".join(para))
            size += 1
            line += 1
        t = "\n".join(parts)
        if len(t) > n_chars:     # cut at a line end near the target so planted items stay whole
            cut = t.rfind("\n", 0, n_chars)
            t = t[:cut] if cut > n_chars // 2 else t[:n_chars]
            planted = self._recount(t)
        return t, planted

    @staticmethod
    def _recount(t: str) -> dict[str, int]:
        return {"pii.id_card": t.count("身份证号"), "pii.phone": t.count("联系电话"),
                "pii.bank_card": t.count("银行卡号"), "pii.email": t.count("邮箱"),
                "secret.intranet": t.count("服务器地址"),
                "term": sum(t.count(x) for x in PLANT_TERMS)}


# -- documents ---------------------------------------------------------------------------------

def make_docx(path: Path, gen: TextGen, pages: int = 100, chars_per_page: int = 1200) -> dict:
    import docx
    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = "某单位工作简报"
    d.sections[0].footer.paragraphs[0].text = "第 1 页"
    planted_total: dict[str, int] = {}
    for p in range(pages):
        d.add_heading(f"第{p + 1}部分 工作情况", level=2)
        text, planted = gen.text(chars_per_page)
        for k, v in planted.items():
            planted_total[k] = planted_total.get(k, 0) + v
        for line in text.split("\n"):
            d.add_paragraph(line)
        if p % 10 == 0:
            t = d.add_table(rows=3, cols=3)
            for r in range(3):
                for c in range(3):
                    t.cell(r, c).text = f"项目{r}{c}"
        d.add_page_break()
    d.core_properties.author = "bench"
    d.save(str(path))
    return planted_total


def _pdf_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    try:
        pdfmetrics.getFont("STSong-Light")
    except KeyError:
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def make_pdf(path: Path | io.BytesIO, gen: TextGen, pages: int = 100, chars_per_page: int = 1200,
             line_chars: int = 38) -> dict:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas
    font = _pdf_font()
    c = canvas.Canvas(path if isinstance(path, io.BytesIO) else str(path), pagesize=A4)
    planted_total: dict[str, int] = {}
    _, height = A4
    for _ in range(pages):
        text, planted = gen.text(chars_per_page)
        for k, v in planted.items():
            planted_total[k] = planted_total.get(k, 0) + v
        c.setFont(font, 11)
        y = height - 60
        for para in text.split("\n"):
            for i in range(0, len(para), line_chars):
                c.drawString(50, y, para[i:i + line_chars])
                y -= 16
                if y < 50:
                    break
            if y < 50:
                break
        c.showPage()
    c.save()
    return planted_total


# A minimal docx written with zipfile: thousands of small files in seconds (python-docx ~5 ms each).
_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
       'wordprocessingml.document.main+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         'officeDocument" Target="word/document.xml"/></Relationships>')


def small_docx_bytes(text: str) -> bytes:
    from xml.sax.saxutils import escape
    paras = "".join(f"<w:p><w:r><w:t xml:space=\"preserve\">{escape(line)}</w:t></w:r></w:p>"
                    for line in text.split("\n"))
    doc = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           f'<w:body>{paras}</w:body></w:document>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("word/document.xml", doc)
    return buf.getvalue()


def make_files(folder: Path, gen: TextGen, n: int) -> dict:
    """n small files: 55 % txt utf-8, 10 % txt gb18030, 15 % html, 15 % docx, 5 % pdf;
    200-3,000 characters each, planted findings at a higher rate (one per ~800 characters)."""
    from html import escape
    rng = random.Random(SEED + 1)
    counts: dict[str, int] = {}
    total_bytes = 0
    for i in range(n):
        sub = folder / f"d{i // 500:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        text, _ = gen.text(rng.randint(200, 3000), plant_every=800)
        r = rng.random()
        if r < 0.55:
            kind, name, data = "txt", f"f{i:05d}.txt", text.encode("utf-8")
        elif r < 0.65:
            kind, name, data = "txt-gb18030", f"f{i:05d}.txt", text.encode("gb18030")
        elif r < 0.80:
            body = "".join(f"<p>{escape(x)}</p>" for x in text.split("\n"))
            kind, name = "html", f"f{i:05d}.html"
            data = f"<!doctype html><html><head><meta charset=\"utf-8\"><title>通知{i}</title></head><body>{body}</body></html>".encode()
        elif r < 0.95:
            kind, name, data = "docx", f"f{i:05d}.docx", small_docx_bytes(text)
        else:
            buf = io.BytesIO()
            make_pdf(buf, gen, pages=1, chars_per_page=min(len(text), 1200))
            kind, name, data = "pdf", f"f{i:05d}.pdf", buf.getvalue()
        (sub / name).write_bytes(data)
        counts[kind] = counts.get(kind, 0) + 1
        total_bytes += len(data)
    return {"files": n, "kinds": counts, "bytes": total_bytes}


def build(out: Path, quick: bool = False, force: bool = False, log=print) -> dict:
    params = {"version": VERSION, "seed": SEED, "quick": quick, "plant_every": PLANT_EVERY}
    mpath = out / "manifest.json"
    if mpath.exists() and not force:
        m = json.loads(mpath.read_text())
        if m.get("params") == params:
            return m
    out.mkdir(parents=True, exist_ok=True)
    gen = TextGen(SEED)
    manifest: dict = {"params": params, "texts": {}, "docs": {}, "files": {}}
    (out / "text").mkdir(exist_ok=True)
    for n in (QUICK_SIZES if quick else SIZES):
        log(f"[corpus] text {n:,} chars")
        if n <= 1_000_000:
            t, planted = gen.text(n)
        else:      # build large texts from 1 M blocks (the generator cost is per character anyway)
            blocks = [gen.text(1_000_000) for _ in range(n // 1_000_000)]
            t = "\n".join(b[0] for b in blocks)
            planted = {k: sum(b[1][k] for b in blocks) for k in blocks[0][1]}
        p = out / "text" / f"text_{n}.txt"
        p.write_text(t, encoding="utf-8")
        manifest["texts"][str(n)] = {"path": str(p.relative_to(out)), "chars": len(t),
                                     "bytes": p.stat().st_size, "planted": planted}
    log("[corpus] 200 × 5,000-character texts")
    with open(out / "texts_5k.jsonl", "w", encoding="utf-8") as fh:
        for _ in range(200):
            t, planted = gen.text(5000)
            fh.write(json.dumps({"text": t, "planted": planted}, ensure_ascii=False) + "\n")
    (out / "doc").mkdir(exist_ok=True)
    log("[corpus] 100-page docx and pdf")
    manifest["docs"]["docx_100p"] = {"path": "doc/bench_100p.docx",
                                     "planted": make_docx(out / "doc" / "bench_100p.docx", gen)}
    manifest["docs"]["pdf_100p"] = {"path": "doc/bench_100p.pdf",
                                    "planted": make_pdf(out / "doc" / "bench_100p.pdf", gen)}
    n_files = 1_000 if quick else 10_000
    log(f"[corpus] {n_files:,} small mixed files")
    import shutil
    shutil.rmtree(out / "files", ignore_errors=True)
    manifest["files"] = make_files(out / "files", gen, n_files)
    manifest["files"]["path"] = "files"
    mpath.write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate the benchmark corpus")
    ap.add_argument("--out", default=None, help="default bench/corpus (quick: bench/corpus-quick), as run.py")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--force", action="store_true")
    a = ap.parse_args(argv)
    out = Path(a.out) if a.out else HERE / ("corpus-quick" if a.quick else "corpus")
    m = build(out, quick=a.quick, force=a.force, log=lambda s: print(s, file=sys.stderr))
    print(json.dumps({k: m[k] for k in ("params", "files")}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
