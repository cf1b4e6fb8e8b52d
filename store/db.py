"""Engine and session setup, and schema migrations.

`open_store(url)` is the one way in: it builds the engine (SQLite in WAL mode with a busy
timeout, so a crawler and a notifier can share the file), applies pending Alembic
migrations, and returns a `Store` whose `session()` opens a transaction-scoped session.

Alembic (and Mako with it) is loaded only when there is a migration to apply: a database
already at the newest one is recognised by its `alembic_version` row alone.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, Engine, Table, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from newswatch.store import availability, dialects

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def head_revision() -> str:
    """The newest migration's revision id, without loading Alembic: migration files are
    named ``<run order>_<revision>_<slug>.py`` (tests/test_store.py checks the name against
    Alembic's own head)."""
    newest = max((MIGRATIONS / "versions").glob("[0-9]*_*.py"), key=lambda f: int(f.name.split("_", 1)[0]))
    return newest.name.split("_")[1]


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite connections get WAL, a busy timeout and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)

    database = parsed.database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def insert_or_ignore(session: Session, table: Table, rows: list[dict]) -> int:
    """Insert `rows`, skipping any that would violate a unique constraint; returns how
    many were inserted. The database decides (ON CONFLICT DO NOTHING), so two writers at
    once can never both insert the same row."""
    if not rows:
        return 0
    insert = dialects.of(session.get_bind()).insert_ignoring_conflicts(table)
    # Counted from RETURNING: a driver's rowcount after executemany is not reliable.
    inserted = session.execute(insert.returning(*table.primary_key.columns), rows)
    return len(inserted.all())


def at_head(connection: Connection) -> bool:
    """The schema is at the newest migration (its one `alembic_version` row says so)."""
    if not inspect(connection).has_table("alembic_version"):
        return False
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head_revision()]


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent). Under the migration lock, so
    that processes starting at once on a new database migrate it once."""
    with engine.connect() as connection:
        if at_head(connection):
            return
    from alembic import command
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        dialects.of(connection).lock_migrations(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@dataclass
class Store:
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work is committed on normal exit and rolled back on error."""
        with self.sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str, migrate: bool = True, wait: float | None = None) -> Store:
    """The store at `url`, its schema migrated (unless not `migrate`). Given `wait`, a
    database that does not answer is waited for up to `wait` seconds (one line when the
    wait starts, one when it ends; `availability`), then `Unavailable` is raised."""
    engine = make_engine(url)
    if migrate and wait is not None:
        try:
            availability.within(wait, availability.DATABASE, lambda: upgrade(engine))
        except availability.Unavailable:
            engine.dispose()
            raise
    elif migrate:
        upgrade(engine)
    return Store(engine, sessionmaker(engine, expire_on_commit=False))
