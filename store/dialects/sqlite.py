"""SQLite: the embedded default (one file, WAL mode, one writer at a time)."""
from __future__ import annotations

from sqlalchemy import Connection, Insert, Table, TextClause, text
from sqlalchemy.dialects import sqlite

from newswatch.store.dialects import Dialect, FullText


def _fts5(condition: FullText) -> str:
    kind, value = condition
    if kind == "word":
        return f'"{value}"'
    if kind == "phrase":
        return '"' + " ".join(value) + '"'
    return "(" + (" AND " if kind == "all" else " OR ").join(map(_fts5, value)) + ")"


class SQLite(Dialect):
    name = "sqlite"

    def insert_ignoring_conflicts(self, table: Table) -> Insert:
        return sqlite.insert(table).on_conflict_do_nothing()

    def lock_migrations(self, connection: Connection) -> None:
        # A file has one writer at a time: the migration's write transaction is the lock,
        # taken from the start (the driver would begin one at the first DML only, so two
        # processes on a new file each ran CREATE TABLE, and one died on it).
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    def full_text_candidates(self, condition: FullText) -> TextClause:
        return text("SELECT rowid FROM article_terms_fts WHERE article_terms_fts MATCH :fts"
                    ).bindparams(fts=_fts5(condition))


DIALECT = SQLite()
