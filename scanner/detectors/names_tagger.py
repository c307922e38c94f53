"""The name/address character tagger, vectorised (models/names.npz, `python -m training.names`).

Labels B/I-N (person name), B/I-A (address), B/I-X (other named entity, learnt so names are told
apart from look-alikes, never reported), O. Features per character are int64 codes computed with
numpy over all characters at once: the character and its neighbours (+-3), bigrams and a trigram
of the window, character classes, and two lexicon lattices — the words of jieba's dictionary
(person / place / organisation / other proper / common words, by part of speech) and the entity
strings of the training part of CLUENER — marking whether a known word begins, continues or ends
at the character. Emissions are one gather-and-sum over a sorted feature vocabulary; decoding is
a BIO-constrained Viterbi batched over all texts of a call (one numpy step per character column).
"""
from __future__ import annotations

import threading

import numpy as np

from . import _hashtable

LABELS = ("O", "B-N", "I-N", "B-A", "I-A", "B-X", "I-X")
MAX_WORD = 4
BOS, EOS = 0x110001, 0x110002           # outside Unicode: padding code points
_M1 = np.int64(0x1F3B5D7A2C4E6F81 & 0x7FFFFFFFFFFFFFFF)
_MASK63 = np.int64(0x7FFFFFFFFFFFFFFF)
N_TEMPLATES = 20


def _mix(*cols: np.ndarray) -> np.ndarray:
    """A 63-bit hash of int64 columns (vectorised; collisions are negligible at this vocabulary size)."""
    h = np.full(cols[0].shape, np.int64(0x2545F4914F6CDD1D & 0x7FFFFFFFFFFFFFFF))
    with np.errstate(over="ignore"):
        for c in cols:
            h = (h ^ c) * _M1
            h ^= (h >> np.int64(29)) & np.int64(0x7FFFFFFFF)
    return h & _MASK63


def char_classes(cps: np.ndarray) -> np.ndarray:
    """0 Han, 1 digit, 2 Latin letter, 3 space, 4 other, 5 padding."""
    out = np.full(cps.shape, 4, dtype=np.int64)
    han = ((cps >= 0x4E00) & (cps <= 0x9FFF)) | ((cps >= 0x3400) & (cps <= 0x4DBF))
    out[han] = 0
    out[((cps >= 48) & (cps <= 57)) | ((cps >= 0xFF10) & (cps <= 0xFF19))] = 1
    out[((cps >= 65) & (cps <= 90)) | ((cps >= 97) & (cps <= 122))] = 2
    out[(cps == 32) | (cps == 9) | (cps == 0x3000) | (cps == 10)] = 3
    out[cps >= BOS] = 5
    return out


def word_codes(cps: np.ndarray, i: np.ndarray, L: int) -> np.ndarray:
    """Hash of the L code points starting at positions i (of a padded array)."""
    return _mix(np.int64(L), *(cps[i + k] for k in range(L)))


def string_code(s: str) -> int:
    cps = np.array([ord(c) for c in s], dtype=np.int64)
    return int(word_codes(cps, np.array([0]), len(s))[0])


class Lattice:
    """Known strings of length 2..MAX_WORD with a category bit (0..7), as sorted hash codes."""

    def __init__(self, codes: np.ndarray, cats: np.ndarray):
        order = np.argsort(codes, kind="stable")
        self.codes = codes[order].astype(np.int64)
        self.cats = cats[order].astype(np.int64)
        self._table: tuple[np.ndarray, np.ndarray] | None = None
        self._disp = 0

    @classmethod
    def from_dict(cls, words: dict[str, int]) -> Lattice:
        items = sorted((w, c) for w, c in words.items() if 2 <= len(w) <= MAX_WORD)
        codes = np.array([string_code(w) for w, _ in items], dtype=np.int64)
        cats = np.array([c for _, c in items], dtype=np.int64)
        return cls(codes, cats)

    def table(self) -> tuple[np.ndarray, np.ndarray]:
        if self._table is None:      # hash table of the codes (already hashes: low bits are the slot)
            tk, tv = _hashtable.build(self.codes, mixed=False, missing=-1)
            self._disp = _hashtable.max_displacement(tk)
            self._table = (tk, tv)
        return self._table

    def marks(self, cps: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Per position of the padded array, a bit mask: bit 3*cat + role (0 begins, 1 inside, 2 ends)."""
        return lattice_marks([self], cps, valid)[0]

    def mark_hits(self, out: np.ndarray, i: np.ndarray, c: np.ndarray, L: int) -> None:
        """OR into out the marks of the strings of length L with codes c starting at positions i."""
        if self.codes.size == 0:
            return
        tk, tv = self.table()
        j = _hashtable.lookup(tk, tv, c, -1, max_disp=self._disp)
        hit = j >= 0
        # within one length every start position holds one string: plain fancy-index OR is exact
        _or_marks(out, i[hit], self.cats[j[hit]], L)


class LatticeUnion:
    """The string codes of several lattices in one hash table, so that each code of a text is
    looked up once for all of them (lattice_marks). For each lattice, `rows[k]` maps a row of the
    table to that lattice's row (-1: not in it); among equal codes of one lattice the first row
    counts, as its own table's lookup finds it."""

    def __init__(self, lattices: list[Lattice]):
        self.lattices = list(lattices)
        codes = np.unique(np.concatenate([lat.codes for lat in self.lattices])) if self.lattices \
            else np.zeros(0, dtype=np.int64)
        self.size = codes.size
        self.rows = []
        for lat in self.lattices:
            r = np.full(codes.size, -1, dtype=np.int64)
            if lat.codes.size:
                _, first = np.unique(lat.codes, return_index=True)
                r[np.searchsorted(codes, lat.codes[first])] = first
            self.rows.append(r)
        self.tk, self.tv = _hashtable.build(codes, mixed=False, missing=-1)
        self.disp = _hashtable.max_displacement(self.tk)

    def of(self, lattices: list[Lattice]) -> bool:
        return len(lattices) == len(self.lattices) and all(a is b for a, b in zip(lattices, self.lattices))


def lattice_marks(lattices: list[Lattice], cps: np.ndarray, valid: np.ndarray,
                  union: LatticeUnion | None = None) -> list[np.ndarray]:
    """Lattice.marks of several lattices, the string codes at each position hashed once for all;
    with `union` (a LatticeUnion of these lattices) also looked up once for all, every length in
    one lookup."""
    n = cps.size
    outs = [np.zeros(n, dtype=np.int64) for _ in lattices]
    if not any(lat.codes.size for lat in lattices):
        return outs
    ok = valid.copy()                   # ok[p]: the L characters from p are all real
    starts, codes, lens = [], [], []
    for L in range(2, min(MAX_WORD, n) + 1):
        ok[: n - L + 1] &= valid[L - 1:]
        ok[n - L + 1:] = False
        i = np.nonzero(ok)[0]
        if i.size == 0:
            continue
        c = word_codes(cps, i, L)
        if union is None:
            for lat, out in zip(lattices, outs):
                lat.mark_hits(out, i, c, L)
        else:
            starts.append(i)
            codes.append(c)
            lens.append(L)
    if union is None or not codes:
        return outs
    if not union.of(lattices):
        raise ValueError("the union is of other lattices")
    j = _hashtable.lookup(union.tk, union.tv, np.concatenate(codes), -1, max_disp=union.disp)
    bounds = np.cumsum([0] + [c.size for c in codes])
    found = np.nonzero(j >= 0)[0]
    for rows, lat, out in zip(union.rows, lattices, outs):
        r = rows[j[found]]
        keep = r >= 0
        pos, r = found[keep], r[keep]
        for k, L in enumerate(lens):
            sel = (pos >= bounds[k]) & (pos < bounds[k + 1])
            _or_marks(out, starts[k][pos[sel] - bounds[k]], lat.cats[r[sel]], L)
    return outs


def _or_marks(out: np.ndarray, i: np.ndarray, cat: np.ndarray, L: int) -> None:
    """OR into out the marks of strings of length L (categories cat) starting at positions i."""
    bit = np.int64(1) << (3 * cat)
    out[i] |= bit
    out[i + L - 1] |= bit << 2
    for k in range(1, L - 1):
        out[i + k] |= bit << 1


def encode(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Padded code points of all texts (3 pads between texts), the index of every real character
    in that array, and a mask of real characters."""
    pad = "\U00100000" * 3       # placeholder, replaced by BOS/EOS codes below
    joined = pad + pad.join(texts) + pad
    cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    valid = cps != 0x100000
    cps[~valid] = BOS
    real = np.nonzero(valid)[0]
    return cps, real, valid


def _marks(dict_lattice: Lattice | None, gaz_lattice: Lattice | None, cps: np.ndarray,
           valid: np.ndarray, union: LatticeUnion | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The dictionary and gazetteer marks (zeros for a missing lattice)."""
    lats = [lat for lat in (dict_lattice, gaz_lattice) if lat is not None]
    got = iter(lattice_marks(lats, cps, valid, union))
    return (next(got) if dict_lattice is not None else np.zeros_like(cps),
            next(got) if gaz_lattice is not None else np.zeros_like(cps))


def features(texts: list[str], dict_lattice: Lattice | None, gaz_lattice: Lattice | None) -> np.ndarray:
    """(characters, N_TEMPLATES) int64 feature codes for all characters of texts, in order."""
    cps, i, valid = encode(texts)
    cls = char_classes(cps)
    d, g = _marks(dict_lattice, gaz_lattice, cps, valid)
    c = [cps[i + k] for k in range(-3, 4)]          # c[3] is the character itself
    t = [np.int64(k) for k in range(N_TEMPLATES)]
    cols = [
        _mix(t[0], np.zeros_like(i)),
        _mix(t[1], c[0]), _mix(t[2], c[1]), _mix(t[3], c[2]), _mix(t[4], c[3]),
        _mix(t[5], c[4]), _mix(t[6], c[5]), _mix(t[7], c[6]),
        _mix(t[8], c[2], c[3]), _mix(t[9], c[3], c[4]), _mix(t[10], c[1], c[2]), _mix(t[11], c[4], c[5]),
        _mix(t[12], c[2], c[4]), _mix(t[13], c[2], c[3], c[4]),
        _mix(t[14], cls[i - 1], cls[i], cls[i + 1]), _mix(t[15], cls[i - 2], cls[i - 1], cls[i], cls[i + 1], cls[i + 2]),
        _mix(t[16], d[i]), _mix(t[17], d[i], c[3]), _mix(t[18], g[i]), _mix(t[19], g[i], d[i - 1], d[i + 1]),
    ]
    return np.stack(cols, axis=1)


def allowed_transitions() -> np.ndarray:
    """mask[prev, cur] (prev == len(LABELS) is the start state): I-x only after B-x / I-x."""
    L = len(LABELS)
    mask = np.zeros((L + 1, L), dtype=np.float32)
    for p in range(L + 1):
        for cidx, lab in enumerate(LABELS):
            if lab.startswith("I-") and not (p < L and LABELS[p][2:] == lab[2:]):
                mask[p, cidx] = -1e9
    return mask


def viterbi_batch(emis: np.ndarray, lengths: list[int], trans: np.ndarray) -> list[np.ndarray]:
    """Best label paths of several texts at once. emis: (sum(lengths), L) in text order;
    trans: (L+1, L), row L = start scores (constraints included).

    Texts are processed longest first, so at step t the texts still running are a prefix of the
    batch (no masking); one numpy step per character column of the longest text. A step is
    scores[b, cur, prev] = dp[b, prev] + trans[prev, cur], its argmax over the last (contiguous)
    axis, and the maximum read back at that argmax: the same values as a max over the middle axis,
    at a third of the cost (numpy reduces a short strided axis slowly)."""
    L = emis.shape[1]
    B = len(lengths)
    if B == 0:
        return []
    lens = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(-lens, kind="stable")
    slens = lens[order]
    T = int(slens[0])
    offs = np.zeros(B + 1, dtype=np.int64)
    np.cumsum(lens, out=offs[1:])
    # E[rank, t] = emissions of the text ranked `rank` (longest first) at position t
    E = np.zeros((B, T, L), dtype=np.float64)
    rank = np.empty(B, dtype=np.int64)
    rank[order] = np.arange(B)
    rows = np.repeat(rank, lens)
    cols = np.arange(int(offs[-1])) - np.repeat(offs[:-1], lens)
    E[rows, cols] = emis
    live = (B - np.searchsorted(slens[::-1], np.arange(T), side="right")).tolist()
    trT = np.ascontiguousarray(trans[:L].astype(np.float64).T)      # trT[cur, prev]
    dp = E[:, 0] + trans[L]
    back = np.empty((T, B, L), dtype=np.int64)
    back[:] = np.arange(L)              # steps past a text's end map a label to itself
    S = np.empty(B * L * L)
    base = np.arange(B * L, dtype=np.int64) * L
    add = np.add
    for t in range(1, T):
        n = live[t]
        nl = n * L
        s = S[: nl * L].reshape(n, L, L)
        add(dp[:n, None, :], trT, out=s)
        # the argmax of each (text, label) row written straight into back[t] (2-D rows: numpy's
        # last-axis argmax of a 3-D array costs twice as much), the maximum read back with the
        # array's own take (np.take's wrapper is a third of the step's fixed cost)
        a = back[t, :n].reshape(nl)
        s.reshape(nl, L).argmax(1, out=a)
        add(S.take(base[:nl] + a).reshape(n, L), E[:n, t], out=dp[:n])
    k = dp.argmax(1)
    ar = np.arange(B)
    paths = np.empty((T, B), dtype=np.int64)
    for t in range(T - 1, -1, -1):
        paths[t] = k
        if t:
            k = back[t][ar, k]
    return [paths[:lengths[b], rank[b]] for b in range(B)]


_KIND = [lab[2:] if lab != "O" else "" for lab in LABELS]


def spans_from_tags_fast(tags: np.ndarray) -> list[tuple[int, int, str]]:
    """spans_from_tags for a path of the constrained Viterbi (an I-x only after B-x / I-x): a span
    is a B-x and the run of I-x after it."""
    tags = np.asarray(tags)
    if not tags.size:
        return []
    is_b = (tags % 2 == 1)
    if not is_b.any():
        return []
    starts = np.nonzero(is_b)[0]
    stop = np.nonzero((tags % 2 == 1) | (tags == 0))[0]       # where a run of I-x ends
    ends = np.append(stop, tags.size)[np.searchsorted(stop, starts, side="right")]
    return [(int(a), int(b), _KIND[int(tags[a])]) for a, b in zip(starts, ends)]


def spans_from_tags(tags) -> list[tuple[int, int, str]]:
    out, i, n = [], 0, len(tags)
    while i < n:
        lab = LABELS[tags[i]]
        if lab.startswith("B-"):
            kind, j = lab[2:], i + 1
            while j < n and LABELS[tags[j]] == "I-" + kind:
                j += 1
            out.append((i, j, kind))
            i = j
        else:
            i += 1
    return out


class Tagger:
    """Arrays: keys (sorted feature codes), W (F+1, L) with a zero last row, trans (L+1, L), the
    two lattices (codes, categories)."""

    def __init__(self, arrays: dict):
        self.keys = arrays["keys"].astype(np.int64)
        self.W = arrays["W"].astype(np.float32)
        self.trans = arrays["trans"].astype(np.float32) + allowed_transitions()
        self.version = str(arrays["version"][0])
        self.dict = Lattice(arrays["dict_codes"], arrays["dict_cats"]) if "dict_codes" in arrays else None
        self.gaz = Lattice(arrays["gaz_codes"], arrays["gaz_cats"]) if "gaz_codes" in arrays else None
        # the dense tables are built on first use; a lock makes threads that arrive meanwhile (the
        # service warms its scanner while the first requests come in) wait for them, not see
        # them half filled
        self._build_lock = threading.RLock()     # _build_dense calls index()
        if "table_keys" in arrays:      # the lookup table, built once at training time
            self._tk = arrays["table_keys"].astype(np.int64)
            self._tv = arrays["table_rows"].astype(np.int32)
            self._disp = _hashtable.max_displacement(self._tk)

    def _build_table(self) -> None:
        """Open addressing (linear probing) from feature code to row: two memory reads a lookup
        instead of a binary search's twenty (scanner/detectors/_hashtable.py)."""
        tk, tv = _hashtable.build(self.keys, mixed=False)
        self._tv, self._disp = tv, _hashtable.max_displacement(tk)
        self._tk = tk                   # set last: index() builds when _tk is missing

    def index(self, feats: np.ndarray) -> np.ndarray:
        """Row of W for every feature code (the last, zero row for unknown codes)."""
        if not hasattr(self, "_tk"):
            with self._build_lock:
                if not hasattr(self, "_tk"):
                    self._build_table()
        return _hashtable.lookup(self._tk, self._tv, feats, self.keys.size, max_disp=self._disp)

    def emissions_hashed(self, texts: list[str]) -> np.ndarray:
        """Emissions the way training computes them: every feature code looked up."""
        f = features(texts, self.dict, self.gaz)
        return np.take(self.W, self.index(f), axis=0).sum(1)

    # Templates whose values come from a small domain are read from dense tables built at load
    # time (one cache-friendly gather each, no hashing or probing): the bias (0), the characters at
    # -3..+3 (1-7, per code point of the BMP, compacted to the characters the model knows), the
    # character-class windows (14, 15), the lattice marks alone (16, 18). The others (bigrams,
    # trigram, lattice x character / neighbours) are hashed. Same sums as emissions_hashed, in
    # another order (float32 rounding may differ in the last bit).
    HASHED = (8, 9, 10, 11, 12, 13, 17, 19)

    def _build_dense(self) -> None:
        t = [np.int64(k) for k in range(N_TEMPLATES)]
        n = self.keys.size
        W = self.W
        self._bias = W[self.index(_mix(t[0], np.zeros(1, dtype=np.int64)))[0]]
        cps = np.concatenate([np.arange(0x10000, dtype=np.int64), [BOS]])
        rows = np.stack([self.index(_mix(t[k], cps)) for k in range(1, 8)])      # (7, chars)
        known = np.nonzero((rows != n).any(0))[0]
        cid = np.zeros(cps.size, dtype=np.int64)                                   # 0: unknown character
        cid[known] = np.arange(1, known.size + 1)
        self._cid = cid
        uni = np.zeros((7, known.size + 1, W.shape[1]), dtype=np.float32)
        uni[:, 1:] = W[rows[:, known]]
        c6 = np.arange(6, dtype=np.int64)
        g3 = np.stack(np.meshgrid(c6, c6, c6, indexing="ij")).reshape(3, -1)
        g5 = np.stack(np.meshgrid(c6, c6, c6, c6, c6, indexing="ij")).reshape(5, -1)
        self._cls3 = W[self.index(_mix(t[14], *g3))]
        self._cls5 = W[self.index(_mix(t[15], *g5))]
        self._dbits = 3 * (int(self.dict.cats.max()) + 1) if self.dict is not None and self.dict.cats.size else 0
        self._gbits = 3 * (int(self.gaz.cats.max()) + 1) if self.gaz is not None and self.gaz.cats.size else 0
        self._dtab = W[self.index(_mix(t[16], np.arange(1 << self._dbits, dtype=np.int64)))]
        self._gtab = W[self.index(_mix(t[18], np.arange(1 << self._gbits, dtype=np.int64)))]
        self._union = LatticeUnion([lat for lat in (self.dict, self.gaz) if lat is not None])
        # set last: emissions() builds (under the lock) when _uni is missing, so a thread that finds
        # it finds every table whole
        self._uni = uni

    def emissions(self, texts: list[str]) -> np.ndarray:
        if not hasattr(self, "_uni"):
            with self._build_lock:
                if not hasattr(self, "_uni"):
                    self._build_dense()
        cps, i, valid = encode(texts)
        cls = char_classes(cps)
        d, g = _marks(self.dict, self.gaz, cps, valid, self._union)
        bmp = cps < 0x10000
        cid = np.where(bmp, self._cid[np.where(bmp, cps, 0)], np.where(cps == BOS, self._cid[-1], 0))
        E = np.take(self._uni[0], cid[i - 3], axis=0)
        for k in range(1, 7):
            E += np.take(self._uni[k], cid[i + k - 3], axis=0)
        E += self._bias
        E += np.take(self._cls3, cls[i - 1] * 36 + cls[i] * 6 + cls[i + 1], axis=0)
        E += np.take(self._cls5, (((cls[i - 2] * 6 + cls[i - 1]) * 6 + cls[i]) * 6 + cls[i + 1]) * 6 + cls[i + 2],
                     axis=0)
        E += np.take(self._dtab, d[i], axis=0)
        E += np.take(self._gtab, g[i], axis=0)
        c = [cps[i + k] for k in range(-3, 4)]
        t = [np.int64(k) for k in range(N_TEMPLATES)]
        hashed = np.stack([
            _mix(t[8], c[2], c[3]), _mix(t[9], c[3], c[4]), _mix(t[10], c[1], c[2]), _mix(t[11], c[4], c[5]),
            _mix(t[12], c[2], c[4]), _mix(t[13], c[2], c[3], c[4]),
            _mix(t[17], d[i], c[3]), _mix(t[19], g[i], d[i - 1], d[i + 1])], axis=1)
        rows = self.index(hashed)
        # the rows of the hashed templates summed one template after the other (what .sum(1)
        # over the gathered (characters, templates, labels) array computes, without numpy's slow
        # reduction over a short middle axis), then added
        S = np.take(self.W, rows[:, 0], axis=0)
        for k in range(1, rows.shape[1]):
            S += np.take(self.W, rows[:, k], axis=0)
        E += S
        rare = np.nonzero(~bmp & valid)[0]          # characters outside the BMP: their own lookups
        if rare.size:
            for k in range(7):
                p = np.nonzero(np.isin(i + k - 3, rare))[0]
                if p.size:
                    E[p] += self.W[self.index(_mix(t[k + 1], cps[i[p] + k - 3]))]
        return E

    def tag_many(self, texts: list[str]) -> list[np.ndarray]:
        texts = [t for t in texts]
        keep = [k for k, t in enumerate(texts) if t]
        out: list[np.ndarray] = [np.zeros(0, dtype=np.int64) for _ in texts]
        if not keep:
            return out
        sub = [texts[k] for k in keep]
        paths = viterbi_batch(self.emissions(sub), [len(t) for t in sub], self.trans)
        for k, p in zip(keep, paths):
            out[k] = p
        return out

    def spans_many(self, texts: list[str]) -> list[list[tuple[int, int, str]]]:
        return spans_of_paths(self.tag_many(texts))


def spans_of_paths(paths: list[np.ndarray]) -> list[list[tuple[int, int, str]]]:
    """[spans_from_tags_fast(p) for p in paths], over all paths at once: a constrained path begins
    with O or B-x, so a span never runs from one path into the next."""
    out: list[list[tuple[int, int, str]]] = [[] for _ in paths]
    if not paths:
        return out
    tags = np.concatenate(paths) if len(paths) > 1 else np.asarray(paths[0])
    is_b = tags % 2 == 1
    if not tags.size or not is_b.any():
        return out
    offs = np.zeros(len(paths) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in paths], out=offs[1:])
    starts = np.nonzero(is_b)[0]
    stop = np.nonzero(is_b | (tags == 0))[0]
    ends = np.append(stop, tags.size)[np.searchsorted(stop, starts, side="right")]
    which = np.searchsorted(offs, starts, side="right") - 1
    base = offs[which]
    for w, a, b, lab in zip(which.tolist(), (starts - base).tolist(), (ends - base).tolist(), tags[starts].tolist()):
        out[w].append((a, b, _KIND[lab]))
    return out
