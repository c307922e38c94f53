"""Passage classifier: sentences (and pairs of sentences) that read like non-public content.

Model (models/passage.npz, trained by `python -m training.passage`; card in
models/MODEL_CARD_passage.md): character 1-3-gram TF-IDF (sublinear tf, l2) plus the explicit
status and specificity cues of lexicons/passage.toml (拟/尚未/暂不/不对外..., exact future times,
routes, places, figures, identifiers, negotiating floors, weaknesses, lists of people; and the
"already published" cue against them) -> multinomial logistic regression over `public` and the
twelve categories of the taxonomy. A unit is flagged when 1 - P(public) reaches the threshold
calibrated on text the model was not fitted on.

Scoring is vectorised over the whole document: every sentence and every pair of adjacent
sentences of a segment (a figure in one sentence, "not yet announced" in the next) is a unit;
n-grams are packed into int64 codes from the code points and looked up in the sorted vocabulary
with one searchsorted, and all units are scored with one sparse product. The explanation names the
cues that fired and the words that pushed the score up most.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

import numpy as np

from ..config import ScanConfig
from ..model import Finding, Segment
from ..normalize import NormalizedText
from ..policy import Policy
from ..rules import Ruleset
from . import _hashtable
from ._firstchar import Finder
from ._models import ModelIntegrityError, load_npz, short_hash, unpack_strings
from .base import Detector, ScanContext, make_finding

MODEL_FILE = "passage.npz"
LEXICON = Path(__file__).resolve().parents[2] / "lexicons" / "passage.toml"
MIN_CJK = 12    # shorter units (titles, headings) carry too little to judge
MIN_CJK_BARE = 16    # a unit without any cue is judged from this length on (issue 17: no written
                     # positive under it was flagged without a cue in the lr-4 cross-validation)
NORMATIVE_SHARE = 0.2          # a document with this share of normative sentences reads as law / judgment
NORMATIVE_MIN_SENTENCES = 8
ARTICLE_RE = re.compile(r"(?:^|\n)\s*第[一二三四五六七八九十百零〇\d]+条")   # article headings of a law
_ARTICLES = Finder(ARTICLE_RE.pattern)          # the same matches, found faster (no literal start)
# sentence ends; "；" and ";" separate clauses of one sentence (and the cells of a table row).
# A line break written out as text (the characters \r\n, \n or \r: a string's repr saved into a
# document, as generated .docx files do) ends a sentence as a newline does; a backslash-n before a
# letter (\nginx, a path) does not. No unit holds a break, nor pairs sentences across one.
LITERAL_BREAK = r"\\r\\n|\\[rn](?![A-Za-z])"
_LITERAL_BREAK_RE = re.compile(LITERAL_BREAK)
_SENT_CHAR = r"(?:[^。！？!?\n\\]|\\(?!r\\n|[rn](?![A-Za-z])))"
SENT_RE = re.compile(rf"(?P<brk>(?:{LITERAL_BREAK})+)|{_SENT_CHAR}*[。！？!?]+[”’」』）)]*|{_SENT_CHAR}+")
_WS = re.compile(r"\s\s+")
_WS_LINE = re.compile(r"[^\S\n]{2,}")     # the same runs inside one line (no unit crosses a newline)


def load_lexicon(path: Path = LEXICON) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def cue_signature(cues: dict) -> str:
    """Hash of the cue definitions a model was trained with (names and patterns, in order)."""
    h = hashlib.sha256()
    for name, spec in cues.items():
        h.update(f"{name}\x00{spec['pattern']}\x01".encode())
    return h.hexdigest()[:16]


class Cues:
    """The cue groups of lexicons/passage.toml, compiled; `matrix` marks which units contain each."""

    def __init__(self, lexicon: dict):
        self.spec = lexicon["cue"]
        self.names = list(self.spec)
        self.zh = [self.spec[n]["zh"] for n in self.names]
        # the same matches as re.compile(pattern), with a first-character guard (several times
        # faster), and finditer's spans found by a search on that class (_firstchar.Finder)
        self.finders = [Finder(self.spec[n]["pattern"]) for n in self.names]
        self.res = [f.regex for f in self.finders]
        self.signature = cue_signature(self.spec)

    def matches(self, text: str) -> list[tuple[np.ndarray, np.ndarray]]:
        out = []
        for f in self.finders:
            sp = f.spans(text)
            a = np.array([s for s, _ in sp], dtype=np.int64)
            b = np.array([e for _, e in sp], dtype=np.int64)
            out.append((a, b))
        return out

    def matrix(self, text: str, starts: np.ndarray, ends: np.ndarray, found=None) -> np.ndarray:
        """(units, cues) 0/1: a cue match lies wholly inside unit [start, end) of text."""
        found = found if found is not None else self.matches(text)
        M = np.zeros((len(starts), len(self.names)), dtype=np.float64)
        for k, (a, b) in enumerate(found):
            if a.size == 0:
                continue
            # matches of one pattern do not overlap, so their ends are sorted like their starts: the
            # first match starting inside the unit is the one that may also end inside it
            i = np.searchsorted(a, starts)
            j = np.minimum(i, a.size - 1)
            hit = (i < a.size) & (b[j] <= ends)
            M[hit, k] = 1.0
        return M

    def fired(self, text: str) -> list[tuple[str, str]]:
        """(Chinese cue name, first matched words) for the cues found in text."""
        out = []
        for zh, r in zip(self.zh, self.res):
            m = r.search(text)
            if m:
                out.append((zh, m.group()))
        return out


def encode(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Code points of all texts (white-space runs collapsed as sklearn's char analyzer does, NUL
    read as a space) concatenated, and the unit index of every position."""
    parts = [_WS.sub(" ", t).replace("\x00", " ") for t in texts]
    joined = "".join(parts)
    cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    lens = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
    uid = np.repeat(np.arange(len(parts), dtype=np.int64), lens)
    return cps, uid


def ngram_codes(cps: np.ndarray, uid: np.ndarray, lo: int = 1, hi: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Every character n-gram (lo..hi) that stays inside one unit, as an int64 code (21 bits a code
    point, so 1-, 2- and 3-grams never collide), with its unit index."""
    codes, units = [], []
    n = cps.size
    for k in range(lo, hi + 1):
        if n < k:
            break
        c = cps[: n - k + 1].copy()
        for q in range(1, k):
            c = (c << 21) | cps[q: n - k + 1 + q]
        u = uid[: n - k + 1]
        ok = u == uid[k - 1:]
        codes.append(c[ok])
        units.append(u[ok])
    if not codes:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(codes), np.concatenate(units)


def code_of(gram: str) -> int:
    c = 0
    for ch in gram:
        c = (c << 21) | ord(ch)
    return c


def gram_of(code: int) -> str:
    out = []
    while code:
        out.append(chr(code & 0x1FFFFF))
        code >>= 21
    return "".join(reversed(out))


def gram_length(codes: np.ndarray) -> np.ndarray:
    """Characters of each n-gram code (its first character is never NUL: 21 bits a character)."""
    return 1 + (codes >= 1 << 21).astype(np.int64) + (codes >= 1 << 42).astype(np.int64)


def spread_heat(t: str, codes: np.ndarray, contrib: np.ndarray) -> np.ndarray:
    """Per character of t, the sum of contrib[k] / len(gram k) over every occurrence (overlapping
    ones included) of n-gram codes[k] that covers it: what adding each gram's share to the slice of
    each occurrence found by t.find, gram after gram (in the order of codes) and occurrence after
    occurrence, gives, to the bit (np.add.at adds in that same order)."""
    heat = np.zeros(len(t))
    if codes.size == 0 or not t:
        return heat
    lens = gram_length(codes)
    shares = contrib / lens
    order = np.argsort(codes, kind="stable")
    sc = codes[order]
    cps = np.frombuffer(t.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    n = cps.size
    ks, ps = [], []
    for m in (1, 2, 3):
        if n < m:
            break
        g = cps[: n - m + 1].copy()
        for q in range(1, m):
            g = (g << 21) | cps[q: n - m + 1 + q]
        j = np.minimum(np.searchsorted(sc, g), sc.size - 1)
        hit = np.nonzero(sc[j] == g)[0]
        k = order[j[hit]]
        same = lens[k] == m         # a window of t opening with NUL packs like a shorter gram
        ks.append(k[same])
        ps.append(hit[same])
    k = np.concatenate(ks)
    p = np.concatenate(ps)
    if k.size == 0:
        return heat
    first = np.lexsort((p, k))              # gram by gram (their order in codes), then by position
    k, p = k[first], p[first]
    m = lens[k]
    cells = np.repeat(p, m) + (np.arange(int(m.sum())) - np.repeat(np.cumsum(m) - m, m))
    np.add.at(heat, cells, np.repeat(shares[k], m))
    return heat


class Rows:
    """A small CSR matrix (numpy only): rows of sparse TF-IDF values."""

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, shape: tuple[int, int]):
        self.indptr, self.indices, self.data, self.shape = indptr, indices, data, shape

    def dot(self, W: np.ndarray) -> np.ndarray:
        """self @ W for a dense (features, k) W."""
        out = np.zeros((self.shape[0], W.shape[1]))
        if self.data.size:
            prod = np.take(W, self.indices, axis=0) * self.data[:, None]     # take: faster than W[idx]
            nonempty = np.diff(self.indptr) > 0
            out[nonempty] = np.add.reduceat(prod, self.indptr[:-1][nonempty], axis=0)
        return out

    def toarray(self) -> np.ndarray:
        out = np.zeros(self.shape)
        r = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        out[r, self.indices] = self.data
        return out


def tfidf(texts: list[str], vocab: np.ndarray, idf: np.ndarray) -> Rows:
    """Sublinear-tf, l2-normalised TF-IDF rows of texts over the sorted code vocabulary."""
    n = len(texts)
    cps, uid = encode(texts)
    codes, units = ngram_codes(cps, uid)
    if vocab.size and codes.size:
        j = np.searchsorted(vocab, codes)
        j[j >= vocab.size] = 0
        hit = vocab[j] == codes
        rows, cols = units[hit], j[hit]
    else:
        rows = cols = np.zeros(0, dtype=np.int64)
    return _weigh(n, rows, cols, vocab, idf)


def _weigh(n: int, rows: np.ndarray, cols: np.ndarray, vocab: np.ndarray, idf: np.ndarray) -> Rows:
    """Rows of sublinear-tf, l2-normalised TF-IDF from the (unit, column) of every n-gram occurrence."""
    V = max(1, vocab.size)
    key = rows * V + cols
    if n * V < 2 ** 32:
        key = key.astype(np.uint32)         # sorts twice as fast, same order
    # np.unique(key, return_counts=True), with a stable sort: the keys come in runs sorted by row
    # (and by position within one), which the stable sort (timsort) exploits: ~40 % less time
    key = np.sort(key, kind="stable")
    edge = np.empty(key.size + 1, dtype=bool)
    edge[:1] = True
    edge[-1:] = True
    np.not_equal(key[1:], key[:-1], out=edge[1:-1])
    at = np.flatnonzero(edge)
    tf = np.diff(at)
    key = key[at[:-1]].astype(np.int64)                          # sorted by row, column
    rows, cols = key // V, key % V
    val = (1.0 + np.log(tf)) * idf[cols]
    norms = np.sqrt(np.bincount(rows, weights=val * val, minlength=n))
    val /= norms[rows]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return Rows(indptr, cols, val, (n, int(vocab.size)))


_SPACE_BMP: np.ndarray | None = None


def line_space(cps: np.ndarray) -> np.ndarray:
    r"""Per code point, whether it is white space other than a newline: what `[^\S\n]` matches (re's
    \s is str.isspace, read from a table of the BMP built once; none of the other planes' code
    points is white space, each is asked all the same)."""
    global _SPACE_BMP
    if _SPACE_BMP is None:
        _SPACE_BMP = np.array([chr(c).isspace() and c != 10 for c in range(0x10000)], dtype=bool)
    bmp = cps < 0x10000
    out = _SPACE_BMP[np.where(bmp, cps, 0)]
    if not bmp.all():
        rare = np.flatnonzero(~bmp)
        out[rare] = [chr(int(c)).isspace() for c in cps[rare]]
    return out


def _spans_safe(text: str, starts: np.ndarray, ends: np.ndarray) -> bool:
    """tfidf_spans applies: no unit holds a newline or begins or ends inside a white-space run."""
    if len(starts) == 0:
        return True
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    nl = np.flatnonzero(cps == 10)
    if nl.size and (np.searchsorted(nl, ends) - np.searchsorted(nl, starts)).any():
        return False
    ws = np.zeros(len(text) + 2, dtype=bool)       # ws[i + 1]: text[i] is white space other than "\n"
    ws[1:-1] = line_space(cps)
    for b in (np.asarray(starts), np.asarray(ends)):
        if (ws[b] & ws[b + 1]).any():               # text[b - 1] and text[b] both white space
            return False
    return True


def unigram_columns(vocab: np.ndarray) -> np.ndarray:
    """Column of each character of the Basic Multilingual Plane as a 1-gram (-1: not in the
    vocabulary): tfidf_spans reads 1-grams from this dense table instead of hashing them."""
    out = np.full(0x10000, -1, dtype=np.int64)
    cps = np.arange(0x10000, dtype=np.int64)
    j = np.minimum(np.searchsorted(vocab, cps), max(0, vocab.size - 1))
    hit = vocab[j] == cps if vocab.size else np.zeros(cps.size, dtype=bool)
    out[hit] = j[hit]
    return out


def tfidf_spans(text: str, starts: np.ndarray, ends: np.ndarray, vocab: np.ndarray, idf: np.ndarray,
                table: tuple[np.ndarray, np.ndarray] | None = None, max_disp: int | None = None,
                unigrams: np.ndarray | None = None) -> Rows:
    """tfidf([text[a:b] for a, b in spans], vocab, idf), computed over the whole text at once: every
    n-gram position is looked up in the vocabulary once (not once for each unit holding it: sentences
    and their pairs overlap), then counted per unit. Units must not cross a newline (sentences and
    pairs of sentences of one line do not), so collapsing white-space runs line by line is the same
    as collapsing them unit by unit. unigrams: `unigram_columns(vocab)`, the 1-grams' columns of
    the BMP (the others are looked up as before)."""
    n = len(starts)
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    # each run of two or more white-space characters within a line (_WS_LINE) becomes one space:
    # its first character a space, the others dropped
    w = line_space(cps)
    after = np.zeros(cps.size, dtype=bool)          # after[i]: text[i - 1] is such white space too
    after[1:] = w[:-1]
    keep = ~(w & after)
    first = w & ~after
    first[:-1] &= w[1:]
    first[-1:] = False
    cps[first] = 32
    cps[cps == 0] = 32
    prefix = np.zeros(cps.size + 1, dtype=np.int64)
    np.cumsum(keep, out=prefix[1:])
    c = cps[keep]
    s, e = prefix[np.asarray(starts, dtype=np.int64)], prefix[np.asarray(ends, dtype=np.int64)]
    N = c.size
    rows_l, cols_l = [], []
    for k in (1, 2, 3):
        if N < k or vocab.size == 0:
            break
        g = c[: N - k + 1].copy()
        for q in range(1, k):
            g = (g << 21) | c[q: N - k + 1 + q]
        if k == 1 and unigrams is not None:
            bmp = g < 0x10000
            col = unigrams[np.where(bmp, g, 0)]
            if not bmp.all():
                rare = np.nonzero(~bmp)[0]
                col[rare] = _lookup(vocab, g[rare]) if table is None else \
                    _hashtable.lookup(table[0], table[1], g[rare], -1, mixed=True, max_disp=max_disp)
        elif table is None:
            col = _lookup(vocab, g)
        else:
            col = _hashtable.lookup(table[0], table[1], g, -1, mixed=True, max_disp=max_disp)
        # the positions of grams in the vocabulary, then per unit the run of them inside it (the
        # same (unit, column) pairs in the same order as reading every position of every unit)
        h = np.flatnonzero(col >= 0)
        lo = np.searchsorted(h, s)
        m = np.searchsorted(h, np.maximum(s, e - k + 1)) - lo
        tot = int(m.sum())
        if tot == 0:
            continue
        off = np.zeros(n, dtype=np.int64)
        np.cumsum(m[:-1], out=off[1:])
        rows_l.append(np.repeat(np.arange(n, dtype=np.int64), m))
        cols_l.append(col[h[np.repeat(lo - off, m) + np.arange(tot)]])
    rows = np.concatenate(rows_l) if rows_l else np.zeros(0, dtype=np.int64)
    cols = np.concatenate(cols_l) if cols_l else np.zeros(0, dtype=np.int64)
    return _weigh(n, rows, cols, vocab, idf)


def _lookup(vocab: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Index of each code of g in the sorted vocab, -1 if absent (queries sorted first: a
    searchsorted of sorted queries walks the vocabulary in order, several times faster)."""
    order = np.argsort(g)
    gs = g[order]
    j = np.searchsorted(vocab, gs)
    j[j >= vocab.size] = 0
    out = np.empty(g.size, dtype=np.int64)
    out[order] = np.where(vocab[j] == gs, j, -1)
    return out


class PassageModel:
    def __init__(self, arrays: dict, lexicon: dict | None = None):
        self.lexicon = lexicon if lexicon is not None else load_lexicon()
        self.cues = Cues(self.lexicon)
        self.vocab = arrays["codes"].astype(np.int64)
        self.idf = arrays["idf"].astype(np.float64)
        self.W = arrays["W"].astype(np.float64)              # (features, classes)
        self.cue_W = arrays["cue_W"].astype(np.float64)      # (cues, classes)
        self.intercept = arrays["intercept"].astype(np.float64)
        self.table = _hashtable.build(self.vocab, mixed=True, missing=-1)     # n-gram code -> column
        self.table_disp = _hashtable.max_displacement(self.table[0], mixed=True)
        self.unigrams = unigram_columns(self.vocab)
        self.labels = unpack_strings(arrays["labels"])
        self.threshold = float(arrays["threshold"][0])
        self.version = str(arrays["version"][0])
        self.public = self.labels.index("public")
        cue_names = unpack_strings(arrays["cue_names"])
        sig = str(arrays["cue_signature"][0])
        if cue_names != self.cues.names or sig != self.cues.signature:
            raise ModelIntegrityError("passage model was trained with other cues than lexicons/passage.toml "
                                      "(retrain: make train)")

    # -- scoring -------------------------------------------------------------------------------------
    def logits(self, X, C: np.ndarray) -> np.ndarray:
        return X.dot(self.W) + C @ self.cue_W + self.intercept

    def proba_units(self, text: str, starts, ends, found=None, C: np.ndarray | None = None) -> np.ndarray:
        """Class probabilities of the units text[start:end] (one row a unit); C: their cue matrix
        when the caller has it."""
        starts = np.asarray(starts, dtype=np.int64)
        ends = np.asarray(ends, dtype=np.int64)
        if _spans_safe(text, starts, ends):
            X = tfidf_spans(text, starts, ends, self.vocab, self.idf, self.table, self.table_disp, self.unigrams)
        else:
            X = tfidf([text[a:b] for a, b in zip(starts, ends)], self.vocab, self.idf)
        if C is None:
            C = self.cues.matrix(text, starts, ends, found)
        return self.softmax(self.logits(X, C))

    @staticmethod
    def softmax(z: np.ndarray) -> np.ndarray:
        """Row by row (each row's result depends on that row alone)."""
        z -= z.max(1, keepdims=True)
        np.exp(z, out=z)
        return z / z.sum(1, keepdims=True)

    def proba_many(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.labels)))
        joined = "\n".join(texts)
        starts, pos = [], 0
        for t in texts:
            starts.append(pos)
            pos += len(t) + 1
        ends = [s + len(t) for s, t in zip(starts, texts)]
        return self.proba_units(joined, starts, ends)

    def proba(self, text: str) -> np.ndarray:
        return self.proba_many([text])[0]

    # -- explanation ---------------------------------------------------------------------------------
    def explain(self, text: str, label: int, top: int = 4) -> list[str]:
        """The words that moved the unit most towards `label` (against public): each n-gram's
        contribution (tf-idf value x coefficient difference) is spread over the characters of its
        occurrences; the words (jieba) carrying the most of it are named."""
        X = tfidf([text], self.vocab, self.idf)
        idx, val = X.indices, X.data
        if idx.size == 0:
            return []
        contrib = val * (self.W[idx, label] - self.W[idx, self.public])
        t = _WS.sub(" ", text)
        up = np.nonzero(contrib > 0)[0]
        heat = spread_heat(t, self.vocab[idx[up]], contrib[up])
        if not heat.any():
            return []
        runs, pos = [], 0
        for w in _cut(t):
            h = float(heat[pos:pos + len(w)].sum())
            if len(w.strip()) >= 2 and h > 0:
                runs.append((h, w.strip()))
            pos += len(w)
        runs.sort(key=lambda r: -r[0])
        out: list[str] = []
        for _, w in runs:
            if w not in out:
                out.append(w)
            if len(out) == top:
                break
        return out

    def cue_reasons(self, text: str, label: int) -> list[str]:
        """The cues present in text that speak for `label` (positive weight against public)."""
        out = []
        for k, (zh, r) in enumerate(zip(self.cues.zh, self.cues.res)):
            if self.cue_W[k, label] - self.cue_W[k, self.public] <= 0:
                continue
            m = r.search(text)
            if m:
                out.append(f"{zh}“{m.group()}”")
        return out


_JIEBA = None


def _cut(text: str) -> list[str]:
    global _JIEBA
    if _JIEBA is None:
        import logging

        import jieba
        jieba.setLogLevel(logging.WARNING)
        tk = jieba.Tokenizer()
        tk.initialize()
        _JIEBA = tk
    return list(_JIEBA.cut(text, HMM=False))


def cjk_count(text: str) -> int:
    return sum(1 for c in text if "\u4e00" <= c <= "\u9fff")


# SENT_RE on a text without a backslash: its literal-break alternatives cannot match there, so this
# simpler pattern finds the same matches (~3x faster: no group per character)
_SENT_PLAIN_RE = re.compile(r"[^。！？!?\n\\]*[。！？!?]+[”’」』）)]*|[^。！？!?\n\\]+")


def sentences(text: str) -> list[tuple[int, int]]:
    if "\\" not in text:
        return [m.span() for m in _SENT_PLAIN_RE.finditer(text) if m.group().strip()]
    return [(m.start(), m.end()) for m in SENT_RE.finditer(text) if m.group("brk") is None and m.group().strip()]


def units(text: str) -> list[tuple[int, int, int]]:
    """(start, end, n) units of a text: sentences (n=1) and adjacent pairs (n=2) in one line."""
    sents = sentences(text)
    out = [(a, b, 1) for a, b in sents]
    if "\\" not in text:        # no literal break: only a newline separates (str.find: no slice)
        find = text.find
        out += [(a, d, 2) for (a, _), (_c, d) in zip(sents, sents[1:]) if find("\n", a, d) < 0]
        return out
    for (a, _), (_c, d) in zip(sents, sents[1:]):
        if "\n" not in text[a:d] and not ("\\" in text[a:d] and _LITERAL_BREAK_RE.search(text, a, d)):
            out.append((a, d, 2))
    return out


class PassageDetector(Detector):
    name = "passage"
    needs_models = True

    def __init__(self, directory: Path | None = None, min_confidence: float = 0.5, lexicon: dict | None = None):
        """min_confidence: the policy's; a unit at the calibrated threshold gets a confidence just
        above it, so every flagged unit counts in the decision."""
        self.model = PassageModel(load_npz(MODEL_FILE, directory), lexicon)
        self.floor = min(1.0, min_confidence + 0.01)
        self.model_version = self.model.version + "@" + short_hash(MODEL_FILE, directory)
        self.category = self.model.lexicon["category"]
        # the segmenter used by explanations (jieba, ~1 s to load) is loaded on the first flagged passage

    @classmethod
    def build(cls, config: ScanConfig, ruleset: Ruleset, policy: Policy) -> PassageDetector:
        return cls(min_confidence=policy.min_confidence)  # a missing or altered model file raises

    def warm(self) -> None:
        _cut("")        # the explanations' segmenter, loaded once here rather than in every worker
        line_space(np.zeros(1, dtype=np.uint32))     # its table of the BMP

    def classify(self, text: str) -> tuple[str, float]:
        p = self.model.proba(text)
        return self._label(p)

    def _label(self, p: np.ndarray) -> tuple[str, float]:
        risk = 1.0 - float(p[self.model.public])
        q = p.copy()
        q[self.model.public] = -1
        return self.model.labels[int(q.argmax())], risk

    def confidence(self, risk: float) -> float:
        """Just above the policy's min_confidence at the calibrated threshold, 1.0 at risk 1."""
        t = self.model.threshold
        return min(1.0, self.floor + (1.0 - self.floor) * (risk - t) / max(1e-6, 1.0 - t))

    def flagged(self, text: str) -> list[tuple[int, int, str, float]]:
        """(start, end, label, risk) of the flagged units of a text: flagged sentences, and pairs of
        sentences whose judgement together crosses the threshold when neither sentence alone did."""
        prep = self._prepare(text)
        if prep is None:
            return []
        us, starts, ends, found, C = prep
        return self._decide(us, self.model.proba_units(text, starts, ends, found, C))

    def flagged_many(self, texts: list[str]) -> list[list[tuple[int, int, str, float]]]:
        """flagged of each text, the TF-IDF rows and their product with the weights computed for
        all texts at once (one call's fixed cost instead of one per text). The same bits: a row's
        TF-IDF values and its product depend on that unit alone, and the cue part (a BLAS product,
        whose rounding may depend on the shape) is computed per text, as flagged does."""
        preps = [self._prepare(t) for t in texts]
        out: list[list[tuple[int, int, str, float]]] = [[] for _ in texts]
        group = []
        for k, (t, prep) in enumerate(zip(texts, preps)):
            if prep is None:
                continue
            if _spans_safe(t, prep[1], prep[2]):
                group.append(k)
            else:
                out[k] = self._decide(prep[0], self.model.proba_units(t, prep[1], prep[2], prep[3], prep[4]))
        if not group:
            return out
        bases, pos = [], 0
        for k in group:
            bases.append(pos)
            pos += len(texts[k]) + 1
        joined = "\n".join(texts[k] for k in group)
        starts = np.concatenate([preps[k][1] + base for k, base in zip(group, bases)])   # type: ignore[index]
        ends = np.concatenate([preps[k][2] + base for k, base in zip(group, bases)])     # type: ignore[index]
        m = self.model
        XW = tfidf_spans(joined, starts, ends, m.vocab, m.idf, m.table, m.table_disp, m.unigrams).dot(m.W)
        row = 0
        for k in group:
            us, _, _, _, C = preps[k]    # type: ignore[misc]
            n = len(us)
            out[k] = self._decide(us, m.softmax(XW[row:row + n] + C @ m.cue_W + m.intercept))
            row += n
        return out

    def _prepare(self, text: str):
        """(units, starts, ends, cue matches, cue matrix) of a text, or None when it has no unit
        to judge or reads as a law, regulation or published judgment."""
        cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        cjk = np.zeros(cps.size + 1, dtype=np.int64)     # CJK characters before each position
        np.cumsum((cps >= 0x4E00) & (cps <= 0x9FFF), out=cjk[1:])
        every = units(text)
        if not every:
            return None
        arr = np.array(every, dtype=np.int64)
        big = np.flatnonzero(cjk[arr[:, 1]] - cjk[arr[:, 0]] >= MIN_CJK)
        if not big.size:
            return None
        us = [every[k] for k in big.tolist()]
        found = self.model.cues.matches(text)
        starts = arr[big, 0]
        ends = arr[big, 1]
        C = self.model.cues.matrix(text, starts, ends, found)
        # Register of the whole document: in a law, regulation or published judgment (many sentences
        # in normative form: 第…条, 应当, 本院认为...) status words are general, not a draft's status;
        # the classifier does not report there (markings and term rules still run).
        single = np.flatnonzero(arr[big, 2] == 1)
        norm_k = self.model.cues.names.index("normative")
        articles = len(_ARTICLES.spans(text))
        normative_doc = articles >= 3 or (len(single) >= NORMATIVE_MIN_SENTENCES
                                          and C[single, norm_k].mean() >= NORMATIVE_SHARE)
        if normative_doc:
            return None       # laws, regulations and published judgments are not drafts
        # a short unit without any cue (a table cell, a catalogue entry, a heading: 机车车辆及通信信号
        # 试验设备) names a topic, not a status or a specific fact; it is not judged alone
        keep = (cjk[ends] - cjk[starts] >= MIN_CJK_BARE) | C.any(axis=1)
        if not keep.all():
            if not keep.any():
                return None
            us = [us[k] for k in np.flatnonzero(keep).tolist()]
            starts, ends, C = starts[keep], ends[keep], C[keep]
        return us, starts, ends, found, C

    def _decide(self, us: list[tuple[int, int, int]], P: np.ndarray) -> list[tuple[int, int, str, float]]:
        thr = self.model.threshold
        out: list[tuple[int, int, str, float]] = []
        risks = 1.0 - P[:, self.model.public]
        for k in np.nonzero(risks >= thr)[0]:     # as _label, for the units at the threshold only
            (a, b, n), p = us[k], P[k]
            label, risk = self._label(p)
            if risk < thr:
                continue
            if n == 2 and any(a <= s < b for s, _, _, _ in out):
                continue      # a sentence inside the pair is already reported
            out.append((a, b, label, risk))
        return out

    def detect(self, ctx: ScanContext) -> list[Finding]:
        """All units of the document scored at once, over the joined normalised text."""
        return self._located(ctx, self.flagged(ctx.joined("norm").text))

    def detect_many(self, ctxs: list[ScanContext]) -> list[list[Finding]]:
        """All units of all the documents scored at once (flagged_many)."""
        flags = self.flagged_many([ctx.joined("norm").text for ctx in ctxs])
        return [self._located(ctx, fl) for ctx, fl in zip(ctxs, flags)]

    def _located(self, ctx: ScanContext, flags: list[tuple[int, int, str, float]]) -> list[Finding]:
        jt = ctx.joined("norm")
        out: list[Finding] = []
        for a, b, label, risk in flags:
            loc = jt.locate(a, b)
            if loc is not None:
                k, i, j = loc
                out.append(self._finding(jt.segments[k], jt.views[k], i, j, label, risk))
        return out

    def detect_segment(self, seg: Segment, norm: NormalizedText) -> list[Finding]:
        return [self._finding(seg, norm, a, b, label, risk) for a, b, label, risk in self.flagged(norm.text)]

    def _finding(self, seg, norm, a, b, label, risk) -> Finding:
        text = norm.text
        while b > a and text[b - 1].isspace():
            b -= 1
        unit = text[a:b]
        lab = self.model.labels.index(label)
        words = self.model.explain(unit, lab)
        cues = self.model.cue_reasons(unit, lab)
        parts = []
        if cues:
            parts.append("线索" + "、".join(cues))
        if words:
            parts.append("关键词" + "、".join(f"“{w}”" for w in words))
        why = "；".join(parts) or "整体表述"
        cat = self.category.get(label, {})
        return make_finding(
            seg, norm, a, b, category="passage." + label, rule_id="model.passage." + label,
            severity="medium", confidence=round(self.confidence(risk), 3),
            explanation=(f"模型判断该段疑似涉及{cat.get('zh', label)}（风险分{risk:.2f}，"
                         f"阈值{self.model.threshold:.2f}），主要依据：{why}。"),
            suggestion=cat.get("suggestion", "请人工核实该段内容是否已公开。"),
            evidence=[f"model:{self.model_version}", f"label:{label}", f"score:{risk:.3f}",
                      f"cues:{len(cues)}", f"ngrams:{len(words)}"])

