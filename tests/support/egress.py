"""Zero egress, traced: `strace -f` of connect/sendto (threads and children), and which of the
traced calls reach beyond the machine (tests/service/test_egress.py, tests/service/test_site_jobs.py)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

STRACE = shutil.which("strace")

CALL = re.compile(r"^(\d+)\s+(connect|sendto)\((.*)$")
LOOPBACK = re.compile(r'sin_addr=inet_addr\("127\.|inet_pton\(AF_INET6, "(::1|::ffff:127\.)')


def outbound(trace: Path) -> list[str]:
    """The traced calls that reach beyond the machine: a connect or an addressed sendto on an
    AF_INET/AF_INET6 socket to anything but loopback (AF_UNIX, AF_NETLINK and sendto on a socket
    connected before are local or already judged by their connect)."""
    bad = []
    for line in trace.read_text(errors="replace").splitlines():
        m = CALL.match(line)
        if not m:
            continue
        args = m.group(3)
        if "sa_family=AF_INET" not in args:      # AF_UNIX, AF_NETLINK, AF_UNSPEC, or no address (NULL)
            continue
        if not LOOPBACK.search(args):
            bad.append(line[:300])
    return bad


def strace_cmd(out: Path) -> list[str]:
    assert STRACE, "strace is missing: make test installs it (.ci/install_tools.sh)"
    return [STRACE, "-f", "-qq", "-s", "200", "-e", "trace=connect,sendto", "-o", str(out)]
