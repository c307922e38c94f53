"""Side by side on the same leave-domains-out folds: the shipped TF-IDF + cues + LR, a spaCy
`textcat` pipeline, and a small character CNN (numpy-trained, exported to ONNX, run on onnxruntime).

    python -m training.passage_compare [--folds 0,3,6]     # default: fold 0 (CPU is scarce)      # adds to models/passage_eval.json

Every model is fitted on the same training part of a fold (all data but the fold's written
domains), its threshold set by the same rule (flag rate <= MAX_PUBLIC_RATE on the calibration
public text), and scored on the fold's written items and its shard of the held-out public text.
Speed: milliseconds to score the units of a 5,000-character news text (one process, one thread).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from .common import MODELS  # noqa: E402
from .passage import (LABELS, domain_folds, MAX_PUBLIC_RATE, load_eval, save_eval, MIN_THRESHOLD, N_FOLDS, build, held_public, prepared,  # noqa: E402
                      risks, shard, summarise, train_and_calibrate)
from .passage_corpus import news_sentences  # noqa: E402


def threshold_of(public_risks: np.ndarray) -> float:
    for t in np.arange(MIN_THRESHOLD, 0.995, 0.01):
        if (public_risks >= t).mean() <= MAX_PUBLIC_RATE:
            return round(float(t), 2)
    return 0.99


def weights(y: np.ndarray) -> np.ndarray:
    n_pub = int((y == 0).sum())
    return np.where(y == 0, 1.0, 0.5 * n_pub / max(1, len(y) - n_pub))


# -- spaCy textcat ---------------------------------------------------------------------------------

class SpacyTextcat:
    def __init__(self, texts: list[str], y: np.ndarray, epochs: int = 3, seed: int = 1):
        import spacy
        from spacy.training import Example
        spacy.util.fix_random_seed(seed)
        nlp = spacy.blank("zh")          # character segmentation (no external model)
        tc = nlp.add_pipe("textcat", config={"model": {"@architectures": "spacy.TextCatBOW.v3",
                                                        "exclusive_classes": True, "ngram_size": 3,
                                                        "no_output_layer": False}})
        for lab in LABELS:
            tc.add_label(lab)
        w = weights(y)
        docs = [nlp.make_doc(t) for t in texts]
        exs = [Example.from_dict(d, {"cats": {lab: float(i == k) for i, lab in enumerate(LABELS)}})
               for d, k in zip(docs, y)]
        opt = nlp.initialize(lambda: exs)
        rng = random.Random(seed)
        order = list(range(len(exs)))
        for _ in range(epochs):
            rng.shuffle(order)
            for i in range(0, len(order), 64):
                batch = [exs[k] for k in order[i:i + 64]]
                # sample weights by repetition of the rarer class (spaCy has no per-example weight)
                rep = [e for k, e in zip(order[i:i + 64], batch) for _ in range(max(1, int(round(w[k]))))]
                nlp.update(rep, sgd=opt, drop=0.1)
        self.nlp = nlp

    def risk(self, texts: list[str]) -> np.ndarray:
        return np.array([1.0 - d.cats["public"] for d in self.nlp.pipe(texts, batch_size=256)])


# -- character CNN (numpy training, ONNX export) --------------------------------------------------

class CharCNN:
    """Embedding (32) -> Conv1d widths 2 and 3 (64 filters each) -> ReLU -> max over time ->
    linear -> softmax; Adam on the weighted cross-entropy, trained here in numpy."""

    def __init__(self, texts: list[str], y: np.ndarray, epochs: int = 3, seed: int = 1,
                 d: int = 32, f: int = 64, max_len: int = 120):
        rng = np.random.default_rng(seed)
        chars = sorted({c for t in texts for c in t})
        self.vocab = {c: i + 2 for i, c in enumerate(chars)}      # 0 pad, 1 unknown
        self.max_len = max_len
        V, C = len(chars) + 2, len(LABELS)
        P = {"E": rng.normal(0, 0.1, (V, d)), "W2": rng.normal(0, 0.1, (2 * d, f)), "b2": np.zeros(f),
             "W3": rng.normal(0, 0.1, (3 * d, f)), "b3": np.zeros(f), "Wo": rng.normal(0, 0.1, (2 * f, C)),
             "bo": np.zeros(C)}
        P["E"][0] = 0
        m = {k: np.zeros_like(v) for k, v in P.items()}
        v2 = {k: np.zeros_like(v) for k, v in P.items()}
        w = weights(y)
        X = self.ids(texts)
        order = np.arange(len(texts))
        step = 0
        for _ in range(epochs):
            rng.shuffle(order)
            for i in range(0, len(order), 64):
                b = order[i:i + 64]
                g = self._grad(P, X[b], y[b], w[b])
                step += 1
                for k in P:
                    m[k] = 0.9 * m[k] + 0.1 * g[k]
                    v2[k] = 0.999 * v2[k] + 0.001 * g[k] ** 2
                    P[k] -= 2e-3 * (m[k] / (1 - 0.9 ** step)) / (np.sqrt(v2[k] / (1 - 0.999 ** step)) + 1e-8)
                P["E"][0] = 0
        self.P = P
        self.session = None

    def ids(self, texts: list[str]) -> np.ndarray:
        X = np.zeros((len(texts), self.max_len + 1), dtype=np.int64)     # always one pad at the end
        for i, t in enumerate(texts):
            a = [self.vocab.get(c, 1) for c in t[: self.max_len]]
            X[i, :len(a)] = a
        return X

    @staticmethod
    def _conv(E: np.ndarray, W: np.ndarray, b: np.ndarray, k: int):
        B, T, d = E.shape
        U = np.concatenate([E[:, j:T - k + 1 + j] for j in range(k)], axis=2)      # (B, T', k*d)
        H = U @ W + b
        return U, H

    def _grad(self, P, X, y, w):
        E = P["E"][X]
        outs, cache = [], []
        for k in (2, 3):
            U, H = self._conv(E, P[f"W{k}"], P[f"b{k}"], k)
            R = np.maximum(H, 0)
            am = R.argmax(1)                                        # (B, F)
            outs.append(np.take_along_axis(R, am[:, None, :], 1)[:, 0])
            cache.append((k, U, H, am))
        M = np.concatenate(outs, axis=1)
        z = M @ P["Wo"] + P["bo"]
        z -= z.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        dz = p.copy()
        dz[np.arange(len(y)), y] -= 1
        dz *= (w / w.sum())[:, None]
        g = {"Wo": M.T @ dz, "bo": dz.sum(0)}
        dM = dz @ P["Wo"].T
        dE = np.zeros_like(E)
        F = P["b2"].size
        for n, (k, U, H, am) in enumerate(cache):
            gm = dM[:, n * F:(n + 1) * F] * (np.take_along_axis(H, am[:, None, :], 1)[:, 0] > 0)   # (B, F)
            Ua = np.take_along_axis(U, am[:, :, None], 1)           # (B, F, k*d)
            g[f"W{k}"] = np.einsum("bfi,bf->if", Ua, gm)
            g[f"b{k}"] = gm.sum(0)
            dU = gm[:, :, None] * P[f"W{k}"].T[None]                # (B, F, k*d)
            d = E.shape[2]
            bi = np.repeat(np.arange(len(y)), F)
            for j in range(k):
                np.add.at(dE, (bi, (am + j).ravel()), dU[:, :, j * d:(j + 1) * d].reshape(-1, d))
        gE = np.zeros_like(P["E"])
        np.add.at(gE, X.ravel(), dE.reshape(-1, dE.shape[2]))
        g["E"] = gE
        return g

    def to_onnx(self) -> bytes:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
        P = {k: v.astype(np.float32) for k, v in self.P.items()}
        inits = [numpy_helper.from_array(P["E"], "E"), numpy_helper.from_array(P["Wo"], "Wo"),
                 numpy_helper.from_array(P["bo"], "bo")]
        nodes = [helper.make_node("Gather", ["E", "ids"], ["emb"]),                     # (B, T, d)
                 helper.make_node("Transpose", ["emb"], ["embT"], perm=[0, 2, 1])]      # (B, d, T)
        pooled = []
        d = P["E"].shape[1]
        for k in (2, 3):
            Wk = P[f"W{k}"].reshape(k, d, -1).transpose(2, 1, 0).copy()                 # (F, d, k)
            inits += [numpy_helper.from_array(Wk, f"C{k}"), numpy_helper.from_array(P[f"b{k}"], f"B{k}")]
            nodes += [helper.make_node("Conv", ["embT", f"C{k}", f"B{k}"], [f"h{k}"]),
                      helper.make_node("Relu", [f"h{k}"], [f"r{k}"]),
                      helper.make_node("ReduceMax", [f"r{k}"], [f"m{k}"], axes=[2], keepdims=0)]
            pooled.append(f"m{k}")
        nodes += [helper.make_node("Concat", pooled, ["M"], axis=1),
                  helper.make_node("Gemm", ["M", "Wo", "bo"], ["z"]),
                  helper.make_node("Softmax", ["z"], ["p"], axis=1)]
        g = helper.make_graph(nodes, "charcnn", [helper.make_tensor_value_info("ids", TensorProto.INT64, [None, None])],
                              [helper.make_tensor_value_info("p", TensorProto.FLOAT, [None, len(LABELS)])], inits)
        model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        onnx.checker.check_model(model)
        return model.SerializeToString()

    def risk(self, texts: list[str]) -> np.ndarray:
        if self.session is None:
            import onnxruntime as ort
            so = ort.SessionOptions()
            so.intra_op_num_threads = so.inter_op_num_threads = 1
            self.session = ort.InferenceSession(self.to_onnx(), so, providers=["CPUExecutionProvider"])
        out = []
        for i in range(0, len(texts), 512):
            X = self.ids(texts[i:i + 512])
            out.append(1.0 - self.session.run(None, {"ids": X})[0][:, 0])
        return np.concatenate(out) if out else np.zeros(0)


# -- the comparison ----------------------------------------------------------------------------------

def five_k_units() -> list[str]:
    from scanner.detectors.passage import MIN_CJK, cjk_count, units
    text, n = [], 0
    for s in news_sentences():
        text.append(s)
        n += len(s)
        if n > 5000:
            break
    t = "".join(text)[:5000]
    return [t[a:b] for a, b, _ in units(t) if cjk_count(t[a:b]) >= MIN_CJK]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", default="0")
    args = ap.parse_args(argv)
    data = prepared(build())
    written = [e for e in data if e["source"].startswith("written:")]
    fold_of = domain_folds(written)       # the folds of `python -m training.passage --cv domain`
    calib = [e["ptext"] for e in data if e["split"] == "calib"]
    public = held_public(data)
    unit5k = five_k_units()
    rows: dict[str, list] = {"tfidf_cues_lr": [], "spacy_textcat_bow": [], "char_cnn_onnx": []}
    speed: dict[str, list] = {k: [] for k in rows}
    for f in [int(x) for x in args.folds.split(",")]:
        out_d = {d for d, v in fold_of.items() if v == f}
        train = [e for e in data if e["split"] == "train" and not (e["source"].startswith("written:") and e["domain"] in out_d)]
        test = [e for e in written if e["domain"] in out_d]
        pub = [(t, s) for t, s in public if shard(t, N_FOLDS) == f]
        texts, y = [e["ptext"] for e in train], np.array([LABELS.index(e["label"]) for e in train])
        models = {}
        t0 = time.time()
        _, lr = train_and_calibrate(train, calib)
        models["tfidf_cues_lr"] = (lambda m: (lambda ts: risks(m, ts)[0]))(lr)
        print(f"fold {f}: lr {time.time() - t0:.0f}s", flush=True)
        t0 = time.time()
        sp = SpacyTextcat(texts, y)
        models["spacy_textcat_bow"] = sp.risk
        print(f"fold {f}: spacy {time.time() - t0:.0f}s", flush=True)
        t0 = time.time()
        cnn = CharCNN(texts, y)
        models["char_cnn_onnx"] = cnn.risk
        print(f"fold {f}: cnn {time.time() - t0:.0f}s", flush=True)
        for name, risk in models.items():
            thr = lr.threshold if name == "tfidf_cues_lr" else threshold_of(risk(calib))
            r = risk([e["ptext"] for e in test])
            for e, s in zip(test, r):
                rows[name].append({"kind": "written", "label": e["label"], "pred": e["label"], "risk": float(s),
                                   "flag": bool(s >= thr), "domain": e["domain"], "register": e["register"],
                                   "unit": e["unit"], "fold": f, "twin": bool(e["twin_id"])})
            rp = risk([t for t, _ in pub])
            for (_t, src), s in zip(pub, rp):
                rows[name].append({"kind": "public", "source": src, "risk": float(s), "flag": bool(s >= thr), "fold": f})
            risk(unit5k)
            t0 = time.perf_counter()
            for _ in range(3):
                risk(unit5k)
            speed[name].append((time.perf_counter() - t0) / 3 * 1000)
    res = {}
    for name in rows:
        s = summarise(rows[name], "domain")
        res[name] = {k: s[k] for k in ("written_positives", "recall", "twin_flag_rate", "precision_vs_public",
                                       "precision_vs_twins", "precision_vs_public_and_twins", "public_flag_rate")
                     if k in s} | {"ms_per_5000_chars_units": round(float(np.median(speed[name])), 2),
                                  "recall_by_category": s["recall_by_category"]}
    print(json.dumps(res, ensure_ascii=False, indent=1))
    ev = load_eval(MODELS)
    ev["compare"] = res
    if 0 in [int(x) for x in args.folds.split(",")]:
        f0 = [r["flag"] for r in rows["tfidf_cues_lr"] if r["kind"] == "written" and r["fold"] == 0 and r["label"] != "public"]
        ev["fold0_recall"] = sum(f0) / len(f0)
    ev["compare_folds"] = args.folds
    save_eval(MODELS, ev)


if __name__ == "__main__":
    main()
