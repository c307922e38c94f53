"""cProfile of the light scan on the 1 M text and on the 5 k texts; top functions by own time.

    .venv/bin/python bench/profile_hotspots.py [--quick]      (or bench/run.py --profile)
Writes bench/profile/*.txt (pstats output) and returns a summary dict.
"""
from __future__ import annotations

import cProfile
import io
import json
import pstats
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _top(prof: cProfile.Profile, n: int = 15) -> tuple[list[dict], str]:
    s = io.StringIO()
    st = pstats.Stats(prof, stream=s)
    st.sort_stats("tottime").print_stats(n)
    rows = []
    for (fn, line, name), (_cc, nc, tt, ct, _) in sorted(st.stats.items(), key=lambda kv: -kv[1][2])[:n]:
        rows.append({"func": f"{Path(fn).name}:{line}:{name}", "calls": nc, "tottime_s": round(tt, 4),
                     "cumtime_s": round(ct, 4)})
    s2 = io.StringIO()
    pstats.Stats(prof, stream=s2).sort_stats("cumulative").print_stats(25)
    return rows, s.getvalue() + "\n\n" + s2.getvalue()


def run(sc, big_text: str, texts: list[str], outdir: Path) -> dict:
    outdir.mkdir(parents=True, exist_ok=True)
    res = {}
    for name, fn in (("1m_text", lambda: sc.scan_text(big_text)),
                     ("5k_texts", lambda: [sc.scan_text(t) for t in texts])):
        fn()   # warm
        prof = cProfile.Profile()
        prof.enable()
        fn()
        prof.disable()
        rows, text = _top(prof)
        (outdir / f"{name}.txt").write_text(text, encoding="utf-8")
        res[name] = rows
    return res


def main() -> int:
    quick = "--quick" in sys.argv
    from scanner import get_scanner
    cdir = HERE / ("corpus-quick" if quick else "corpus")
    big = (cdir / "text" / "text_1000000.txt").read_text(encoding="utf-8")
    texts = [json.loads(x)["text"] for x in open(cdir / "texts_5k.jsonl", encoding="utf-8")][:100]
    res = run(get_scanner(light=True), big, texts, HERE / "profile")
    for k, rows in res.items():
        print(f"== {k}")
        for r in rows:
            print(f"  {r['tottime_s']:>8.3f}s own {r['cumtime_s']:>8.3f}s cum {r['calls']:>9} calls  {r['func']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
