"""Cost of the models at scan time: per 5,000 characters and per MB, light mode vs full mode.

    python -m training.bench_models [--repeat 5] [--mb-chars 100000]

The text is public news from ../shared/data/news with a few lines of personal data mixed in, cut
to 5,000 characters. "Per MB" scans --mb-chars characters once and scales to one MB of UTF-8
(Chinese text is ~3 bytes a character, so 1 MB is ~350 k characters). Single process, one
thread for LAC. Prints JSON with wall-clock and CPU time (CPU time is steadier when other
processes share the machine; the load average is printed too).
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

from .common import DATA, read_jsonl

PII_LINES = ["联系人：黄俊，手机13572468013，住址：湖北省武汉市洪山区珞喻路152号12栋3单元702室。",
             "该型号发动机核心参数尚处于保密阶段，首台样机将于明年三月在某试验场进行地面联调。"]


def corpus(n_chars: int) -> str:
    lines, total = [], 0
    rows = read_jsonl(DATA / "news" / "msra_val.jsonl") + read_jsonl(DATA / "news" / "peoplesdaily_dev.jsonl")
    k = 0
    while total < n_chars:
        t = rows[k % len(rows)]["text"] if k % 25 else PII_LINES[(k // 25) % 2]
        lines.append(t)
        total += len(t) + 1
        k += 1
    return "\n".join(lines)[:n_chars]


def time_scan(scanner, text: str, repeat: int) -> tuple[float, float, dict]:
    """Median wall-clock ms, median CPU ms of this process (steadier on a shared machine), and the
    per-detector wall-clock ms of the median run."""
    scanner.scan_text(text)   # warm-up
    runs = []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        rep = scanner.scan_text(text)
        runs.append(((time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000, rep))
    runs.sort(key=lambda r: r[0])
    wall, _, rep = runs[len(runs) // 2]
    cpu = statistics.median(r[1] for r in runs)
    per_det = {k: round(v, 2) for k, v in rep.timings_ms.items() if k.startswith("detect.")}
    return wall, cpu, per_det


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--mb-chars", type=int, default=100_000)
    args = ap.parse_args(argv)
    from scanner.engine import Scanner
    text5k = corpus(5000)
    big = corpus(args.mb_chars)
    mb_factor = (1 << 20) / len(big.encode("utf-8"))
    out = {}
    for mode, light in (("light", True), ("full", False)):
        t0 = time.perf_counter()
        sc = Scanner(light=light)
        load = (time.perf_counter() - t0) * 1000
        ms5k, cpu5k, per_det = time_scan(sc, text5k, args.repeat)
        t0, c0 = time.perf_counter(), time.process_time()
        sc.scan_text(big)
        ms_big, cpu_big = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
        out[mode] = {"load_ms": round(load, 1), "ms_per_5000_chars": round(ms5k, 2),
                     "cpu_ms_per_5000_chars": round(cpu5k, 2),
                     "detectors_ms_5000_chars": per_det,
                     "seconds_per_MB": round(ms_big * mb_factor / 1000, 2),
                     "cpu_seconds_per_MB": round(cpu_big * mb_factor / 1000, 2),
                     "model_version": sc.model_version}
    out["models_only_ms_per_5000_chars"] = round(out["full"]["ms_per_5000_chars"] - out["light"]["ms_per_5000_chars"], 2)
    out["models_only_cpu_ms_per_5000_chars"] = round(
        out["full"]["cpu_ms_per_5000_chars"] - out["light"]["cpu_ms_per_5000_chars"], 2)
    try:
        import os
        out["load_average"] = [round(x, 2) for x in os.getloadavg()]
        out["cpus"] = os.cpu_count()
    except OSError:
        pass
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
