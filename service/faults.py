"""Named crash points for the crash-safety tests: with BAOMI_FAULT_AT=<point> in its environment,
the server kills itself with SIGKILL when it reaches that point, as a power cut would there: every
process of its process group at once (the supervisor and the sibling processes of `--http-workers`,
extraction children). tests/service/test_process.py starts real servers so, each in a session of
its own. The points: after_tmp_write, after_rename (storage), after_commit (a submission stored),
in_worker_before_result, in_worker_after_result (jobs). Without the variable `fault()` does
nothing; it is read once, on the first call."""
from __future__ import annotations

import functools
import os
import signal


@functools.cache
def _armed() -> str:
    return os.environ.get("BAOMI_FAULT_AT", "")


def fault(point: str) -> None:
    if _armed() == point:
        os.killpg(os.getpgrp(), signal.SIGKILL)
