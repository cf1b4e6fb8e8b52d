"""What differs between the database backends, behind one interface.

One module per backend (`sqlite`, `postgresql`), each a `Dialect`; `of(bind)` picks the
one for an engine, connection or session bind. Code elsewhere never branches on a
backend's name.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Sequence, Union

from sqlalchemy import Column, Connection, Engine, Insert, Select, Table, TextClause

#: A full-text condition on index tokens, as a small tree: ("word", token),
#: ("phrase", tokens), ("all", parts), ("any", parts).
FullText = tuple[str, Union[str, tuple]]


class Dialect(ABC):
    """One database backend's way of doing what SQL leaves to each."""

    name: str

    @abstractmethod
    def insert_ignoring_conflicts(self, table: Table) -> Insert:
        """An INSERT that skips rows violating a unique constraint (ON CONFLICT DO NOTHING)."""

    @abstractmethod
    def lock_migrations(self, connection: Connection) -> None:
        """Serialise migrations between processes starting at once, until the transaction
        of `connection` ends.

        :raises sqlalchemy.exc.OperationalError: the lock could not be taken in time.
        """

    @abstractmethod
    def full_text_candidates(self, condition: FullText) -> TextClause:
        """A subquery of the ids of articles whose index terms meet `condition`."""

    @abstractmethod
    def count_up(self, connection: Connection, key: Column, count: Column, keys: Sequence[int]) -> None:
        """Add one to `count` in the rows of `key`'s table whose `key` is one of `keys`
        (distinct integers), and insert a row with count 1 for each key not there yet: one
        statement, however many keys (a row each would cost more than the database's work)."""

    @abstractmethod
    def lock_story_assignment(self, connection: Connection) -> None:
        """Make story assignment one transaction at a time (until the transaction of
        `connection` ends), so that two writers adding reports of one event at once cannot
        start two stories."""

    @abstractmethod
    def claim_outbox_rows(self, claims: Connection, query: Select) -> Select:
        """Claim for the drain holding `claims` the outbox rows of `query` that no other
        drain holds, and return `query` narrowed to them. The claim holds until
        `release_outbox_rows` on the same connection, or until the drain's process dies."""

    @abstractmethod
    def release_outbox_rows(self, claims: Connection) -> None:
        """Let go of what `claim_outbox_rows` took on `claims`."""


def of(bind: Engine | Connection) -> Dialect:
    """The dialect of an engine or connection.

    :raises NotImplementedError: the backend is neither SQLite nor PostgreSQL.
    """
    from newswatch.store.dialects import postgresql, sqlite  # each imports this module

    name = bind.dialect.name
    for dialect in (sqlite.DIALECT, postgresql.DIALECT):
        if dialect.name == name:
            return dialect
    raise NotImplementedError(f"database backend {name!r}: newswatch supports SQLite and PostgreSQL")
