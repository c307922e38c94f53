"""The fast paths of the models compute what the plain ones do (issue 17, full-mode speed).

- regex first-character guards (scanner/detectors/_firstchar.py): the same matches; the Finder
  (a search on the first-character class, then a match) = finditer, span for span;
- passage sentences and units on a text without a backslash (a simpler pattern) = SENT_RE's;
- passage TF-IDF over the whole text at once (tfidf_spans) = TF-IDF unit by unit (tfidf);
- hash-table lookups (scanner/detectors/_hashtable.py) = binary search;
- passage 1-grams read from a dense table of the BMP = looked up in the hash table; the
  explanation's heat spread by numpy = gram by gram with str.find, to the bit;
- names: dense-table emissions = every feature code looked up; the batched Viterbi = brute force
  and = the plain step (a max over the middle axis), label for label; spans of all paths at once =
  path by path; lattice marks of both lattices at once = one lattice at a time, and = both
  lattices' codes in one table (LatticeUnion), every length looked up at once.
"""
from __future__ import annotations

import itertools
import json
import random
import re

import numpy as np
import pytest

from scanner.detectors import _hashtable, _models
from scanner.detectors._firstchar import Finder, guarded
from scanner.detectors.names import MODEL_FILE as NAMES_FILE
from scanner.detectors.names_tagger import (LatticeUnion, Tagger, allowed_transitions, encode, lattice_marks,
                                            spans_of_paths, viterbi_batch)
from scanner.detectors.passage import MODEL_FILE as PASSAGE_FILE
from scanner.detectors.passage import (_LITERAL_BREAK_RE, ARTICLE_RE, SENT_RE, PassageModel, _spans_safe, gram_of, load_lexicon,
                                      line_space, sentences, spread_heat, tfidf, tfidf_spans, unigram_columns,
                                      units)
from training.common import DATA

NEWS = DATA / "news" / "peoplesdaily_dev.jsonl"


def _texts(n: int = 30) -> list[str]:
    rng = random.Random(7)
    sents = [json.loads(line)["text"] for line in NEWS.open(encoding="utf-8")]
    extra = ["经查，张某（男，45岁，身份证号110105198001011234）住朝阳区幸福路12号3单元502室。",
             "拟于下周三9:30经长安街前往某基地，端口8443、IP 10.2.3.4，admin/口令未修复。",
             "甲  乙丙丁。\t\t戊己庚。  \n  辛壬癸  \x00 子丑寅卯。", "a\u3000\u3000b。c d。", "王𠀋华在北京见了李四。"]
    out = []
    for _ in range(n):
        lines = ["".join(rng.choice(sents) for _ in range(rng.randint(1, 5))) for _ in range(rng.randint(1, 4))]
        out.append("\n".join(lines))
    return out + extra


def test_first_character_guard_keeps_every_match():
    patterns = [spec["pattern"] for spec in load_lexicon()["cue"].values()]
    patterns += [r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}", r"\d+岁|先生", r"a*b", r".?x", r"[^a]b"]
    texts = _texts()
    changed = 0
    for p in patterns:
        g = guarded(p)
        changed += g != p
        r1, r2 = re.compile(p), re.compile(g)
        for t in texts:
            assert [m.span() for m in r1.finditer(t)] == [m.span() for m in r2.finditer(t)], p
    assert changed >= 6          # the slow cue patterns do get a guard
    assert guarded(r"a*b") == r"a*b" or re.compile(guarded(r"a*b")).findall("aab b") == ["aab", "b"]
    assert guarded(r".?x") == r".?x"     # cannot be bounded: unchanged


def test_finder_spans_are_finditer_spans():
    patterns = [spec["pattern"] for spec in load_lexicon()["cue"].values()]
    patterns += [r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}", r"\d+岁|先生", r"a*b", r".?x", r"[^a]b", r"(?<=a)[bc]+|\s+x",
                 r"[一二三]{1,3}[时点]|^第", r"(?m)^[甲乙]方", r"\b[A-Z]\w+", ARTICLE_RE.pattern]
    texts = _texts() + ["aab b abcx  x", "一二三时第二点\n甲方乙方 Foo", "", "b", "第一条 总则\n  第二条\n第3条。第四条"]
    found = 0
    for p in patterns:
        f = Finder(p)
        found += f.finder is not None
        r = re.compile(p)
        for t in texts:
            want = [m.span() for m in r.finditer(t)]
            assert f.spans(t) == want, p
    assert found >= 12            # most cue patterns do take the finder path


def test_line_space_is_what_the_pattern_matches():
    text = "".join(chr(c) for c in range(0x3100)) + "\U00020000 \U0001F600\u3000\n\t\x1c\x85\xa0\u2028"
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    want = np.zeros(len(text), dtype=bool)
    want[[m.start() for m in re.finditer(r"[^\S\n]", text)]] = True
    assert np.array_equal(line_space(cps), want) and want.sum() >= 25


def _sentences_plain(text):
    return [(m.start(), m.end()) for m in SENT_RE.finditer(text) if m.group("brk") is None and m.group().strip()]


def _units_plain(text):
    sents = _sentences_plain(text)
    out = [(a, b, 1) for a, b in sents]
    for (a, _), (_c, d) in zip(sents, sents[1:]):
        if "\n" not in text[a:d] and not ("\\" in text[a:d] and _LITERAL_BREAK_RE.search(text, a, d)):
            out.append((a, d, 2))
    return out


def test_sentences_without_a_backslash_as_with_sent_re():
    texts = _texts() + ["  。 \n\n x。y！z”", "\u3000\u3000。", "abc", "", "。。", "x\n\ny。z", "第一句。\n\n第二句！第三句？」"]
    texts += ["带\\n字面换行。下一句\\r\\n再一句。", "路径\\nginx 配置。另一句。"]      # the other path, unchanged
    plain = 0
    for t in texts:
        plain += "\\" not in t
        assert sentences(t) == _sentences_plain(t), t
        assert units(t) == _units_plain(t), t
    assert plain >= len(texts) - 2 and any(n == 2 for t in texts for _, _, n in units(t))


@pytest.fixture(scope="module")
def passage():
    return PassageModel(_models.load_npz(PASSAGE_FILE))


def test_tfidf_over_the_whole_text_equals_unit_by_unit(passage):
    for t in _texts():
        us = units(t)
        s = np.array([a for a, _, _ in us], dtype=np.int64)
        e = np.array([b for _, b, _ in us], dtype=np.int64)
        assert _spans_safe(t, s, e)
        a = tfidf([t[i:j] for i, j in zip(s, e)], passage.vocab, passage.idf)
        for table in (None, passage.table):
            b = tfidf_spans(t, s, e, passage.vocab, passage.idf, table)
            assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
            assert np.array_equal(a.data, b.data)


def test_unigrams_from_the_dense_table_equal_the_hashed_lookup(passage):
    uni = unigram_columns(passage.vocab)
    assert (uni >= 0).sum() > 3000 and uni[ord("的")] >= 0
    for t in _texts() + ["王𠀋华在北京见了李四，𠀋𠀋。", "\U0001F600 表情"]:
        us = units(t)
        s = np.array([a for a, _, _ in us], dtype=np.int64)
        e = np.array([b for _, b, _ in us], dtype=np.int64)
        a = tfidf_spans(t, s, e, passage.vocab, passage.idf, passage.table, passage.table_disp)
        b = tfidf_spans(t, s, e, passage.vocab, passage.idf, passage.table, passage.table_disp, uni)
        assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
        assert np.array_equal(a.data, b.data)


def _heat_by_find(t: str, codes, contrib) -> np.ndarray:
    heat = np.zeros(len(t))
    for code, v in zip(codes, contrib):
        g = gram_of(int(code))
        share = v / len(g)
        p = t.find(g)
        while p >= 0:
            heat[p:p + len(g)] += share
            p = t.find(g, p + 1)
    return heat


def test_explanation_heat_equals_the_find_loop(passage):
    checked = 0
    for text in _texts(12) + ["啊啊啊啊啊啊", "拟  于\x00下周 三", "王𠀋华在北京"]:
        for a, b, _ in units(text):
            u = text[a:b]
            X = tfidf([u], passage.vocab, passage.idf)
            if X.indices.size == 0:
                continue
            t = re.sub(r"\s\s+", " ", u)
            for label in range(len(passage.labels)):
                contrib = X.data * (passage.W[X.indices, label] - passage.W[X.indices, passage.public])
                up = np.nonzero(contrib > 0)[0]
                codes = passage.vocab[X.indices[up]]
                assert np.array_equal(spread_heat(t, codes, contrib[up]), _heat_by_find(t, codes, contrib[up]))
                checked += 1
    assert checked > 500


def test_units_across_a_newline_or_inside_a_space_run_take_the_plain_path():
    t = "甲乙  丙丁\n戊己"
    assert not _spans_safe(t, np.array([0]), np.array([len(t)]))
    assert not _spans_safe(t, np.array([0]), np.array([3]))
    assert _spans_safe(t, np.array([0, 7]), np.array([6, 9]))


def test_hash_table_lookup_equals_binary_search():
    rng = np.random.default_rng(3)
    for mixed in (False, True):
        keys = np.unique(rng.integers(0, 2 ** 62, 5000)) if not mixed else np.unique(rng.integers(0, 2 ** 40, 5000))
        tk, tv = _hashtable.build(keys, mixed=mixed, missing=-1)
        q = np.concatenate([keys[rng.integers(0, keys.size, 3000)], rng.integers(0, 2 ** 40, 3000)])
        j = np.searchsorted(keys, q)
        j[j >= keys.size] = 0
        want = np.where(keys[j] == q, j, -1)
        assert np.array_equal(_hashtable.lookup(tk, tv, q, -1, mixed=mixed), want)
        # the rest of a chain read at once, up to the table's largest displacement
        disp = _hashtable.max_displacement(tk, mixed=mixed)
        assert disp > 2                     # so the one-gather path runs
        assert np.array_equal(_hashtable.lookup(tk, tv, q, -1, mixed=mixed, max_disp=disp), want)
    # a crowded table (every key aimed at a few home slots): long chains, misses beyond them
    keys = np.arange(0, 64 * 1024, 1024, dtype=np.int64)          # 64 keys, low bits all zero
    tk, tv = _hashtable.build(keys, mixed=False, missing=-1)
    disp = _hashtable.max_displacement(tk)
    assert disp == keys.size - 1
    q = np.concatenate([keys, keys + 1, keys + 64 * 1024])
    want = np.concatenate([np.arange(keys.size), np.full(2 * keys.size, -1)])
    assert np.array_equal(_hashtable.lookup(tk, tv, q, -1, max_disp=disp), want)
    assert np.array_equal(_hashtable.lookup(tk, tv, q, -1), want)


@pytest.fixture(scope="module")
def tagger():
    return Tagger(_models.load_npz(NAMES_FILE))


def test_dense_emissions_equal_looked_up_features(tagger):
    texts = [line for t in _texts(10) for line in t.split("\n") if line]
    a = tagger.emissions_hashed(texts)
    b = tagger.emissions(texts)
    assert a.shape == b.shape
    assert np.abs(a - b).max() < 1e-3


def test_batched_viterbi_is_the_best_path():
    rng = np.random.default_rng(5)
    L = 7
    trans = (rng.normal(size=(L + 1, L)) + allowed_transitions()).astype(np.float32)
    lengths = [4, 1, 3, 5, 2, 5]
    emis = rng.normal(size=(sum(lengths), L))
    paths = viterbi_batch(emis, lengths, trans)
    pos = 0
    for n, got in zip(lengths, paths):
        e = emis[pos:pos + n]
        pos += n

        def score(seq, e=e):
            s, prev = 0.0, L
            for t, y in enumerate(seq):
                s += trans[prev, y] + e[t, y]
                prev = y
            return s
        best = max(itertools.product(range(L), repeat=n), key=score)
        assert score(tuple(got)) == pytest.approx(score(best))


def test_spans_from_a_constrained_path_are_the_plain_ones():
    from scanner.detectors.names_tagger import spans_from_tags, spans_from_tags_fast
    rng = np.random.default_rng(11)
    trans = (rng.normal(size=(8, 7)) + allowed_transitions()).astype(np.float32)
    lengths = [int(x) for x in rng.integers(1, 40, 60)]
    for p in viterbi_batch(rng.normal(size=(sum(lengths), 7)) * 2, lengths, trans):
        assert spans_from_tags_fast(p) == spans_from_tags(p)


def _viterbi_plain(emis, lengths, trans):
    """Text by text, the step written out: dp[prev] + trans[prev, cur], max and argmax over prev."""
    L = emis.shape[1]
    out, pos = [], 0
    for n in lengths:
        e = emis[pos:pos + n].astype(np.float64)
        pos += n
        dp = e[0] + trans[L]
        back = np.zeros((n, L), dtype=np.int64)
        for t in range(1, n):
            s = dp[:, None] + trans[:L].astype(np.float64)
            back[t] = s.argmax(0)
            dp = s.max(0) + e[t]
        k = int(dp.argmax())
        path = [k]
        for t in range(n - 1, 0, -1):
            k = int(back[t, k])
            path.append(k)
        out.append(np.array(path[::-1]))
    return out


def test_batched_viterbi_equals_the_plain_step_on_real_emissions(tagger):
    texts = [s for t in _texts(20) for s in re.split("(?<=[。；])|\n", t) if s]
    emis = tagger.emissions(texts)
    got = viterbi_batch(emis, [len(t) for t in texts], tagger.trans)
    want = _viterbi_plain(emis, [len(t) for t in texts], tagger.trans)
    assert len(got) == len(want) == len(texts)
    for g, w in zip(got, want):
        assert g.tolist() == w.tolist()
    assert sum((g != 0).sum() for g in got) > 20          # names and places were tagged


def test_spans_of_all_paths_at_once_are_the_spans_path_by_path():
    from scanner.detectors.names_tagger import spans_from_tags
    rng = np.random.default_rng(3)
    trans = (rng.normal(size=(8, 7)) + allowed_transitions()).astype(np.float32)
    lengths = [int(x) for x in rng.integers(1, 30, 80)]
    paths = viterbi_batch(rng.normal(size=(sum(lengths), 7)) * 2, lengths, trans)
    assert spans_of_paths(paths) == [spans_from_tags(p) for p in paths]
    assert spans_of_paths([]) == [] and spans_of_paths([np.zeros(3, dtype=np.int64)]) == [[]]


def test_lattice_marks_at_once_equal_one_lattice_at_a_time(tagger):
    texts = [line for t in _texts(10) for line in t.split("\n") if line]
    cps, _, valid = encode(texts)
    both = lattice_marks([tagger.dict, tagger.gaz], cps, valid)
    for lat, got in zip((tagger.dict, tagger.gaz), both):
        want = np.zeros(cps.size, dtype=np.int64)
        for L in range(2, 5):               # every string of L real characters, looked up alone
            for p in range(cps.size - L + 1):
                if valid[p:p + L].all():
                    lat.mark_hits(want, np.array([p]), np.array([_word_code(cps, p, L)]), L)
        assert (got == want).all()
        assert got.any()


def test_lattice_union_marks_equal_each_lattice_alone(tagger):
    texts = [line for t in _texts(10) for line in t.split("\n") if line] + ["王𠀋华住在人民路十二号"]
    cps, _, valid = encode(texts)
    lats = [tagger.dict, tagger.gaz]
    union = LatticeUnion(lats)
    assert union.size < tagger.dict.codes.size + tagger.gaz.codes.size     # shared strings stored once
    got = lattice_marks(lats, cps, valid, union)
    want = lattice_marks(lats, cps, valid)
    for g, w in zip(got, want):
        assert np.array_equal(g, w) and g.any()
    with pytest.raises(ValueError):
        lattice_marks([tagger.gaz], cps, valid, union)


def test_lattice_union_keeps_the_first_of_equal_codes():
    """A lattice with one code twice (a hash collision between two strings) marks the first
    string's category, as its own table's lookup does."""
    from scanner.detectors.names_tagger import Lattice
    lat = Lattice(np.array([5, 9, 5], dtype=np.int64), np.array([1, 2, 3], dtype=np.int64))
    other = Lattice(np.array([9], dtype=np.int64), np.array([0], dtype=np.int64))
    union = LatticeUnion([lat, other])
    tk, tv = lat.table()
    k = union.tv[np.nonzero(union.tk == 5)[0][0]]
    assert lat.cats[union.rows[0][k]] == lat.cats[tv[np.nonzero(tk == 5)[0][0]]] == 1
    assert union.rows[1][k] == -1


def _word_code(cps, p, L):
    from scanner.detectors.names_tagger import word_codes
    return int(word_codes(cps, np.array([p]), L)[0])


def test_warm_loads_what_detectors_load_on_first_use():
    """Scanner.warm (the batch pool calls it before forking): the names tagger's dense and lattice
    tables and the explanations' segmenter exist afterwards, so workers inherit them."""
    from scanner import get_scanner
    from scanner.detectors import passage as passage_mod
    from scanner.detectors.names import NamesDetector
    sc = get_scanner()
    assert sc.warm() is sc
    names = next(d for d in sc.detectors if isinstance(d, NamesDetector))
    assert hasattr(names.model, "_uni") and names.model.dict is not None and names.model._union.size > 0
    assert passage_mod._JIEBA is not None


def test_passage_units_of_several_texts_at_once_equal_text_by_text():
    """PassageDetector.flagged_many (the batch's chunks) = flagged of each text, risks to the bit,
    with texts that have no unit, a law (normative: nothing flagged) and unsafe spacing among them."""
    from scanner import get_scanner
    from scanner.detectors.passage import PassageDetector
    det = next(d for d in get_scanner().detectors if isinstance(d, PassageDetector))
    flagged_texts = ["根据会议安排，拟于下周三上午9:30经长安街前往某基地考察，行程暂不对外公布。",
                     "该系统存在SQL注入漏洞，尚未修复，服务器IP 10.2.3.4，请勿外传。",
                     "并购方案拟以每股12.5元收购，尚未公告，谈判底价不低于8亿元。"]
    law = "\n".join(f"第{n}条 本法所称国家秘密，是指关系国家安全和利益的事项。" for n in "一二三四")
    texts = _texts(24) + flagged_texts + ["", "短句。", law, "甲  乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未。  \n  申酉戌亥。"]
    alone = [det.flagged(t) for t in texts]
    for size in (1, 3, 8, len(texts)):
        together = [f for k in range(0, len(texts), size) for f in det.flagged_many(texts[k:k + size])]
        assert together == alone
    assert sum(map(len, alone)) >= 3 and alone[-2] == []


def test_dense_tables_built_by_threads_at_once_are_never_seen_half_built():
    """The first emissions() builds the dense tables (~0.3 s); a thread that starts meanwhile (the
    service warms its scanner in the background while the first requests arrive) either builds
    them too or finds all of them, never some: every thread gets the emissions a tagger built
    alone gives. Threads start 20 ms apart, so some start while the first one is building."""
    import threading
    import time

    texts = [line for t in _texts(3) for line in t.split("\n") if line][:20]
    want = Tagger(_models.load_npz(NAMES_FILE)).emissions(texts)
    fresh = Tagger(_models.load_npz(NAMES_FILE))
    got: list = []
    errors: list = []

    def run() -> None:
        try:
            got.append(fresh.emissions(texts))
        except Exception as exc:        # e.g. AttributeError: a table not yet set
            errors.append(repr(exc))

    threads = []
    for _ in range(12):
        threads.append(threading.Thread(target=run))
        threads[-1].start()
        time.sleep(0.02)
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(got) == 12 and all(np.array_equal(g, want) for g in got)
