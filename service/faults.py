"""Test-only crash points (CHECKLIST G49): BAOMI_FAULT_AT=<point> makes the process kill -9
itself when it reaches that point. Unset in production."""
from __future__ import annotations

import os
import signal

_POINT = os.environ.get("BAOMI_FAULT_AT", "")


def fault(point: str) -> None:
    if _POINT and _POINT == point:
        os.kill(os.getpid(), signal.SIGKILL)
