"""SQLite: the embedded default (one file, WAL mode, one writer at a time)."""
from __future__ import annotations

import json
import os
import socket
import uuid
from datetime import datetime, timedelta, timezone
from typing import Sequence

from sqlalchemy import Column, Connection, Insert, Select, Table, TextClause, text, update
from sqlalchemy.dialects import sqlite

from newswatch.store.dialects import Dialect, FullText
from newswatch.store.models import OutboxRow

#: How long an outbox claim holds if its drain neither ends nor is found dead.
CLAIM_LEASE = timedelta(minutes=15)


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


    def count_up(self, connection: Connection, key: Column, count: Column, keys: Sequence[int]) -> None:
        # The keys go in as one JSON array, read back as rows by json_each ("WHERE true":
        # an upsert's SELECT needs a WHERE, or its ON reads as a join's).
        table = key.table.name
        connection.execute(text(
            f"INSERT INTO {table} ({key.name}, {count.name}) SELECT value, 1 FROM json_each(:keys) WHERE true"
            f" ON CONFLICT ({key.name}) DO UPDATE SET {count.name} = {table}.{count.name} + 1"
        ), {"keys": json.dumps(list(keys))})

    def lock_story_assignment(self, connection: Connection) -> None:
        pass  # one writer at a time: the ingest transaction is the lock

    def claim_outbox_rows(self, claims: Connection, query: Select) -> Select:
        # In one IMMEDIATE transaction (the write lock, taken at BEGIN: no other drain reads
        # between this one's read and its write), the rows whose claim is free (none,
        # expired, or its drain's process dead) get this drain's token.
        token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        now = datetime.now(timezone.utc)
        claims.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            candidates = claims.execute(
                query.with_only_columns(OutboxRow.id, OutboxRow.claimed_by, OutboxRow.claimed_until)).all()
            won = [row_id for row_id, holder, until in candidates
                   if holder is None or until is None or until <= now or _gone(holder)]
            if won:
                claims.execute(update(OutboxRow).where(OutboxRow.id.in_(won))
                               .values(claimed_by=token, claimed_until=now + CLAIM_LEASE))
            claims.commit()
        except BaseException:
            claims.rollback()
            raise
        claims.info["outbox_claim"] = token
        return query.where(OutboxRow.claimed_by == token)

    def release_outbox_rows(self, claims: Connection) -> None:
        token = claims.info.pop("outbox_claim", None)
        if token is not None:
            claims.rollback()
            claims.execute(update(OutboxRow).where(OutboxRow.claimed_by == token)
                           .values(claimed_by=None, claimed_until=None))
            claims.commit()


def _gone(holder: str) -> bool:
    """True if the drain `holder` ran in a process of this host that is no more."""
    host, _, rest = holder.partition(":")
    pid_text, _, _nonce = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine's: its lease decides
    pid = int(pid_text)
    if pid == os.getpid():
        return False  # this process's (another drain of it, still running)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


DIALECT = SQLite()
