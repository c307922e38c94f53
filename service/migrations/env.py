"""Alembic environment: runs against the engine handed in by service.db.Database.migrate()
(or a URL in sqlalchemy.url for the alembic CLI)."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from service.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url"))
    if engine.dialect.name == "sqlite":
        # our SQLite engine issues BEGIN IMMEDIATE itself; alembic's transaction wraps that
        pass
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=engine.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
