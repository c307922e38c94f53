"""Open-addressing hash tables over int64 codes, built and probed with numpy (vectorised).

A feature code -> row lookup with a binary search (searchsorted) costs ~20 scattered reads per code;
a table with linear probing costs one or two. Used by the names tagger (feature codes -> weight
rows; the table is built at training time and stored in names.npz) and the passage classifier
(n-gram codes -> vocabulary index; built when the model loads).

`mixed=True` scatters the slot by a multiplicative hash first (for structured codes such as packed
code points); `mixed=False` takes the low bits of the code (codes that are already hashes).
"""
from __future__ import annotations

import numpy as np

_MUL = np.uint64(0x9E3779B97F4A7C15)


def _slots(codes: np.ndarray, bits: int, mixed: bool) -> np.ndarray:
    if not mixed:
        return codes & np.int64((1 << bits) - 1)
    with np.errstate(over="ignore"):
        h = codes.astype(np.uint64) * _MUL
    return (h >> np.uint64(64 - bits)).astype(np.int64)


def table_bits(n: int) -> int:
    return max(10, int(np.ceil(np.log2(max(1, n) * 2.5))))


def build(keys: np.ndarray, mixed: bool = False, missing: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(table keys, table rows): row k of `keys` stored at its slot or the next free one (the first
    row aiming at a free slot takes it; the others move one slot on). Empty slots: key -1, row
    `missing` (default len(keys))."""
    n = keys.size
    bits = table_bits(n)
    size = 1 << bits
    mask = np.int64(size - 1)
    tk = np.full(size, -1, dtype=np.int64)
    tv = np.full(size, n if missing is None else missing, dtype=np.int32)
    rows = np.arange(n, dtype=np.int64)
    slot = _slots(keys, bits, mixed)
    while rows.size:
        free = tk[slot] == -1
        cslot = slot[free]
        _, first = np.unique(cslot, return_index=True)
        won = np.zeros(rows.size, dtype=bool)
        won[np.nonzero(free)[0][first]] = True
        tk[slot[won]] = keys[rows[won]]
        tv[slot[won]] = rows[won]
        rows, slot = rows[~won], (slot[~won] + 1) & mask
    return tk, tv


def max_displacement(tk: np.ndarray, mixed: bool = False) -> int:
    """How far (in slots) any stored key lies from its home slot: a lookup may stop probing there."""
    bits = int(tk.size).bit_length() - 1
    pos = np.nonzero(tk != -1)[0]
    if pos.size == 0:
        return 0
    return int(((pos - _slots(tk[pos], bits, mixed)) & np.int64(tk.size - 1)).max())


# probes done one at a time before the rest of the chain is read at once (with max_disp)
_STEPWISE = 2


def lookup(tk: np.ndarray, tv: np.ndarray, codes: np.ndarray, missing: int, mixed: bool = False,
           max_disp: int | None = None) -> np.ndarray:
    """Row of every code (any shape), `missing` where a code is not in the table.

    max_disp (`max_displacement` of the table): after the first probes, the few codes still
    unresolved read the rest of their chain, up to max_disp slots from home, in one gather, instead
    of one numpy round per further slot (a fixed cost of ~10 rounds per call on these tables).
    The same rows: a stored key lies within max_disp of its home with no empty slot before it."""
    bits = int(tk.size).bit_length() - 1
    mask = np.int64(tk.size - 1)
    f = codes.ravel()
    slot = _slots(f, bits, mixed)
    k = tk[slot]
    found = k == f
    out = np.where(found, tv[slot], missing).astype(np.int64)
    todo = np.nonzero(~found & (k != -1))[0]         # an occupied slot with another key: probe on
    slot = (slot[todo] + 1) & mask
    disp = 1
    while todo.size:
        if max_disp is not None:
            if disp > max_disp:
                break                                # no stored key lies this far from home
            if disp > _STEPWISE:
                span = np.arange(max_disp - disp + 1, dtype=np.int64)
                s2 = (slot[:, None] + span) & mask
                k2 = tk[s2]
                hit = k2 == f[todo][:, None]
                first = (hit | (k2 == -1)).argmax(1)
                rows = np.arange(todo.size)
                ok = hit[rows, first]
                out[todo[ok]] = tv[s2[rows, first][ok]]
                break
        k = tk[slot]
        found = k == f[todo]
        out[todo[found]] = tv[slot[found]]
        go = ~found & (k != -1)
        todo, slot = todo[go], (slot[go] + 1) & mask
        disp += 1
    return out.reshape(codes.shape)
