"""The names tagger's default scope ("relevant") reports exactly what tagging every segment
reports (issue 17): it skips only segments where whatever the tagger found would be dropped by
names_report="relevant" (scanner/detectors/names.py, ADDRESS_CUE_RE and what follows).

Checked on real text: the shared news and NER sentences (grouped into documents of lines), the
shared evaluation's dev cases built as files, the bench corpus's 5,000-character texts when they
have been generated, and the real-document set (tests/realdocs/files) when it is present.
"""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from scanner import get_scanner
from scanner.detectors.names import ADDRESS_CUE_RE, PERSONAL_CUE_RE, NamesDetector, is_specific_address
from scanner.harmrules import PERSONAL
from scanner.detectors.base import ScanContext
from scanner.model import Document
from scanner.normalize import normalize
from scanner.rules import Ruleset, default_lexicon_dir
from training.common import DATA

ROOT = Path(__file__).resolve().parents[3]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="module")
def pair():
    """(the default scanner, the same scanner with the tagger reading every segment)."""
    scoped = get_scanner()
    det = next(d for d in scoped.detectors if isinstance(d, NamesDetector))
    assert det.scope == "relevant"
    everything = copy.copy(det)
    everything.scope = "all"
    full = copy.copy(scoped)
    full.detectors = [everything if d is det else d for d in scoped.detectors]
    return scoped, full, det


def _key(report) -> tuple:
    return (report.decision, report.risk_score,
            [(f.segment_id, f.start, f.end, f.category, f.rule_id, f.severity, f.confidence,
              tuple(f.evidence), f.explanation) for f in report.findings])


def _check(pair, docs: list[Document]) -> tuple[int, int]:
    """Every document reports the same with both scanners; -> (characters the scoped tagger
    reads, characters of the documents)."""
    scoped, full, det = pair
    read = total = 0
    for doc in docs:
        a, b = scoped.scan_document(copy.deepcopy(doc)), full.scan_document(copy.deepcopy(doc))
        assert _key(a) == _key(b), doc.source
        ctx = ScanContext.of(doc)
        hot = det.relevant_segments(ctx)
        read += sum(len(s.text) for s in doc.segments if s.id in hot)
        total += sum(len(s.text) for s in doc.segments)
    return read, total


def _docs_of_lines(texts: list[str], per_doc: int, name: str) -> list[Document]:
    docs = []
    for k in range(0, len(texts), per_doc):
        doc = Document(source=f"{name}-{k}", sha256="0" * 64, media_type="text/plain")
        for line in texts[k:k + per_doc]:
            doc.add("body", line)
        docs.append(doc)
    return docs


def _jsonl(path: Path, n: int) -> list[str]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            out.append(json.loads(line)["text"])
            if len(out) == n:
                break
    return out


def test_personal_data_rules_always_hold_the_cue():
    """Every example match of a personal-data rule holds PERSONAL_CUE_RE (or, for addresses,
    ADDRESS_CUE_RE): a new rule whose matches do not must widen the cue."""
    rs = Ruleset.load(default_lexicon_dir())
    checked = 0
    for rule in rs.rules:
        if not rule.category.startswith(PERSONAL):
            continue
        cue = ADDRESS_CUE_RE if rule.category == "pii.address" else PERSONAL_CUE_RE
        for ex in rule.examples_true:
            text = normalize(ex).text
            for m in rule.regex.finditer(text):
                assert cue.search(m.group()), (rule.id, ex)
                checked += 1
    assert checked >= 20


def test_specific_addresses_always_hold_the_address_cue():
    """is_specific_address needs a numbered unit, which ADDRESS_CUE_RE finds (on the shared
    address corpus: every specific address span and every prefix and suffix of its text)."""
    seen = 0
    for text in _jsonl(DATA / "address" / "address_train.jsonl", 3000):
        for a in range(0, len(text), 3):
            for b in range(a + 4, len(text) + 1, 2):
                if is_specific_address(text[a:b]):
                    assert ADDRESS_CUE_RE.search(text[a:b]), text[a:b]
                    seen += 1
    assert seen > 1000


def test_segments_the_relevant_scope_reads(pair):
    det = pair[2]
    doc = Document(source="t", sha256="0" * 64, media_type="text/plain")
    lines = ["在昨晚结束的比赛中，主队逆转取胜。",           # 0: nothing: not read
             "王建国参加了会议。",                          # 1: the line before a personnel cue
             "姓名：李秀英",                                # 2: the personnel cue
             "会议讨论了明年的计划。",                       # 3: the line after it
             "天气晴。",                                    # 4
             "请联系马晓东，电话139 1234",                   # 5: a phone number split over two lines
             "5678。",                                     # 6
             "地址：人民路十二号院。",                       # 7: a numbered unit in Chinese numerals
             "联系邮箱 a@b.cn，经办人张三。"]                 # 8: an e-mail
    for t in lines:
        doc.add("body", t)
    doc.add("metadata", "张三", field="author")
    doc.add("body", "赵四", table=0, row=1, col=0)      # a table cell in another layer's name
    hot = det.relevant_segments(ScanContext.of(doc))
    assert hot == {1, 2, 3, 5, 6, 7, 8, 9, 10}


@pytest.mark.slow
def test_group_words_widen_the_scope_only_where_harm_reads_them(pair):
    """A bare group word (学生) makes only its own line read: harm keeps a name it labels there
    (员工王建国); a group-word label (获奖学生：) reaches the neighbours too, like the personnel cue."""
    det = pair[2]
    doc = Document(source="t", sha256="0" * 64, media_type="text/plain")
    lines = ["王建国出席了开幕式。",                         # 0: before a bare group word: not read
             "全市学生参加了运动会。",                       # 1: a bare group word: read
             "李秀英致辞。",                                 # 2: after it: not read
             "天气晴。",                                     # 3
             "马晓东主持。",                                 # 4: before a group label: read
             "获奖学生：",                                   # 5: the label
             "张三、李四"]                                   # 6: after it: read
    for t in lines:
        doc.add("body", t)
    ctx = ScanContext.of(doc)
    assert det.relevant_segments(ctx) == {1, 4, 5, 6}
    assert det.relevant_scope(ctx) == ({4, 5, 6}, {1})


def test_the_scope_reads_the_group_words_harm_keeps_names_by(tmp_path):
    """One home: the scope's cues are built from the HarmRules of the scanner's lexicons/harm.toml.
    A group word added there (选手, not one by default) makes harm keep the name it labels and the
    scope read its sentence and the label's neighbours, with no second list to edit."""
    import shutil

    from scanner import Scanner
    shutil.copytree(default_lexicon_dir(), tmp_path / "lex")
    harm_toml = tmp_path / "lex" / "harm.toml"
    text = harm_toml.read_text(encoding="utf-8")
    assert "group_words = '''员工|" in text and "选手" not in text.split("group_words = ")[1].split("\n")[0]
    harm_toml.write_text(text.replace("group_words = '''员工|", "group_words = '''选手|员工|"), encoding="utf-8")
    doc_lines = ["本届运动会圆满落幕。", "获奖选手：", "唐雨婷、马晓东", "参赛选手王建国发表感言。"]

    def report(scanner):
        doc = Document(source="t", sha256="0" * 64, media_type="text/plain")
        for t in doc_lines:
            doc.add("body", t)
        det = next(d for d in scanner.detectors if isinstance(d, NamesDetector))
        return det.relevant_scope(ScanContext.of(doc)), scanner.scan_document(doc)
    (whole, part), rep = report(Scanner(lexicon_dir=tmp_path / "lex"))
    assert (whole, part) == ({0, 1, 2}, {3})
    names = {(f.segment_id, doc_lines[f.segment_id][f.start:f.end]) for f in rep.findings if f.category == "pii.name"}
    assert {(2, "唐雨婷"), (2, "马晓东"), (3, "王建国")} <= names, names
    (whole, part), rep = report(get_scanner())                      # the shipped words: none of them
    assert (whole, part) == (set(), set())
    assert not [f for f in rep.findings if f.category == "pii.name"]


def test_a_bare_group_word_makes_only_its_sentence_read(pair):
    """Of a segment read only for a group word, the tagger reads the sentences holding one: the
    name the word labels (员工王建国) is in the word's sentence."""
    det = pair[2]
    doc = Document(source="t", sha256="0" * 64, media_type="text/plain")
    text = "王建国出席了开幕式。全市学生参加了运动会；优秀员工李秀英发言。天气晴。"
    doc.add("body", text)
    jobs = det._jobs(ScanContext.of(doc))
    assert [text[a:b] for _, a, b in jobs] == ["全市学生参加了运动会；", "优秀员工李秀英发言。"]


def test_scoped_tagger_reports_the_same_on_shared_text(pair):
    docs = []
    for name, n, per_doc in (("news/peoplesdaily_dev.jsonl", 800, 8), ("news/msra_val.jsonl", 400, 8),
                             ("ner/cluener_train.jsonl", 800, 8), ("ner/weibo_train.jsonl", 400, 4),
                             ("address/address_train.jsonl", 200, 4)):
        docs += _docs_of_lines(_jsonl(DATA / name, n), per_doc, name)
    read, total = _check(pair, docs)
    assert 0 < read < total


def test_scoped_tagger_reports_the_same_on_the_dev_cases(pair, tmp_path):
    build = SHARED / "eval" / "build.py"
    if not build.exists():
        pytest.skip("../shared/eval absent")
    subprocess.run([sys.executable, str(build), str(SHARED / "eval" / "dev_cases.py"), str(tmp_path)],
                   check=True, capture_output=True)
    from scanner.extract import extract
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".jsonl" and p.name != "labels.json")
    assert len(files) >= 20
    _check(pair, [extract(p) for p in files])


@pytest.mark.slow
def test_scoped_tagger_reports_the_same_on_the_bench_texts(pair):
    path = ROOT / "bench" / "corpus" / "texts_5k.jsonl"
    if path.exists():
        texts = list(_jsonl(path, 60))
    else:       # not generated here: the same generator (bench/corpus.py TextGen, seeded), 60 texts
        import importlib.util
        spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "bench" / "corpus.py")
        corpus = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(corpus)
        gen = corpus.TextGen(corpus.SEED)
        texts = [gen.text(5000)[0] for _ in range(60)]
    from scanner.extract.txt import add_lines
    docs = []
    for k, text in enumerate(texts):
        doc = Document(source=f"bench-{k}", sha256="0" * 64, media_type="text/plain")
        add_lines(doc, text, "body")
        docs.append(doc)
    read, total = _check(pair, docs)
    assert read < 0.8 * total


@pytest.mark.slow
def test_scoped_tagger_reports_the_same_on_the_real_documents(pair):
    base = ROOT / "tests" / "realdocs" / "files"
    if not base.is_dir() or not any(base.iterdir()):
        pytest.skip("real-document files absent: run `make realdocs`")
    from scanner.extract import extract
    from scanner.extract.ocr import OcrOptions
    files = sorted(p for p in base.rglob("*") if p.is_file())
    docs = [extract(p, ocr=OcrOptions(enabled=False)) for p in files]
    read, total = _check(pair, docs)
    assert 0 < read < total


def test_documents_scanned_together_report_as_scanned_alone(pair):
    """Scanner.scan_documents (the batch's chunks: the tagger over every document at once)."""
    scoped = pair[0]
    docs = _docs_of_lines(_jsonl(DATA / "ner" / "cluener_train.jsonl", 240), 6, "cluener")
    # names where they matter (a form label, personal data, a group word labelling the name): the
    # Weibo/news lines of CLUENER hold almost none since group words count only as labels
    docs += _docs_of_lines(["姓名：王建国", "王建国住人民路12号3单元502室，电话13912345678。",
                            "员工李秀英于2020年入职。"], 3, "person")
    together = scoped.scan_documents([copy.deepcopy(d) for d in docs])
    alone = [scoped.scan_document(copy.deepcopy(d)) for d in docs]
    assert [_key(r) for r in together] == [_key(r) for r in alone]
    assert sum(f.category == "pii.name" for r in together for f in r.findings) >= 3


def test_scope_from_the_rules_findings_reports_as_tagging_everything(pair):
    """Where names matter and where they only seem to: the scope built from what the rules found
    (personal data at medium or above, ctx.found) and the two-step address segments give the same
    report as tagging every segment, on lines made to test the edges."""
    lines = ["王建国住人民路12号3单元502室，李秀英陪同。",            # an address: the whole line matters
             "会议于2026-12-03在3号楼召开，马晓东主持。",            # address cue, no specific address
             "张三的手机13912345678，请转告李四。",                  # personal data: the whole line
             "联系人：赵六，电话0771-2851243，某某有限公司，统一社会信用代码91450100MA5KXXXX0A。",
             "唐雨婷于2020.12.31发表讲话。",                        # a date is no personal data
             "员工王建国于12号报到；刘洋出席。",                     # a group word and an address cue
             "邮箱 zhangwei@example.cn，张伟负责。"]
    docs = []
    for k in range(len(lines)):
        doc = Document(source=f"edge-{k}", sha256="0" * 64, media_type="text/plain")
        for t in lines[k:] + lines[:k]:
            doc.add("body", t)
        docs.append(doc)
    _check(pair, docs)
    scoped = pair[0]
    rep = scoped.scan_document(copy.deepcopy(docs[0]))
    names = {lines[f.segment_id][f.start:f.end] for f in rep.findings if f.category == "pii.name"}
    assert {"王建国", "李秀英", "张三", "李四"} <= names, names


def test_the_scope_reads_what_the_rules_found_not_every_digit_chain(pair):
    """With the rules' findings at hand, a date (a chain of digits) makes nothing read; a phone the
    rules found makes its line read; an address cue without a specific address reads only its
    sentence."""
    det = pair[2]
    scoped = pair[0]
    doc = Document(source="t", sha256="0" * 64, media_type="text/plain")
    lines = ["唐雨婷于2020.12.31发表讲话。", "天气晴。", "张三电话13912345678。", "天气晴。",
             "会议在3号楼召开。马晓东主持。"]
    for t in lines:
        doc.add("body", t)
    ctx = ScanContext.of(doc)
    assert det.relevant_scope(ctx) == ({0, 2}, {4})       # alone: the digit-chain cue stands in
    ctx.found = [f for d in scoped.detectors if d is not det for f in d.detect(ctx)]
    assert det.relevant_scope(ctx) == ({2}, {4})
    jobs = det._jobs(ctx)
    assert [lines[k][a:b] for k, a, b in jobs] == ["张三电话13912345678。", "会议在3号楼召开。"]
