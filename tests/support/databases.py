"""The database a test runs on: SQLite by default, PostgreSQL when asked.

`NEWSWATCH_TEST_DATABASE=postgres` (or `pytest --database=postgres`) runs every test that
takes `database_url` (and so every CLI test, through the `newswatch` fixture) on a fresh
PostgreSQL database of its own. Tests that need PostgreSQL whatever the backend take
`postgres_url`; they are marked `postgres` and skip, saying why, when no server answers.

Fresh databases are cheap: the migrations run once per session into a template database,
and each test gets `CREATE DATABASE … TEMPLATE` of it (a file copy on the server), dropped
after the test. Names carry the pid and a random part, so several pytest runs (other
worktrees, CI) can share one server.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from newswatch.store.db import open_store

BACKEND_ENV = "NEWSWATCH_TEST_DATABASE"
SERVER = os.environ.get("NEWSWATCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")


def backend(config: pytest.Config) -> str:
    return config.getoption("database") or os.environ.get(BACKEND_ENV) or "sqlite"


class PostgresServer:
    """Creates and drops databases on the test server, from a migrated template."""

    def __init__(self, server: str = SERVER):
        self.server = server
        self.admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        tag = f"{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.template = f"nw_tpl_{tag}"
        self._made_template = False

    def answers(self) -> str | None:
        """None if the server answers, else why not."""
        try:
            with self.admin.connect() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError as exc:
            return str(exc.orig).strip().splitlines()[0]
        return None

    def url(self, database: str) -> str:
        return f"{self.server}/{database}"

    def create(self, template: str | None = None) -> str:
        """A fresh database, migrated (or a copy of `template`); returns its name."""
        if template is None and not self._made_template:
            self._execute(f'CREATE DATABASE "{self.template}"')
            self._made_template = True
            open_store(self.url(self.template)).close()
        name = f"nw_test_{uuid.uuid4().hex[:12]}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{template or self.template}"')
        return name

    def drop(self, database: str) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def close(self) -> None:
        if self._made_template:
            self.drop(self.template)
        self.admin.dispose()

    def _execute(self, statement: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(statement))


@pytest.fixture(scope="session")
def postgres_server(request) -> Iterator[PostgresServer]:
    server = PostgresServer()
    problem = server.answers()
    if problem is not None:
        server.admin.dispose()
        message = f"no PostgreSQL server answers at {SERVER}: {problem}"
        if backend(request.config) == "postgres":
            pytest.fail(f"{BACKEND_ENV}=postgres, but {message}", pytrace=False)
        pytest.skip(message)
    yield server
    server.close()


@pytest.fixture
def postgres_url(postgres_server) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test only."""
    name = postgres_server.create()
    yield postgres_server.url(name)
    postgres_server.drop(name)


@pytest.fixture
def database_url(request, tmp_path) -> str:
    """The test's database on the backend this run is for (migrated on PostgreSQL; on
    SQLite the file is created, and migrated, on first open)."""
    if backend(request.config) == "postgres":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'newswatch.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    """A migrated store on SQLite, and on a fresh PostgreSQL database of its own."""
    url = (f"sqlite:///{tmp_path / 'newswatch.db'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_url"))
    opened = open_store(url)
    yield opened
    opened.close()
