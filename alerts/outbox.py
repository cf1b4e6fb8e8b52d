"""The outbox: alerts written with the article that caused them, delivered later.

`enqueue` runs inside the ingest transaction, so a stored match always has its outbox rows
and a crash cannot separate them. Rows are unique per (topic, story, channel): a story
alerts a channel once, however many of its articles arrive and however often the process
restarts.

`drain` delivers due rows through Apprise. Each URL of a channel is tracked on its own: a
URL that accepted the alert is recorded (committed at once) and never sent to again, so a
failing URL is retried without doubling the others. A row is `sent` only when every URL
has accepted it; until then it stays `pending` with an exponential backoff.

If the process dies between Apprise's success and the commit that records it, that one
URL gets the alert again on the next drain: at-least-once, with the window kept to one
send.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Mapping

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from newswatch.alerts.delivery import Channel, send
from newswatch.alerts.matcher import TopicMatch
from newswatch.alerts.query import Snippet
from newswatch.alerts.render import AlertItem, render
from newswatch.store.db import Store, insert_or_ignore
from newswatch.store.models import Article, Match, OutboxRow

log = logging.getLogger(__name__)

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
CLAIM_BATCH = 20
CLAIM_LEASE = timedelta(minutes=10)  # longer than a batch's sends, Apprise timeouts included


def enqueue(session: Session, story_id: int, matches: list[TopicMatch]) -> None:
    """Outbox rows for each matched topic's channels on this story (existing ones kept)."""
    rows = [
        {"topic": m.topic.name, "story_id": story_id, "channel": channel,
         "status": "pending", "attempts": 0, "delivered": []}
        for m in matches
        for channel in m.topic.channels
    ]
    insert_or_ignore(session, OutboxRow.__table__, rows)


@dataclass
class DrainResult:
    sent: int = 0
    failed: int = 0
    latencies_s: list[float] = field(default_factory=list)  # queued → sent, per row sent


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def drain(
    store: Store,
    channels: Mapping[str, Channel],
    *,
    now: datetime | None = None,
    ignore_backoff: bool = False,
) -> DrainResult:
    """Deliver every pending row that is due (all pending rows with `ignore_backoff`)."""
    now = now or datetime.now(timezone.utc)
    result = DrainResult()
    while claimed := claim(store, now, ignore_backoff=ignore_backoff):
        for row_id, created_at in claimed:
            if _deliver(store, row_id, channels):
                result.sent += 1
                result.latencies_s.append((datetime.now(timezone.utc) - created_at).total_seconds())
            else:
                result.failed += 1
        if ignore_backoff:
            break  # every pending row was claimed at once; retries wait for the next drain
    return result


def claim(store: Store, now: datetime, *, ignore_backoff: bool = False) -> list[tuple[int, datetime]]:
    """Take due rows for this process, so that several notifiers (processes, machines) never
    deliver one row twice; returns their (id, created_at), oldest first.

    A claimed row's `next_attempt_at` moves `CLAIM_LEASE` ahead: no other notifier takes it
    while it is delivered, `_deliver` then sets it to `sent` or to its backoff, and a row
    whose notifier died mid-delivery is handed back when the lease ends. One statement:
    on PostgreSQL `FOR UPDATE SKIP LOCKED` lets notifiers claim disjoint rows without
    waiting for each other; SQLite runs it under its single write lock. With
    `ignore_backoff` every pending row is claimed, in one batch."""
    due = select(OutboxRow.id).where(OutboxRow.status == "pending")
    if not ignore_backoff:
        due = due.where(OutboxRow.next_attempt_at <= now).limit(CLAIM_BATCH)
    due = due.order_by(OutboxRow.id).with_for_update(skip_locked=True)
    with store.session() as session:
        claimed = session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(due.scalar_subquery()))
            .values(next_attempt_at=now + CLAIM_LEASE)
            .returning(OutboxRow.id, OutboxRow.created_at)
        ).all()
    return sorted((row_id, created_at) for row_id, created_at in claimed)


def _deliver(store: Store, row_id: int, channels: Mapping[str, Channel]) -> bool:
    with store.session() as session:
        row = session.get(OutboxRow, row_id)
        if row is None or row.status != "pending":
            return True
        channel = channels.get(row.channel)
        if channel is None:
            # The config no longer has this channel: keep the row for when it returns.
            log.warning("alert %d waits: channel %r is not configured", row.id, row.channel,
                        extra={"topic": row.topic, "channel": row.channel})
            return False
        items = story_items(session, row.story_id, row.topic)
        topic, delivered = row.topic, set(row.delivered)

    failed = []
    for endpoint in channel.endpoints:
        if endpoint.key in delivered:
            continue
        message = render(topic, items, endpoint.format)
        if send(endpoint, message):
            delivered.add(endpoint.key)
            with store.session() as session:
                session.get(OutboxRow, row_id).delivered = sorted(delivered)
        else:
            failed.append(endpoint.masked)

    with store.session() as session:
        row = session.get(OutboxRow, row_id)
        row.attempts += 1
        if failed:
            row.last_error = "not accepted by " + ", ".join(failed)
            row.next_attempt_at = datetime.now(timezone.utc) + backoff(row.attempts)
            log.warning("alert %d to %r (%s) will be retried: %s",
                        row.id, row.channel, row.topic, row.last_error,
                        extra={"topic": row.topic, "channel": row.channel})
            return False
        row.status = "sent"
        row.sent_at = datetime.now(timezone.utc)
        row.last_error = None
        log.info("alert %d sent to %r (%s)", row.id, row.channel, row.topic,
                 extra={"topic": row.topic, "channel": row.channel})
        return True


def story_items(session: Session, story_id: int, topic: str) -> list[AlertItem]:
    """The story's articles that match `topic`, earliest first, as alerts show them."""
    rows = session.execute(
        select(Article, Match)
        .join(Match, Match.article_id == Article.id)
        .where(Article.story_id == story_id, Match.topic == topic)
        .order_by(Article.first_seen, Article.id)
    ).all()
    return [
        AlertItem(
            title=article.title,
            source=article.source,
            published=article.published,
            url=article.url,
            snippets=tuple(
                Snippet(s["text"], tuple(tuple(m) for m in s["marks"])) for s in match.snippets
            ),
        )
        for article, match in rows
    ]


def outbox_counts(session: Session) -> dict[str, int]:
    counts = dict(
        session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status)).all()
    )
    return {"pending": counts.get("pending", 0), "sent": counts.get("sent", 0)}
