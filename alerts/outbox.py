"""The outbox: alerts written with the article that caused them, delivered later.

`enqueue` runs inside the ingest transaction, so a stored match always has its outbox rows
and a crash cannot separate them. Rows are unique per (topic, story, channel), enforced by
a unique constraint: a story alerts a channel once, however many of its articles arrive,
however often the process restarts, however many notifiers run. A topic with
`every_article` has rows per (topic, article, channel) instead.

`release_digest` folds a topic's pending rows for one message per channel; `requeue` makes
dead-lettered rows pending again. Delivery is `newswatch.alerts.notifier`'s: nothing here
imports Apprise or Jinja2, so the ingest process that writes rows loads neither.
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from newswatch.alerts.matcher import TopicMatch
from newswatch.store.db import Store, insert_or_ignore
from newswatch.store.models import OutboxRow, OutboxStatus


def enqueue(session: Session, story_id: int, matches: list[TopicMatch],
            article_id: int | None = None) -> None:
    """Outbox rows for each matched topic's channels on this story (existing ones kept).
    A topic with `every_article` gets a row for the article `article_id` instead, and none
    when `article_id` is None (a copy of a stored article)."""
    now = datetime.now(timezone.utc)
    rows = [
        {"topic": m.topic.name, "story_id": story_id, "channel": channel,
         "article_id": article_id if m.topic.every_article else None,
         "status": OutboxStatus.PENDING, "attempts": 0, "delivered": [], "fold": False,
         "created_at": now, "queued_at": now, "next_attempt_at": now}
        for m in matches
        if article_id is not None or not m.topic.every_article
        for channel in m.topic.channels
    ]
    insert_or_ignore(session, OutboxRow.__table__, rows)


def release_digest(store: Store, topics: Collection[str], now: datetime | None = None) -> int:
    """A digest is due: fold every pending row of `topics` so that the next drain sends
    each channel one message with all of them. Returns how many rows it released."""
    now = now or datetime.now(timezone.utc)
    with store.session() as session:
        released = session.execute(
            update(OutboxRow)
            .where(OutboxRow.status == OutboxStatus.PENDING, OutboxRow.topic.in_(list(topics)),
                   OutboxRow.fold.is_(False))
            .values(fold=True, queued_at=now, next_attempt_at=now)
        ).rowcount
    return released


def requeue(store: Store, ids: Collection[int] | None = None) -> list[int]:
    """Dead-lettered rows (those in `ids`, or all) pending again with a fresh count of
    attempts and age; URLs that already accepted them are still skipped. Returns the ids."""
    now = datetime.now(timezone.utc)
    with store.session() as session:
        query = select(OutboxRow).where(OutboxRow.status == OutboxStatus.DEAD)
        if ids is not None:
            query = query.where(OutboxRow.id.in_(list(ids)))
        rows = session.scalars(query.order_by(OutboxRow.id)).all()
        for row in rows:
            row.status, row.attempts, row.queued_at, row.next_attempt_at = OutboxStatus.PENDING, 0, now, now
        return [row.id for row in rows]
