"""The progress line on stderr: 已扫描 done/total, rate (files/s), ETA, decisions so far, and the OCR
pages done/total of a multi-page scan while it is read (when the batch scans in this process: jobs=1 or
one file; pool workers report files)."""
from __future__ import annotations

import sys
import time
from collections import Counter

from ..taxonomy import DECISIONS, decision_zh


class Progress:
    def __init__(self, total: int, enabled: bool, stream=None, interval: float = 0.25):
        self.total, self.enabled = total, enabled
        self.stream = stream or sys.stderr
        self.interval = interval
        self.done = 0
        self.page: tuple[int, int] | None = None       # OCR pages done/total of the current file
        self.decisions: Counter = Counter()
        self.t0 = time.monotonic()
        self._last = 0.0
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def pages(self, done: int, total: int) -> None:
        """OCR pages of the file being scanned (a multi-page scan, scanned in this process)."""
        self.page = (done, total) if done < total else None
        now = time.monotonic()
        if self.enabled and (now - self._last >= self.interval or done == total):
            self._last = now
            self.render(now)

    def update(self, rec: dict) -> None:
        self.page = None
        self.done += 1
        self.decisions[rec.get("decision", "review")] += 1
        now = time.monotonic()
        if self.enabled and (now - self._last >= self.interval or self.done == self.total):
            self._last = now
            self.render(now)

    def line(self, now: float | None = None) -> str:
        now = now or time.monotonic()
        el = max(now - self.t0, 1e-9)
        rate = self.done / el
        left = max(self.total - self.done, 0)
        eta = left / rate if rate > 0 else float("inf")
        pct = 100.0 * self.done / self.total if self.total else 100.0
        width = 24
        fill = int(width * pct / 100)
        bar = "█" * fill + "░" * (width - fill)
        d = self.decisions
        pages = f" | 图片文字识别 OCR 第 {self.page[0]}/{self.page[1]} 页 pages" if self.page else ""
        return (f"扫描 scan {bar} {self.done}/{self.total} {pct:5.1f}% "
                f"{rate:7.1f} 文件/s files/s ETA {_hms(eta)} | "
                + " ".join(f"{decision_zh(k)} {k} {d[k]}" for k in DECISIONS) + pages)

    def render(self, now: float | None = None) -> None:
        text = self.line(now)
        if self.tty:
            self.stream.write("\r" + text + "\x1b[K")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.render()
            if self.tty:
                self.stream.write("\n")
            self.stream.flush()


def _hms(s: float) -> str:
    if s == float("inf") or s != s:
        return "--:--"
    s = int(s)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"
