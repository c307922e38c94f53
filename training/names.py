"""Train the name/address tagger (models/names.npz): vectorised features, averaged perceptron.

    python -m training.names [--epochs 12] [--seeds 2]

Data (read from ../shared/data, never copied; see models/MODEL_CARD_names.md):
- ner/cluener_train.jsonl: labels `name` -> N, `address` -> A, the other eight -> X; records in
  the stable 20 % held-out split (common.is_heldout) are never trained on;
- ner/weibo_train.jsonl: PER.NAM -> N (informal text); NOM mentions (妈妈, 老师) stay O;
- address/address_train.jsonl (80 % by id) put into written sentence frames -> A; masked names
  (马某东, 王**) and honorific-only forms (王先生) in the same frames stay O;
- lexicons: jieba's dictionary (shipped with the pinned jieba; words of 2-4 characters by part of
  speech) and the entity strings of the CLUENER training part (learnt two-fold: a sentence sees
  only the other half's entities, so the model learns how far to trust them).

Model: scanner/detectors/names_tagger.py (features as int64 codes, BIO-constrained Viterbi);
averaged structured perceptron, several runs over different sentence orders averaged.
Deterministic (fixed seeds, sorted inputs).
"""
from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np

from scanner.detectors import _models
from scanner.detectors.names import MODEL_FILE
from scanner.detectors.names_tagger import LABELS, MAX_WORD, Lattice, Tagger, allowed_transitions, features, \
    viterbi_batch
from .common import DATA, MODELS, is_heldout, normalized_spans, prf, read_jsonl

GAZ_MAX = 6
SEED = 20261127
VERSION = "names-char-lattice-3"
# jieba part of speech -> lattice category
POS_CAT = {"nr": 0, "nrt": 0, "nrfg": 0, "ns": 1, "nt": 2, "nz": 3}
COMMON = 4

LAB = {lab: i for i, lab in enumerate(LABELS)}
SEED = 20261127

FRAMES = [
    "{N}，住{A}。", "家住{A}的{N}反映，小区供暖一直不达标。", "联系地址：{A}", "收件人：{N}，地址：{A}",
    "{N}（男，{age}岁，住{A}）因涉嫌盗窃被依法刑事拘留。", "该公司注册地址为{A}。", "事发地点位于{A}附近。",
    "业主{N}名下房屋位于{A}。", "户籍地址：{A}", "请于周三前将材料寄至{A}，{N}收。",
    "{N}的现住址是{A}，联系电话已登记。", "经查，{N}实际居住在{A}。", "寄件人{N}  {A}",
    "申请人：{N}，住所地：{A}。", "本店已搬迁至{A}，欢迎新老顾客光临。", "{A}",
    "被告{N}，女，{age}岁，住{A}。", "快递请送到{A}，交给{N}就行。", "居住地址 {A}",
]
MASKED_FRAMES = [
    "{M}，住{A}。", "当事人{M}已于当日返回。", "{M}（化名）告诉记者，事情已经解决。", "{H}说这批货明天到。",
    "据{H}介绍，村里今年新修了两条路。", "举报人{M}反映的问题已转交属地处理。",
]


def build_gazetteer(records) -> dict[str, str]:
    """Entity strings (2-6 chars) of the given training records -> their most frequent label."""
    from collections import Counter
    votes: dict[str, Counter] = {}
    for r in records:
        for s in r["spans"]:
            t = r["text"][s["start"]:s["end"]]
            if 2 <= len(t) <= GAZ_MAX:
                lab = {"name": "N", "address": "A"}.get(s["label"], "X")
                votes.setdefault(t, Counter())[lab] += 1
    return {t: c.most_common(1)[0][0] for t, c in votes.items()}


def cluener(records, heldout: bool):
    out = []
    for r in records:
        if is_heldout(r["id"]) != heldout:
            continue
        spans = [(s["start"], s["end"], {"name": "N", "address": "A"}.get(s["label"], "X"))
                 for s in r["spans"]]
        out.append(normalized_spans(r["text"], spans))
    return out


def weibo(records):
    out = []
    for r in records:
        spans = [(s["start"], s["end"], "N" if s["label"] == "PER.NAM" else "X")
                 for s in r["spans"] if s["label"] in ("PER.NAM", "ORG.NAM")]
        out.append(normalized_spans(r["text"], spans))
    return out


NEWS_FILES = ("news/msra_val.jsonl", "news/peoplesdaily_dev.jsonl")


def news(records):
    """MSRA / People's Daily news sentences, for person names only: PER spans are names (N); every
    other character may be anything but a name (their address / other-entity / O labels follow
    other conventions than CLUENER's and are left open). Marked by a "P" (partial) pseudo-span."""
    out = []
    for r in records:
        text, spans = normalized_spans(r["text"], [(s["start"], s["end"], "N") for s in r["spans"]
                                                   if s["label"] == "PER"])
        out.append((text, spans + [(0, 0, "P")]))
    return out


def partial_mask(n: int, spans) -> np.ndarray | None:
    """(n, labels) 0 / -1e9 for a sentence with partial labels (a "P" pseudo-span): names where
    marked, anything but a name elsewhere; None for a fully labelled sentence (the gold path is
    then the tags). Training takes as gold the best path that agrees with what is known."""
    if not any(k == "P" for _, _, k in spans):
        return None
    ok = np.ones((n, len(LABELS)), dtype=bool)
    ok[:, [LAB["B-N"], LAB["I-N"]]] = False
    for a, b, kind in spans:
        if kind != "N" or a >= b:
            continue
        ok[a:b] = False
        ok[a, LAB["B-N"]] = True
        ok[a + 1:b, LAB["I-N"]] = True
    return np.where(ok, 0.0, -1e9)


def fill(frame: str, values: dict) -> tuple[str, list[tuple[int, int, str]]]:
    text, spans, k = "", [], 0
    while k < len(frame):
        if frame[k] == "{":
            e = frame.index("}", k)
            key = frame[k + 1:e]
            val = values[key]
            if key in ("N", "A"):
                spans.append((len(text), len(text) + len(val), key))
            text += val
            k = e + 1
        else:
            text += frame[k]
            k += 1
    return text, spans


def address_frames(addresses: list[str], names: list[str], rng: random.Random, n: int):
    out = []
    surnames = [x[0] for x in names if len(x) in (2, 3)]
    for _ in range(n):
        a, nm = rng.choice(addresses), rng.choice(names)
        s = rng.choice(surnames)
        masked = rng.choice([s + "某" + rng.choice(names)[-1], s + "某", s + "**", s + "某某", s + "×" + rng.choice(names)[-1]])
        hon = rng.choice([s + "先生", s + "女士", "老" + s, "小" + s, s + "师傅"])
        vals = {"N": nm, "A": a, "M": masked, "H": hon, "age": str(rng.randint(19, 78))}
        frame = rng.choice(MASKED_FRAMES) if rng.random() < 0.25 else rng.choice(FRAMES)
        out.append(normalized_spans(*fill(frame, vals)))
    return out


def to_tags(n: int, spans) -> list[int]:
    tags = [0] * n
    for a, b, kind in spans:
        if a >= b or any(tags[a:b]) or kind == "P":
            continue
        tags[a] = LAB["B-" + kind]
        for k in range(a + 1, b):
            tags[k] = LAB["I-" + kind]
    return tags




FORM_LINES = Path(__file__).resolve().parents[1] / "training_data" / "names" / "form_lines.txt"


def form_lines() -> list[tuple[str, list[tuple[int, int, str]]]]:
    """Project-written form, notice and technical lines (all O, names marked [[...]] as N)."""
    import re
    out = []
    for line in FORM_LINES.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, spans, pos = "", [], 0
        for m in re.finditer(r"\[\[(.+?)\]\]", line):
            text += line[pos:m.start()]
            spans.append((len(text), len(text) + len(m.group(1)), "N"))
            text += m.group(1)
            pos = m.end()
        text += line[pos:]
        out.append((text, spans))
    return out


def jieba_words() -> dict[str, int]:
    """Words of 2..MAX_WORD characters of jieba's shipped dictionary -> category (person, place,
    organisation, other proper noun, common word)."""
    import jieba
    path = Path(jieba.__file__).parent / "dict.txt"
    out: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split(" ")
        if len(parts) < 3 or not 2 <= len(parts[0]) <= MAX_WORD:
            continue
        w, freq, pos = parts[0], int(parts[1]), parts[2]
        cat = POS_CAT.get(pos)
        if cat is None:
            if freq < 20:
                continue
            cat = COMMON
        out.setdefault(w, cat)
    return out


def gaz_words(records) -> dict[str, int]:
    return {w: {"N": 0, "A": 1}.get(lab, 2) for w, lab in build_gazetteer(records).items() if len(w) <= MAX_WORD}


def train(idx_rows, n_feats: int, epochs: int, seed: int):
    """Averaged structured perceptron over precomputed feature indices (row n_feats = unknown)."""
    L = len(LABELS)
    pad = n_feats
    W = np.zeros((n_feats + 1, L))
    U = np.zeros_like(W)
    T = np.zeros((L + 1, L))
    TU = np.zeros_like(T)
    mask = allowed_transitions().astype(np.float64)
    rng = random.Random(seed)
    order = list(range(len(idx_rows)))
    c = 1
    for ep in range(epochs):
        rng.shuffle(order)
        errs = 0
        t0 = time.time()
        for k in order:
            idx, gold, part = idx_rows[k]
            emis = W[idx].sum(1)
            pred = viterbi_batch(emis, [len(gold)], T + mask)[0]
            if part is not None:        # partial labels: the best path agreeing with what is known
                gold = viterbi_batch(emis + part, [len(gold)], T + mask)[0]
            if not np.array_equal(pred, gold):
                errs += 1
                for i in np.nonzero(pred != gold)[0]:
                    r = idx[i]
                    r = r[r != pad]
                    W[r, gold[i]] += 1
                    W[r, pred[i]] -= 1
                    U[r, gold[i]] += c
                    U[r, pred[i]] -= c
                for seq, sgn in ((gold, 1), (pred, -1)):
                    prev = L
                    for cur in seq:
                        T[prev, cur] += sgn
                        TU[prev, cur] += sgn * c
                        prev = cur
            c += 1
        print(f"epoch {ep + 1}: sentences with errors {errs}/{len(order)} ({time.time() - t0:.0f}s)", flush=True)
    Wa = (W - U / c).astype(np.float32)
    Wa[pad] = 0
    return Wa, (T - TU / c).astype(np.float32)


def evaluate(tagger: Tagger, data) -> dict:
    """Model alone on normalised text, exact spans."""
    res = {}
    preds = tagger.spans_many([t for t, _ in data])
    for kind in ("N", "A"):
        tp = fp = fn = 0
        for (_text, spans), pr in zip(data, preds):
            pred = {(a, b) for a, b, k in pr if k == kind}
            gold = {(a, b) for a, b, k in spans if k == kind}
            tp += len(pred & gold)
            fp += len(pred - gold)
            fn += len(gold - pred)
        res[kind] = prf(tp, fp, fn)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--seeds", type=int, default=1, help="perceptrons averaged (different sentence orders)")
    ap.add_argument("--min-count", type=int, default=2)
    ap.add_argument("--no-dict", action="store_true", help="no jieba dictionary lattice")
    ap.add_argument("--no-weibo", action="store_true", help="leave out ner/weibo_train.jsonl")
    ap.add_argument("--no-news", action="store_true", help="leave out the MSRA / People's Daily news sentences")
    ap.add_argument("--addr-frames", type=int, default=3000, help="address sentences generated from frames")
    ap.add_argument("--out", default=str(MODELS))
    args = ap.parse_args(argv)
    rng = random.Random(SEED)
    clu = read_jsonl(DATA / "ner" / "cluener_train.jsonl")
    clu_train = [r for r in clu if not is_heldout(r["id"])]
    fold = [is_heldout("fold:" + r["id"], 50) for r in clu_train]
    gaz_full = Lattice.from_dict(gaz_words(clu_train))
    gaz_fold = [Lattice.from_dict(gaz_words([r for r, f in zip(clu_train, fold) if f == side])) for side in (False, True)]
    dict_lat = None if args.no_dict else Lattice.from_dict(jieba_words())
    train_data = cluener(clu_train, heldout=False)
    side = [0 if f else 1 for f in fold]          # which half's gazetteer a sentence sees
    test_data = cluener(clu, heldout=True)
    if not args.no_weibo:
        wb = weibo(read_jsonl(DATA / "ner" / "weibo_train.jsonl"))
        train_data += wb
        side += [k % 2 for k in range(len(wb))]
    if not args.no_news:
        nw = news([r for f in NEWS_FILES for r in read_jsonl(DATA / f)])
        train_data += nw
        side += [k % 2 for k in range(len(nw))]
    addr = [r for r in read_jsonl(DATA / "address" / "address_train.jsonl")
            if not any(s["label"] == "person" for s in r["spans"]) and len(r["text"]) <= 60]
    addr_train = [r["text"] for r in addr if not is_heldout(r["id"])]
    names = sorted({r["text"][s["start"]:s["end"]] for r in clu_train for s in r["spans"] if s["label"] == "name"
                    and all("\u4e00" <= ch <= "\u9fff" for ch in r["text"][s["start"]:s["end"]])})
    af = address_frames(addr_train, names, rng, args.addr_frames)
    train_data += af
    side += [k % 2 for k in range(len(af))]
    fl = form_lines() * 3      # short lines: seen three times an epoch
    train_data += fl
    side += [k % 2 for k in range(len(fl))]
    keep = [k for k, (t, _) in enumerate(train_data) if t]
    train_data = [train_data[k] for k in keep]
    side = [side[k] for k in keep]
    print(f"training sentences: {len(train_data)}; held-out cluener sentences: {len(test_data)}", flush=True)
    t0 = time.time()
    feats = [None] * len(train_data)
    for s in (0, 1):
        ks = [k for k in range(len(train_data)) if side[k] == s]
        F = features([train_data[k][0] for k in ks], dict_lat, gaz_fold[s])
        pos = 0
        for k in ks:
            n = len(train_data[k][0])
            feats[k] = F[pos:pos + n]
            pos += n
    allf = np.concatenate(feats)
    codes, counts = np.unique(allf, return_counts=True)
    keys = codes[counts >= args.min_count]
    F = keys.size
    idx_rows = []
    for f, (text, spans) in zip(feats, train_data):
        j = np.searchsorted(keys, f)
        j[j >= F] = 0
        idx = np.where(keys[j] == f, j, F)
        idx_rows.append((idx, np.array(to_tags(len(text), spans), dtype=np.int64), partial_mask(len(text), spans)))
    print(f"features: {F} kept of {codes.size} ({time.time() - t0:.0f}s)", flush=True)
    runs = [train(idx_rows, F, args.epochs, SEED + k) for k in range(args.seeds)]
    W = np.mean([r[0] for r in runs], axis=0).astype(np.float32)
    T = np.mean([r[1] for r in runs], axis=0).astype(np.float32)
    arrays = {"keys": keys.astype(np.int64), "W": W, "trans": T, "version": np.array([VERSION]),
              "gaz_codes": gaz_full.codes, "gaz_cats": gaz_full.cats.astype(np.int8)}
    if dict_lat is not None:
        arrays["dict_codes"] = dict_lat.codes
        arrays["dict_cats"] = dict_lat.cats.astype(np.int8)
    tagger = Tagger(arrays)
    tagger._build_table()
    arrays["table_keys"], arrays["table_rows"] = tagger._tk, tagger._tv
    t1 = time.perf_counter()
    metrics = evaluate(tagger, test_data)
    secs = time.perf_counter() - t1
    chars = sum(len(t) for t, _ in test_data)
    print("held-out cluener (model alone, normalised text):", metrics,
          f"{chars / secs:,.0f} chars/s (batched)", flush=True)
    out = Path(args.out)
    np.savez_compressed(out / MODEL_FILE, **arrays)
    _models.record(MODEL_FILE, out, version=VERSION,
                   heldout_model_only={"name": metrics["N"], "address": metrics["A"]})
    print(f"wrote {out / MODEL_FILE} ({(out / MODEL_FILE).stat().st_size // 1024} kB)")


if __name__ == "__main__":
    main()
