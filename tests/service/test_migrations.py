"""The alembic chain on both databases: linear, upgrade to head gives exactly the models' schema,
downgrade and upgrade again hold, and rows written before issue 16 need a verdict (fail closed)."""
from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from service.db import HEAD_REVISION, MIGRATIONS_DIR
from service.models import Base
from support.service_helpers import BACKENDS, db_url_for


def _cfg(engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def _engine(backend, url, tmp_path):
    if backend == "sqlite":
        return create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def test_chain_is_linear():
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(cfg)
    assert script.get_heads() == [HEAD_REVISION]
    revs = list(script.walk_revisions())
    assert all(len(r._all_down_revisions) <= 1 for r in revs) and revs[-1].down_revision is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_matches_models_downgrade_and_old_rows(backend, tmp_path):
    with db_url_for(backend, tmp_path) as url:
        eng = _engine(backend, url, tmp_path)
        cfg = _cfg(eng)
        command.upgrade(cfg, "0002")
        with eng.begin() as c:      # a finding written before issue 16
            c.execute(text("INSERT INTO users (id, username, display_name, role, password_hash, active, created_at) "
                           "VALUES (1, 'u', 'u', 'reviewer', 'x', true, 0)"))
            c.execute(text("INSERT INTO reports (id, sha256, source, media_type, decision, risk_score, finding_count, "
                           "categories, error_codes, ruleset_hash, scanner_version, created_at) VALUES "
                           "('r', 's', 'x', '', 'review', 0.5, 1, 'pii.phone', '', '', '', 0)"))
            c.execute(text("INSERT INTO findings (id, report_id, idx, category, rule_id, severity, confidence, layer, "
                           "segment_id, start, \"end\", fingerprint, explanation, suggestion, location) VALUES "
                           "(1, 'r', 0, 'pii.phone', 'pii.phone', 'low', 0.9, 'body', 0, 0, 1, 'f', '', '', '{}')"))
            # submissions made before numbering (issue 15): numbered per year (北京时间: s-a is 2025 in UTC)
            # in the order they were made
            for sid, t in (("s-b", 1767225600.0 + 86400), ("s-a", 1767225600.0 - 3600), ("s-c", 1735689600.0 + 86400)):
                c.execute(text("INSERT INTO submissions (id, owner_id, title, purpose, channel, scope, summary, status, "
                               "current_version, published_url, created_at, updated_at) VALUES "
                               "(:id, 1, 't', '', '', '', '', 'pending_review', 1, '', :t, :t)"), {"id": sid, "t": t})
        command.upgrade(cfg, "head")
        with eng.connect() as c:
            assert c.execute(text("SELECT needs_verdict, group_id FROM findings")).one() == (True, "")
            assert dict(c.execute(text("SELECT id, record_no FROM submissions")).all()) == {
                "s-c": "保审〔2025〕1号", "s-a": "保审〔2026〕1号", "s-b": "保审〔2026〕2号"}
            assert dict(c.execute(text("SELECT year, last FROM record_counters")).all()) == {2025: 1, 2026: 2}
            assert compare_metadata(MigrationContext.configure(c), Base.metadata) == []
        command.downgrade(cfg, "0002")
        with eng.connect() as c:
            cols = {r[0] for r in c.execute(text(
                "SELECT name FROM pragma_table_info('findings')" if backend == "sqlite" else
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'findings'"))}
            assert "needs_verdict" not in cols and "fingerprint" in cols
        command.upgrade(cfg, "head")
        with eng.connect() as c:
            assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD_REVISION
        eng.dispose()
