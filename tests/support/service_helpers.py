"""Helpers for the service tests (tests/service, tests/e2e): a real SQLite file or a real
PostgreSQL database per test, the app, users, logged-in clients and API keys, polling.

PostgreSQL: set BAOMI_TEST_PG_DSN (`.ci/run` starts a server and sets it). Without it the
PostgreSQL variants are skipped with a visible reason locally and FAIL under CI=true, so a
missing server never passes silently.
"""
from __future__ import annotations

import contextlib
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service import audit
from service.accounts import make_key
from service.main import create_app
from service.models import User
from service.security import hash_password, use_fast_hasher_for_tests
from service.settings import Settings

PG_ENV = "BAOMI_TEST_PG_DSN"
BACKENDS = ["sqlite", "postgres"]


def valid_id_number(prefix17: str = "11010519900307123") -> str:
    """A GB 11643 ID number with a correct check digit."""
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return prefix17 + "10X98765432"[sum(int(a) * b for a, b in zip(prefix17, w)) % 11]


def pg_dsn_or_skip() -> str:
    dsn = os.environ.get(PG_ENV, "")
    if not dsn:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} is not set in CI: .ci/run must start PostgreSQL")
        pytest.skip(f"PostgreSQL variant NOT RUN: set {PG_ENV} (eval \"$(bash .ci/start_postgres.sh)\")")
    return dsn


@contextlib.contextmanager
def pg_database():
    """A fresh PostgreSQL database; yields its SQLAlchemy URL; dropped afterwards."""
    dsn = pg_dsn_or_skip()
    name = "baomi_t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = dsn.rpartition("/")
    url = f"{base}/{name}"
    try:
        yield url
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def db_url_for(backend: str, tmp_path: Path):
    if backend == "sqlite":
        yield ""
    else:
        with pg_database() as url:
            yield url


def _fast_hashing() -> None:
    use_fast_hasher_for_tests()


def make_settings(tmp_path: Path, db_url: str = "", **kw):
    _fast_hashing()
    base = dict(data_dir=tmp_path / "data", db_url=db_url, workers=1, light_scanner=True,
                isolated="false", create_demo_accounts=False)
    base.update(kw)
    return Settings(**base)


@dataclass
class Svc:
    app: object
    client: object          # unauthenticated TestClient that owns the lifespan
    settings: object
    passwords: dict

    @property
    def st(self):
        return self.app.state.svc

    def user(self, username: str, role: str, password: str | None = None) -> int:
        pw = password or ("pw-" + uuid.uuid4().hex[:12])
        with self.st.db.write() as s:
            u = User(username=username, display_name=username, role=role, password_hash=hash_password(pw))
            s.add(u)
            s.flush()
            uid = u.id
        self.passwords[username] = pw
        return uid

    def users(self, **roles: str) -> dict[str, int]:
        """Several accounts at once, username=role each (in that order) -> their ids."""
        return {name: self.user(name, role) for name, role in roles.items()}

    def login(self, username: str):
        """A TestClient logged in as `username`, sending its CSRF token on every request."""
        c = TestClient(self.app, base_url="http://testserver")
        r = c.post("/api/v1/auth/login", json={"username": username, "password": self.passwords[username]})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return c

    def api_key(self, username: str, scopes=("gate", "scan")) -> str:
        with self.st.db.write() as s:
            u = s.execute(select(User).where(User.username == username)).scalar_one()
            _, full = make_key(s, audit.SYSTEM, u.id, "test", list(scopes))
        return full

    def key_client(self, key: str):
        return TestClient(self.app, base_url="http://testserver", headers={"Authorization": f"Bearer {key}"})


@contextlib.contextmanager
def running_service(tmp_path: Path, backend: str = "sqlite", **kw):
    with db_url_for(backend, tmp_path) as url:
        settings = make_settings(tmp_path, url, **kw)
        app = create_app(settings)
        with TestClient(app) as client:
            yield Svc(app, client, settings, {})


def wait_submission(client, sub_id: str, timeout: float = 60.0) -> dict:
    t0 = time.time()
    while time.time() - t0 < timeout:
        r = client.get(f"/api/v1/submissions/{sub_id}")
        assert r.status_code == 200, r.text
        body = r.json()
        if body["status"] != "scanning":
            return body
        time.sleep(0.1)
    raise AssertionError("scan did not finish in time")


def wait_until_finished(client, url: str, timeout: float = 60.0, every: float = 0.1) -> dict:
    """GET `url` until its `status` is done or failed; the last body."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        r = client.get(url)
        assert r.status_code == 200, r.text
        if r.json()["status"] in ("done", "failed"):
            return r.json()
        time.sleep(every)
    raise AssertionError(f"{url} did not finish in time")


def wait_job(client, job_id: str, timeout: float = 60.0) -> dict:
    return wait_until_finished(client, f"/api/v1/jobs/{job_id}", timeout)
