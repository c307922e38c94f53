"""Train, calibrate and evaluate the passage classifier (models/passage.npz).

    python -m training.passage            # train + calibrate + held-out figures, writes models/
    python -m training.passage --eval     # only print the figures of the shipped model

Splits: the corpus (passage_corpus.build) marks every example train, calib or heldout (generated
sentences by their frame, so calibration and held-out frames are never fitted): the model is
fitted on train, the threshold is chosen on calib, and heldout is only ever used to print figures.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from scanner.detectors import _models
from scanner.detectors.passage import MODEL_FILE, PassageModel
from scanner.normalize import normalize
from .common import MODELS, prf
from .passage_corpus import LABELS, build, news_sentences

TARGET_PRECISION = 0.97     # on the calibration split
MAX_NEWS_RATE = 0.003       # flag rate on calibration news sentences


def prep(text: str) -> str:
    return normalize(text).text


def fit(texts, labels, C: float):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True, lowercase=False,
                          dtype=np.float64)
    X = vec.fit_transform(texts)
    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=3000)
    clf.fit(X, labels)
    return vec, clf


def export(vec, clf, threshold: float, version: str) -> dict:
    vocab = vec.vocabulary_
    keys = sorted(vocab, key=vocab.get)
    order = [vocab[k] for k in keys]
    coef = clf.coef_[:, order]
    # keep the class order of LABELS
    cls = list(clf.classes_)
    rows = [cls.index(lab) for lab in LABELS]
    return {
        "keys": _models.pack_strings(keys), "idf": vec.idf_[order].astype(np.float32),
        "coef": coef[rows].astype(np.float32), "intercept": clf.intercept_[rows].astype(np.float32),
        "labels": _models.pack_strings(list(LABELS)), "threshold": np.array([threshold], dtype=np.float32),
        "ngram_range": np.array(vec.ngram_range, dtype=np.int32), "version": np.array([version]),
    }


def risks(model: PassageModel, texts):
    out = []
    for t in texts:
        p = model.proba(t)
        q = p.copy()
        q[model.public] = -1
        out.append((1.0 - float(p[model.public]), model.labels[int(q.argmax())]))
    return out


def calibrate(scores, gold_pos, is_news) -> float:
    """Smallest threshold with precision >= target and news flag rate <= bound on calibration data."""
    best = 0.99
    for t in np.arange(0.20, 0.99, 0.01):
        pred = [s >= t for s in scores]
        tp = sum(p and g for p, g in zip(pred, gold_pos))
        fp = sum(p and not g for p, g in zip(pred, gold_pos))
        news_fp = sum(p for p, n in zip(pred, is_news) if n)
        n_news = max(1, sum(is_news))
        prec = tp / (tp + fp) if tp + fp else 0
        if prec >= TARGET_PRECISION and news_fp / n_news <= MAX_NEWS_RATE:
            return round(float(t), 2)
    return best


def figures(model: PassageModel, data) -> dict:
    held = [(prep(t), lab, src) for t, lab, src, sp in data if sp == "heldout"]
    sc = risks(model, [t for t, _, _ in held])
    tp = fp = fn = 0
    label_ok = 0
    per_source: dict = {}
    for (_t, lab, src), (s, plab) in zip(held, sc):
        flagged = s >= model.threshold
        pos = lab != "public"
        tp += flagged and pos
        fp += flagged and not pos
        fn += (not flagged) and pos
        label_ok += flagged and pos and plab == lab
        key = src.split(":")[0] + ":" + ("positive" if pos else "public")
        d = per_source.setdefault(key, [0, 0])
        d[0] += 1
        d[1] += flagged
    res = {"heldout": prf(tp, fp, fn), "heldout_label_accuracy_of_true_positives": round(label_ok / max(1, tp), 4),
           "heldout_by_source_flagged": {k: f"{v[1]}/{v[0]}" for k, v in sorted(per_source.items())}}
    news = [prep(t) for t in news_sentences()]
    ns = risks(model, news)
    flagged = sum(s >= model.threshold for s, _ in ns)
    res["news_all"] = {"sentences": len(news), "flagged": flagged, "rate": round(flagged / len(news), 4)}
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description="passage classifier")
    ap.add_argument("--eval", action="store_true", help="print the figures of the shipped model")
    ap.add_argument("--C", type=float, default=0.0, help="regularisation; default: chosen on calib")
    ap.add_argument("--out", default=str(MODELS))
    args = ap.parse_args(argv)
    out = Path(args.out)
    data = build()
    if args.eval:
        model = PassageModel(_models.load_npz(MODEL_FILE, out))
        print(json.dumps(figures(model, data), ensure_ascii=False, indent=2))
        return
    fit_part = [(prep(t), lab, src) for t, lab, src, sp in data if sp == "train"]
    cal_part = [(prep(t), lab, src) for t, lab, src, sp in data if sp == "calib"]
    t0 = time.time()
    Cs = [args.C] if args.C else [1.0, 4.0, 16.0]
    best = None
    for C in Cs:      # chosen on the calibration split, never on held-out
        vec, clf = fit([t for t, _, _ in fit_part], [lab for _, lab, _ in fit_part], C)
        m = PassageModel(export(vec, clf, 0.5, "probe"))
        sc = [s for s, _ in risks(m, [t for t, _, _ in cal_part])]
        thr = calibrate(sc, [lab != "public" for _, lab, _ in cal_part],
                        [src.startswith("news") for _, _, src in cal_part])
        tp = sum(s >= thr and lab != "public" for s, (_, lab, _) in zip(sc, cal_part))
        fn = sum(s < thr and lab != "public" for s, (_, lab, _) in zip(sc, cal_part))
        print(f"C={C}: calibration threshold {thr}, calibration recall {tp / max(1, tp + fn):.3f}")
        if best is None or tp > best[0]:
            best = (tp, C, vec, clf)
    _, C, vec, clf = best
    args.C = C
    print(f"fitted on {len(fit_part)} sentences, {len(vec.vocabulary_)} n-grams ({time.time() - t0:.0f}s)")
    version = "passage-tfidf-lr-1"
    arrays = export(vec, clf, 0.5, version)
    model = PassageModel(arrays)
    # the exported arrays must reproduce sklearn exactly
    probe = [t for t, _, _ in cal_part[:200]]
    diff = np.abs(clf.predict_proba(vec.transform(probe))[:, [list(clf.classes_).index(lab) for lab in LABELS]]
                  - np.array([model.proba(t) for t in probe])).max()
    assert diff < 1e-4, f"exported model differs from sklearn by {diff}"
    sc = [s for s, _ in risks(model, [t for t, _, _ in cal_part])]
    thr = calibrate(sc, [lab != "public" for _, lab, _ in cal_part], [src.startswith("news") for _, _, src in cal_part])
    arrays["threshold"] = np.array([thr], dtype=np.float32)
    model = PassageModel(arrays)
    print(f"calibrated threshold {thr} on {len(cal_part)} calibration sentences")
    res = figures(model, data)
    print(json.dumps(res, ensure_ascii=False, indent=2))
    np.savez_compressed(out / MODEL_FILE, **arrays)
    _models.record(MODEL_FILE, out, version=version, threshold=thr, C=args.C,
                   heldout=res["heldout"], news_all=res["news_all"])
    print(f"wrote {out / MODEL_FILE} ({(out / MODEL_FILE).stat().st_size // 1024} kB)")


if __name__ == "__main__":
    main()
