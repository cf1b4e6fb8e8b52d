"""PostgreSQL: the production database (many processes and machines writing at once)."""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import Column, Connection, Insert, Select, Table, TextClause, text
from sqlalchemy.dialects import postgresql

from newswatch.store.dialects import Dialect, FullText
from newswatch.store.models import OutboxRow

#: The advisory lock key that serialises migrations: "news".
MIGRATION_LOCK = 0x6E657773
#: The first key of the outbox's advisory locks (the second is the row id): "nw".
CLAIM_LOCKS = 0x6E77
#: The advisory lock (two-key form, "ns" and 0) that serialises story assignment.
STORY_LOCK = (0x6E73, 0)


def _tsquery(condition: FullText) -> str:
    kind, value = condition
    if kind == "word":
        return value
    if kind == "phrase":
        return "(" + " <-> ".join(value) + ")"
    return "(" + (" & " if kind == "all" else " | ").join(map(_tsquery, value)) + ")"


class PostgreSQL(Dialect):
    name = "postgresql"

    def insert_ignoring_conflicts(self, table: Table) -> Insert:
        return postgresql.insert(table).on_conflict_do_nothing()

    def lock_migrations(self, connection: Connection) -> None:
        # Several processes start at once (a scheduler, workers, notifiers): one migrates,
        # the others wait here until it commits, then find nothing to do.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")

    def full_text_candidates(self, condition: FullText) -> TextClause:
        # The same expression as the GIN index of the search migration, or the index is unused.
        return text("SELECT article_id FROM article_terms WHERE to_tsvector('simple', terms)"
                    " @@ to_tsquery('simple', :fts)").bindparams(fts=_tsquery(condition))


    def count_up(self, connection: Connection, key: Column, count: Column, keys: Sequence[int]) -> None:
        table = key.table.name
        connection.execute(text(
            f"INSERT INTO {table} ({key.name}, {count.name}) SELECT unnest(CAST(:keys AS integer[])), 1"
            f" ON CONFLICT ({key.name}) DO UPDATE SET {count.name} = {table}.{count.name} + 1"
        ), {"keys": list(keys)})

    def lock_story_assignment(self, connection: Connection) -> None:
        connection.execute(text("SELECT pg_advisory_xact_lock(:kind, :key)"),
                           {"kind": STORY_LOCK[0], "key": STORY_LOCK[1]})

    def claim_outbox_rows(self, claims: Connection, query: Select) -> Select:
        # A session-level advisory lock per row, on a connection the drain holds: not part
        # of any transaction, and gone with the connection when a notifier dies (kill -9,
        # a lost machine), so the next drain takes its rows at once. The caller reads the
        # rows again once locked: one that a drain settled just before letting go is not
        # taken again.
        candidates = claims.execute(query.with_only_columns(OutboxRow.id)).scalars().all()
        locked = claims.execute(
            text("SELECT id FROM unnest(CAST(:ids AS integer[])) AS t(id)"
                 " WHERE pg_try_advisory_lock(:locks, id)"),
            {"ids": list(candidates), "locks": CLAIM_LOCKS},
        ).scalars().all()
        return query.where(OutboxRow.id.in_(locked))

    def release_outbox_rows(self, claims: Connection) -> None:
        claims.rollback()  # whatever failed mid-claim: the connection must take a statement
        claims.execute(text("SELECT pg_advisory_unlock_all()"))


DIALECT = PostgreSQL()
