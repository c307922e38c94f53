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

import numpy as np

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

    @classmethod
    def from_dict(cls, words: dict[str, int]) -> Lattice:
        items = sorted((w, c) for w, c in words.items() if 2 <= len(w) <= MAX_WORD)
        codes = np.array([string_code(w) for w, _ in items], dtype=np.int64)
        cats = np.array([c for _, c in items], dtype=np.int64)
        return cls(codes, cats)

    def marks(self, cps: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Per position of the padded array, a bit mask: bit 3*cat + role (0 begins, 1 inside, 2 ends)."""
        n = cps.size
        out = np.zeros(n, dtype=np.int64)
        if self.codes.size == 0:
            return out
        for L in range(2, MAX_WORD + 1):
            i = np.arange(0, n - L + 1)
            ok = np.ones(i.size, dtype=bool)
            for k in range(L):
                ok &= valid[i + k]
            i = i[ok]
            if i.size == 0:
                continue
            c = word_codes(cps, i, L)
            j = np.searchsorted(self.codes, c)
            j[j >= self.codes.size] = 0
            hit = self.codes[j] == c
            # within one length every start position holds one string: plain fancy-index OR is exact
            i, cat = i[hit], self.cats[j[hit]]
            bit = np.int64(1) << (3 * cat)
            out[i] |= bit
            out[i + L - 1] |= bit << 2
            for k in range(1, L - 1):
                out[i + k] |= bit << 1
        return out


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


def features(texts: list[str], dict_lattice: Lattice | None, gaz_lattice: Lattice | None) -> np.ndarray:
    """(characters, N_TEMPLATES) int64 feature codes for all characters of texts, in order."""
    cps, i, valid = encode(texts)
    cls = char_classes(cps)
    d = dict_lattice.marks(cps, valid) if dict_lattice is not None else np.zeros_like(cps)
    g = gaz_lattice.marks(cps, valid) if gaz_lattice is not None else np.zeros_like(cps)
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
    trans: (L+1, L), row L = start scores (constraints included)."""
    L = emis.shape[1]
    B = len(lengths)
    if B == 0:
        return []
    T = max(lengths)
    offs = np.cumsum([0] + list(lengths))
    E = np.zeros((B, T, L), dtype=np.float64)
    lens = np.array(lengths)
    for b in range(B):
        E[b, :lengths[b]] = emis[offs[b]:offs[b + 1]]
    tr = trans[:L].astype(np.float64)
    dp = E[:, 0] + trans[L]
    back = np.zeros((B, T, L), dtype=np.int64)
    for t in range(1, T):
        s = dp[:, :, None] + tr[None]                    # (B, prev, cur)
        arg = s.argmax(1)
        best = np.take_along_axis(s, arg[:, None, :], 1)[:, 0] + E[:, t]
        live = (t < lens)[:, None]
        dp = np.where(live, best, dp)
        back[:, t] = np.where(live, arg, np.arange(L)[None])
    k = dp.argmax(1)
    ar = np.arange(B)
    paths = np.empty((B, T), dtype=np.int64)
    for t in range(T - 1, -1, -1):      # padded steps map a label to itself, so k starts right
        paths[:, t] = k
        if t:
            k = back[ar, t, k]
    return [paths[b, :lengths[b]] for b in range(B)]


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
        if "table_keys" in arrays:      # the lookup table, built once at training time
            self._tk = arrays["table_keys"].astype(np.int64)
            self._tv = arrays["table_rows"].astype(np.int32)
            self._mask = np.int64(self._tk.size - 1)

    def _build_table(self) -> None:
        """Open addressing (linear probing) from feature code to row: two memory reads a lookup
        instead of a binary search's twenty."""
        n = self.keys.size
        size = 1 << max(10, int(np.ceil(np.log2(max(1, n) * 2.5))))
        self._mask = np.int64(size - 1)
        tk = np.full(size, -1, dtype=np.int64)
        tv = np.full(size, n, dtype=np.int32)
        rows = np.arange(n, dtype=np.int64)
        slot = self.keys & self._mask
        while rows.size:
            # the first row aiming at each free slot takes it; the others move one slot on
            free = tk[slot] == -1
            cand, cslot = rows[free], slot[free]
            _, first = np.unique(cslot, return_index=True)
            won = np.zeros(rows.size, dtype=bool)
            won[np.nonzero(free)[0][first]] = True
            tk[slot[won]] = self.keys[rows[won]]
            tv[slot[won]] = rows[won]
            rows, slot = rows[~won], (slot[~won] + 1) & self._mask
            del cand, cslot
        self._tk, self._tv = tk, tv

    def index(self, feats: np.ndarray) -> np.ndarray:
        """Row of W for every feature code (the last, zero row for unknown codes)."""
        if not hasattr(self, "_tk"):
            self._build_table()
        f = feats.ravel()
        slot = f & self._mask
        out = np.full(f.size, self.keys.size, dtype=np.int64)
        todo = np.arange(f.size)
        while todo.size:
            k = self._tk[slot]
            found = k == f[todo]
            out[todo[found]] = self._tv[slot[found]]
            go = ~found & (k != -1)          # an occupied slot with another key: probe on
            todo, slot = todo[go], (slot[go] + 1) & self._mask
        return out.reshape(feats.shape)

    def emissions(self, texts: list[str]) -> np.ndarray:
        f = features(texts, self.dict, self.gaz)
        return self.W[self.index(f)].sum(1)

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
        return [spans_from_tags(p) for p in self.tag_many(texts)]
