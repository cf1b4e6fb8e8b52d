"""The backtest prefilter on PostgreSQL: a GIN index over to_tsvector('simple', terms),
in a database of its own on the server at 127.0.0.1:5432 (user postgres, trust)."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from newswatch.alerts.backtest import search
from newswatch.alerts.search import candidates
from newswatch.alerts.query import parse
from newswatch.store.db import open_store
from test_backtest import check_search_finds_what_matching_finds

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url():
    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"no PostgreSQL server answers at 127.0.0.1:5432: {exc.orig}")
    name = f"newswatch_backtest_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{SERVER}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def test_postgres_search_equals_matching_everything(pg_url):
    store = open_store(pg_url)
    try:
        check_search_finds_what_matching_finds(store)
    finally:
        store.close()


def test_postgres_prefilter_uses_the_gin_index(pg_url):
    """The query's expression is the index's, so PostgreSQL can answer from the index."""
    store = open_store(pg_url)
    try:
        with store.session() as session:
            session.execute(text("SET LOCAL enable_seqscan = off"))
            prefilter = candidates(session, parse("Korea arms"))
            plan = "\n".join(session.execute(
                text("EXPLAIN " + prefilter.text), prefilter.compile().params).scalars())
            assert "ix_article_terms_fts" in plan
            assert list(search(session, parse("Korea arms"))) == []
    finally:
        store.close()
