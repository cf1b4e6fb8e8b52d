"""PostgreSQL: the production database (many processes and machines writing at once)."""
from __future__ import annotations

from sqlalchemy import Connection, Insert, Table, TextClause, text
from sqlalchemy.dialects import postgresql

from newswatch.store.dialects import Dialect, FullText

#: The advisory lock key that serialises migrations: "news".
MIGRATION_LOCK = 0x6E657773


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


DIALECT = PostgreSQL()
