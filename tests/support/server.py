"""Run `baomi serve` as a real subprocess on loopback (the process, egress and browser tests, and
bench/loadtest.py)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data_dir: Path, port: int | None = None, db_url: str = "", wrap: list[str] | None = None,
                 **env):
        """wrap: a command the server runs under (e.g. strace -f -o FILE): the server is then its child."""
        self.data_dir, self.port, self.db_url = Path(data_dir), port or free_port(), db_url
        self.wrap = list(wrap or [])
        self.env = {k.upper(): str(v) for k, v in env.items()}
        self.proc: subprocess.Popen | None = None
        self.log = self.data_dir.parent / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0, wait: bool = True, **extra_env) -> Server:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "BAOMI_DATA_DIR": str(self.data_dir), "BAOMI_PORT": str(self.port),
               "BAOMI_HOST": "127.0.0.1", "BAOMI_DB_URL": self.db_url,
               "BAOMI_EXIT_WITH_PARENT": str(os.getpid()), **self.env,
               **{k.upper(): str(v) for k, v in extra_env.items()}}
        if self.wrap:      # the server's parent is then the wrapper, not this process
            env.pop("BAOMI_EXIT_WITH_PARENT")
        if "BAOMI_FAULT_AT" not in extra_env and "BAOMI_FAULT_AT" not in self.env:
            env.pop("BAOMI_FAULT_AT", None)
        self.proc = subprocess.Popen([*self.wrap, sys.executable, "-m", "scanner.cli", "serve"], env=env,
                                     stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True,
                                     cwd=str(Path(__file__).resolve().parents[2]))
        if not wait:
            return self
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("server did not start in time")

    def kill9(self) -> None:
        """SIGKILL the whole server: the process and its children (HTTP worker processes,
        extraction children), as a crash or power cut would."""
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc:
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            if self.wrap:      # SIGTERM to the whole group: a tracer that only detaches would leave the server
                try:
                    os.killpg(self.proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            else:
                self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()

    def wait_exit(self, timeout: float = 30.0) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def accounts(self) -> dict[str, str]:
        out = {}
        for line in (self.data_dir / "demo-accounts.txt").read_text().splitlines():
            user, _role, secret = line.split("\t")
            out[user] = secret
        return out

    def login(self, user: str) -> httpx.Client:
        c = httpx.Client(base_url=self.url, timeout=30.0)
        r = c.post("/api/v1/auth/login", json={"username": user, "password": self.accounts()[user]})
        r.raise_for_status()
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return c
