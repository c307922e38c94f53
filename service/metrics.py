"""Prometheus text-format counters and histograms, in process (no client library needed)."""
from __future__ import annotations

import threading
from collections import defaultdict

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self):
        self._lock = threading.Lock()
        self.counters: dict[tuple[str, tuple], float] = defaultdict(float)
        self.hist: dict[tuple[str, tuple], list] = {}
        self.help = {
            "baomi_http_requests_total": "HTTP requests by route template, method and status",
            "baomi_http_request_seconds": "HTTP request latency by route template",
            "baomi_scans_total": "Completed scans by decision and path (sync/job/gate)",
            "baomi_gate_total": "Gate answers by allow and decision",
            "baomi_jobs_total": "Finished jobs by status and error code",
            "baomi_job_seconds": "Job run time",
            "baomi_audit_appends_total": "Audit entries appended",
        }

    def inc(self, name: str, value: float = 1.0, **labels) -> None:
        with self._lock:
            self.counters[(name, tuple(sorted(labels.items())))] += value

    def observe(self, name: str, seconds: float, **labels) -> None:
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            h = self.hist.get(key)
            if h is None:
                h = self.hist[key] = [[0] * len(BUCKETS), 0.0, 0]
            for i, b in enumerate(BUCKETS):
                if seconds <= b:
                    h[0][i] += 1
            h[1] += seconds
            h[2] += 1

    def render(self, gauges: dict[str, tuple[str, float]] | None = None) -> str:
        lines: list[str] = []
        seen = set()

        def head(name, kind):
            if name not in seen:
                seen.add(name)
                lines.append(f"# HELP {name} {self.help.get(name, name)}")
                lines.append(f"# TYPE {name} {kind}")

        def fmt(labels):
            if not labels:
                return ""
            return "{" + ",".join(f'{k}="{_esc(v)}"' for k, v in labels) + "}"

        with self._lock:
            for (name, labels), v in sorted(self.counters.items()):
                head(name, "counter")
                lines.append(f"{name}{fmt(labels)} {v:g}")
            for (name, labels), (counts, total, n) in sorted(self.hist.items()):
                head(name, "histogram")
                for b, c in zip(BUCKETS, counts):
                    lines.append(f"{name}_bucket{fmt(labels + (('le', f'{b:g}'),))} {c}")
                lines.append(f"{name}_bucket{fmt(labels + (('le', '+Inf'),))} {n}")
                lines.append(f"{name}_sum{fmt(labels)} {total:.6f}")
                lines.append(f"{name}_count{fmt(labels)} {n}")
        for name, (help_, value) in (gauges or {}).items():
            lines.append(f"# HELP {name} {help_}")
            lines.append(f"# TYPE {name} gauge")
            lines.append(f"{name} {value:g}")
        return "\n".join(lines) + "\n"


def _esc(v) -> str:
    return str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
