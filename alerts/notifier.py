"""The notifier: drains the outbox through Apprise.

`drain` delivers due rows (written by `newswatch.alerts.outbox.enqueue`):

- `_claim` picks the due rows and claims them for this drain, so that any number of
  drains at once (notifiers, `run --once` or `alerts retry` beside a daemon) never take
  the same row. On PostgreSQL: an advisory lock per row, held by a connection of the
  drain's own; a notifier that dies hands its rows back at once (its connection goes,
  and its locks with it). On SQLite: an IMMEDIATE transaction (one writer at a time)
  marks the free rows `claimed_by` this drain; only the rows it won are sent. A claim
  holds until the drain ends, `CLAIM_LEASE` at most, or until its process is found dead
  (same host).
- Each URL of a channel is tracked on its own (`OutboxRow.delivered` holds the keys of
  the URLs that accepted the alert): a failing URL is retried without re-sending to the
  others, and a row is `sent` only when every URL of its channel has accepted it.
- A failed row waits ``retry.base * 2**(attempts-1)`` (capped, with jitter), or as long
  as the service's ``Retry-After`` asks if that is longer. After `RetryPolicy.max_attempts`
  attempts, or `RetryPolicy.max_age` after it was queued, it is dead-lettered (status
  ``dead``): `newswatch status` lists it, `newswatch alerts retry` queues it again.
- Folded rows go out together, as one digest-style message per channel: a topic's digest
  releases its rows at digest time (`release_digest`); during a channel's quiet hours its
  rows are held (folded) and go out as one message after; when a channel's
  ``max_per_hour`` would be exceeded, the overflow is folded into one summary message
  (sent as soon as the hour has room for it).

The send window. A URL's acceptance is committed right after Apprise returns success:
one small transaction that adds the URL's key to the row(s) of that message. If the
process dies between the service accepting the message and that commit, the next drain
sends that one message to that one URL again: delivery is at-least-once, and each kill
inside the window causes at most one double (one send is in flight at a time). A kill
anywhere else loses and doubles nothing: the rows are in the database before the first
send, and an accepted URL is never sent the same alert again.

Updates. With ``updates: developments``, an article that brings a new development to a
story already alerted to a channel queues an update row (`enqueue` too), unique per
(topic, article, channel) like an `every_article` row. An update waits until the story's first message
to the channel has gone out, then until `update_every` (per topic) has passed since the
story's latest message to the channel; all of the story's updates due by then go out as
one ``Update: <story title>`` message (the new articles, then the earlier reports). A
sent row records the articles its message carried (`OutboxRow.articles`): an update
whose article an earlier message already carried (it arrived before the story's first
alert went out) is settled without a message of its own.
"""
from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from newswatch.alerts.delivery import Channel, Endpoint, Outcome, deliver
from newswatch.alerts.health import notice_message
from newswatch.alerts.matcher import DEFAULT_UPDATE_EVERY
from newswatch.alerts.outbox import ALERT, UPDATE
from newswatch.alerts.query import Snippet
from newswatch.alerts.render import (
    AlertItem,
    DigestStory,
    Message,
    TemplateError,
    Templates,
    render,
    render_digest,
    render_update,
)
from newswatch.alerts.rules import RetryPolicy
from newswatch.store import availability, dialects
from newswatch.store.db import Store
from newswatch.store.models import Article, ChannelSend, Match, OutboxRow, OutboxStatus, Story

log = logging.getLogger(__name__)


@dataclass
class DrainResult:
    sent: int = 0  # rows now sent
    failed: int = 0  # rows that failed this time and will be retried
    dead: int = 0  # rows dead-lettered this time
    held: int = 0  # rows held back (quiet hours, rate limits, channel not configured)
    settled: int = 0  # updates already carried by an earlier message: sent with no message
    messages: int = 0  # messages accepted by at least one URL
    latencies_s: list[float] = field(default_factory=list)  # queued → sent, per row sent


@dataclass
class _Due:
    """A claimed row, as plain values (no session attached)."""

    id: int
    topic: str
    story_id: int | None
    channel: str
    fold: bool
    queued_at: datetime
    delivered: set[str] = field(default_factory=set)
    article_id: int | None = None  # the article alerted (every_article) or updating the story
    notice: dict | None = None  # a notice's own title and body (see alerts/health.py)
    kind: str = ALERT
    articles: set[int] = field(default_factory=set)  # what its message carried


@dataclass
class _Entry:
    """What a message says for some of its rows: a story's alert (one row), or a story's
    update (its due update rows); `articles` are the ids of the articles it shows."""

    rows: list[_Due]
    story: DigestStory | None  # None for a notice
    articles: list[int]


def drain(
    store: Store,
    channels: Mapping[str, Channel],
    *,
    digest_topics: Collection[str] = (),
    retry: RetryPolicy = RetryPolicy(),
    templates: Templates | None = None,
    now: datetime | None = None,
    ignore_backoff: bool = False,
    only: Collection[int] | None = None,
    update_every: Mapping[str, timedelta] | None = None,
) -> DrainResult:
    """Deliver the pending rows that are due (every pending row with `ignore_backoff`;
    only the row ids in `only` when given).

    Rows of `digest_topics` wait until `release_digest` folds them; updates wait for
    their topic's `update_every` (`DEFAULT_UPDATE_EVERY` for a topic not named), which
    `ignore_backoff` does not skip. Never raises for a delivery failure: failures are
    counted, logged with masked URLs, and retried later.
    """
    now = now or datetime.now(timezone.utc)
    result = DrainResult()
    with store.engine.connect() as claims:
        try:
            due = _claim(claims, now, ignore_backoff=ignore_backoff,
                         digest_topics=digest_topics, only=only)
            _deliver(store, channels, due, now, retry, templates, result, update_every or {})
        finally:
            _unclaim(claims)
    return result


def _deliver(store: Store, channels: Mapping[str, Channel], due: list[_Due], now: datetime,
             retry: RetryPolicy, templates: Templates | None, result: DrainResult,
             update_every: Mapping[str, timedelta]) -> None:
    by_channel: dict[str, list[_Due]] = {}
    for row in due:
        by_channel.setdefault(row.channel, []).append(row)
    for name, rows in by_channel.items():
        channel = channels.get(name)
        if channel is None:
            # The config no longer has this channel: keep the rows for when it returns.
            log.warning("%d alert(s) wait: channel %r is not configured", len(rows), name)
            result.held += len(rows)
            continue
        for row in [r for r in rows if r.notice is not None]:
            _send_notice(store, channel, row, now, retry, result)
        rows = _updates_due(store, name, [r for r in rows if r.notice is None], now, update_every, result)
        for message_rows in _plan(store, channel, rows, now, result):
            _send(store, channel, message_rows, now, retry, templates, result)


def _claim(claims: Connection, now: datetime, *, ignore_backoff: bool,
           digest_topics: Collection[str], only: Collection[int] | None) -> list[_Due]:
    """The rows this notifier delivers now: pending, due, and not waiting for a digest.

    The single place that selects rows for delivery. It also claims them for this drain
    on `claims`, a connection the drain holds until `_unclaim`, so that any number of
    drains at once never take the same row (how: each backend's
    `Dialect.claim_outbox_rows`, newswatch.store.dialects).

    A story's updates to a channel go out under its first alert's row (the anchor),
    claimed with them: a drain that cannot claim the anchor takes none of the story's
    updates, because another drain is deciding them. Two notifiers that each claimed one
    of a story's updates would otherwise both find `update_every` passed and both send.
    """
    due = OutboxRow.status == OutboxStatus.PENDING
    if not ignore_backoff:
        due &= OutboxRow.next_attempt_at <= now
    if digest_topics:
        due &= OutboxRow.fold.is_(True) | OutboxRow.topic.not_in(list(digest_topics))
    if only is not None:
        due &= OutboxRow.id.in_(list(only))
    anchors = _anchors(claims, due)
    anchor_ids = list(anchors.values())
    query = dialects.of(claims).claim_outbox_rows(
        claims, select(OutboxRow).where(due | OutboxRow.id.in_(anchor_ids)))
    with Session(claims) as session:
        ours = set(session.scalars(query.with_only_columns(OutboxRow.id)
                                   .where(OutboxRow.id.in_(anchor_ids))))
        elsewhere = {group for group, anchor in anchors.items() if anchor not in ours}
        return [
            _Due(id=r.id, topic=r.topic, story_id=r.story_id, channel=r.channel, fold=r.fold,
                 queued_at=r.queued_at or r.created_at, delivered=set(r.delivered),
                 article_id=r.article_id, notice=r.notice, kind=r.kind,
                 articles=set(r.articles or ()))
            for r in session.scalars(query.where(due).order_by(OutboxRow.id))
            if r.kind != UPDATE or (r.topic, r.story_id, r.channel) not in elsewhere
        ]


def _anchors(claims: Connection, due) -> dict[tuple[str, int, str], int]:
    """For each (topic, story, channel) with an update among the rows `due` selects, the
    id of the story's first alert to the channel (the one row per group whose
    `article_id` is NULL)."""
    updates = (select(OutboxRow.topic, OutboxRow.story_id, OutboxRow.channel)
               .where(due, OutboxRow.kind == UPDATE).distinct().subquery())
    found = claims.execute(
        select(OutboxRow.topic, OutboxRow.story_id, OutboxRow.channel, OutboxRow.id)
        .join(updates, (OutboxRow.topic == updates.c.topic)
              & (OutboxRow.story_id == updates.c.story_id) & (OutboxRow.channel == updates.c.channel))
        .where(OutboxRow.article_id.is_(None)))
    return {(topic, story, channel): anchor for topic, story, channel, anchor in found}


def _unclaim(claims: Connection) -> None:
    """Let go of the rows `_claim` took on `claims` (before it goes back to the pool)."""
    try:
        dialects.of(claims).release_outbox_rows(claims)
    except SQLAlchemyError as exc:
        if availability.outage_of(exc) is None:
            raise
        # The connection went in an outage, and its claims with it.


def _updates_due(store: Store, channel: str, rows: list[_Due], now: datetime,
                 update_every: Mapping[str, timedelta], result: DrainResult) -> list[_Due]:
    """`rows` less the updates that do not go out now.

    An update waits while the story has no message sent to `channel` (its first alert is
    still pending, or held), then until its topic's `update_every` has passed since the
    story's latest message to the channel (its `next_attempt_at` is set to that time),
    unless it is folded: a digest or held alerts go out at their own time. An update
    whose article a message to the channel already carried is settled: sent, without a
    message of its own."""
    updates = [r for r in rows if r.kind == UPDATE]
    if not updates:
        return rows
    held: set[int] = set()
    settled: set[int] = set()
    with store.session() as session:
        groups: dict[tuple[str, int | None], list[_Due]] = {}
        for r in updates:
            groups.setdefault((r.topic, r.story_id), []).append(r)
        for (topic, story_id), group in groups.items():
            sent = session.execute(
                select(OutboxRow.sent_at, OutboxRow.articles)
                .where(OutboxRow.story_id == story_id, OutboxRow.channel == channel,
                       OutboxRow.topic == topic, OutboxRow.status == OutboxStatus.SENT)).all()
            if not sent:
                held.update(r.id for r in group)
                continue
            latest = max(at for at, _ in sent)
            carried = {a for _, articles in sent for a in articles or ()}
            due = latest + update_every.get(topic, DEFAULT_UPDATE_EVERY)
            for r in group:
                if r.article_id in carried:
                    settled.add(r.id)
                    session.execute(update(OutboxRow).where(OutboxRow.id == r.id,
                                                            OutboxRow.status == OutboxStatus.PENDING)
                                    .values(status=OutboxStatus.SENT, sent_at=latest, articles=[]))
                    result.settled += 1
                elif not r.fold and now < due:
                    held.add(r.id)
                    session.execute(update(OutboxRow).where(OutboxRow.id == r.id).values(next_attempt_at=due))
    result.held += len(held)
    return [r for r in rows if r.id not in held and r.id not in settled]


def _plan(store: Store, channel: Channel, rows: list[_Due], now: datetime,
          result: DrainResult) -> list[list[_Due]]:
    """The messages to send to `channel` now, each a list of rows (one row: an alert;
    several: one folded message). Rows held back are folded in the database, so a
    restart keeps holding them."""
    if channel.is_quiet(now):
        _fold(store, [r for r in rows if not r.fold])
        log.info("channel %r is in quiet hours (%s): holding %d alert(s)",
                 channel.name, channel.quiet, len(rows))
        result.held += len(rows)
        return []
    folded = [r for r in rows if r.fold]
    # A story's due updates go out together, as one message.
    alone: dict[tuple, list[_Due]] = {}
    for r in rows:
        if not r.fold:
            alone.setdefault((r.topic, r.story_id) if r.kind == UPDATE else (r.id,), []).append(r)
    messages = ([folded] if folded else []) + list(alone.values())
    if channel.max_per_hour is None:
        return messages

    hour_ago = now - timedelta(hours=1)
    with store.session() as session:
        # Only the last hour counts; older records are dropped as they age out.
        session.execute(delete(ChannelSend).where(ChannelSend.channel == channel.name,
                                                  ChannelSend.sent_at <= hour_ago))
        recent = session.scalar(
            select(func.count()).select_from(ChannelSend)
            .where(ChannelSend.channel == channel.name, ChannelSend.sent_at > hour_ago)
        )
    room = channel.max_per_hour - recent
    if len(messages) <= room:
        return messages
    if room <= 0:
        _fold(store, [r for r in rows if not r.fold])
        log.info("channel %r sent %d messages in the last hour (max_per_hour %d): holding %d alert(s)",
                 channel.name, recent, channel.max_per_hour, len(rows))
        result.held += len(rows)
        return []
    # The last message the hour has room for carries everything that does not fit.
    overflow = [r for message in messages[room - 1:] for r in message]
    _fold(store, [r for r in overflow if not r.fold])
    log.info("channel %r: max_per_hour %d reached; %d alert(s) folded into one summary",
             channel.name, channel.max_per_hour, len(overflow))
    return messages[:room - 1] + [overflow]


def _fold(store: Store, rows: Sequence[_Due]) -> None:
    if not rows:
        return
    with store.session() as session:
        session.execute(update(OutboxRow).where(OutboxRow.id.in_([r.id for r in rows])).values(fold=True))
    for row in rows:
        row.fold = True


def _send(store: Store, channel: Channel, rows: list[_Due], now: datetime, retry: RetryPolicy,
          templates: Templates | None, result: DrainResult) -> None:
    """One message (one alert, one story's update, or one folded message of many rows)
    to each URL of `channel` that has not accepted it yet; then the rows' new state, in
    one commit."""
    with store.session() as session:
        entries = _entries(session, rows)
    empty = [r for e in entries if not e.story.items for r in e.rows]
    if empty:
        # The story has no article matching the topic any more (deleted by retention?):
        # nothing to say, so nothing to send; dead-letter it rather than retry forever.
        _finish(store, channel, empty, {r.id: "the story has no matching article" for r in empty},
                None, now, retry, result, dead=True)
    entries = [e for e in entries if e.story.items]
    rows = [r for e in entries for r in e.rows]
    # Grouped by topic as a digest shows them, so "the first n stories" of a cut digest
    # are the first n entries.
    order = {topic: i for i, topic in reversed(list(enumerate(e.story.topic for e in entries)))}
    entries.sort(key=lambda e: order[e.story.topic])

    errors: dict[int, str] = {}
    retry_after: float | None = None
    sent_any = False
    for endpoint in channel.endpoints:
        todo = [e for e in entries if any(endpoint.key not in r.delivered for r in e.rows)]
        if not todo:
            continue
        try:
            message, carried = _message(endpoint, [e.story for e in todo], templates)
        except TemplateError as exc:  # a user's template that fails on this alert
            ids = [r.id for e in todo for r in e.rows]
            log.error("alert(s) %s to %r cannot be rendered: %s", ids, channel.name, exc)
            errors.update({i: f"template: {exc}" for i in ids})
            continue
        outcome: Outcome = deliver(endpoint, message)
        if outcome.ok:
            _accepted(store, channel, endpoint, todo[:carried], first=not sent_any)
            sent_any = True
        else:
            for entry in todo:
                for row in entry.rows:
                    errors[row.id] = f"{endpoint.masked}: {outcome.reason}"
            if outcome.retry_after is not None:
                retry_after = max(retry_after or 0.0, outcome.retry_after)
    if sent_any:
        result.messages += 1
    _finish(store, channel, rows, errors, retry_after, now, retry, result)


def _entries(session: Session, rows: list[_Due]) -> list[_Entry]:
    """What the message says for `rows`: an alert per alert row, one update per story
    for its update rows (the new articles, then the story's other matching articles as
    its earlier reports)."""
    entries: list[_Entry] = []
    updates: dict[tuple[str, int | None], list[_Due]] = {}
    for row in rows:
        if row.kind == UPDATE:
            updates.setdefault((row.topic, row.story_id), []).append(row)
            continue
        found = _story_articles(session, row.story_id, row.topic, row.article_id)
        entries.append(_Entry([row], DigestStory(row.topic, tuple(i for _, i in found)),
                              [a for a, _ in found]))
    for (topic, story_id), group in updates.items():
        found = _story_articles(session, story_id, topic)
        new = {r.article_id for r in group}
        story = DigestStory(
            topic, tuple(i for a, i in found if a in new),
            earlier=tuple(i for a, i in found if a not in new),
            update_of=session.scalar(select(Story.title).where(Story.id == story_id)) or "",
        )
        entries.append(_Entry(group, story, [a for a, _ in found if a in new]))
    return entries


def _send_notice(store: Store, channel: Channel, row: _Due, now: datetime, retry: RetryPolicy,
                 result: DrainResult) -> None:
    """A notice ("source broken"): its own text, one message, never held or folded."""
    message = notice_message(row.notice)
    errors: dict[int, str] = {}
    retry_after: float | None = None
    sent_any = False
    for endpoint in channel.endpoints:
        if endpoint.key in row.delivered:
            continue
        outcome = deliver(endpoint, message)
        if outcome.ok:
            _accepted(store, channel, endpoint, [_Entry([row], None, [])], first=not sent_any)
            sent_any = True
        else:
            errors[row.id] = f"{endpoint.masked}: {outcome.reason}"
            if outcome.retry_after is not None:
                retry_after = max(retry_after or 0.0, outcome.retry_after)
    if sent_any:
        result.messages += 1
    _finish(store, channel, [row], errors, retry_after, now, retry, result)


def _message(endpoint: Endpoint, stories: list[DigestStory],
             templates: Templates | None) -> tuple[Message, int]:
    """The message for `endpoint` and how many of `stories` (from the first) it carries:
    a digest cut at the endpoint's length limit leaves the rest for the next message."""
    if len(stories) == 1:
        story = stories[0]
        if story.update_of is not None:
            return render_update(story, endpoint.format, max_chars=endpoint.max_chars,
                                 templates=templates), 1
        return render(story.topic, story.items, endpoint.format, max_chars=endpoint.max_chars,
                      templates=templates), 1
    return render_digest(stories, endpoint.format, max_chars=endpoint.max_chars, templates=templates)


def _accepted(store: Store, channel: Channel, endpoint: Endpoint, entries: list[_Entry],
              first: bool) -> None:
    """Record that `endpoint` accepted the message for `entries`, and which articles it
    carried: the commit that closes the send window. Kept to one small transaction,
    right after Apprise returned; through a database outage it waits for the database
    (the message is out: giving up here would send it again)."""
    availability.SERVERS.retry(lambda: _record_accepted(store, channel, endpoint, entries, first))


def _record_accepted(store: Store, channel: Channel, endpoint: Endpoint, entries: list[_Entry],
                     first: bool) -> None:
    with store.session() as session:
        for entry in entries:
            for row in entry.rows:
                row.delivered.add(endpoint.key)
                row.articles.update(entry.articles)
                session.execute(update(OutboxRow).where(OutboxRow.id == row.id)
                                .values(delivered=sorted(row.delivered), articles=sorted(row.articles)))
        if first:
            session.add(ChannelSend(channel=channel.name, alerts=sum(len(e.rows) for e in entries)))


def _finish(store: Store, channel: Channel, rows: list[_Due], errors: Mapping[int, str],
            retry_after: float | None, now: datetime, retry: RetryPolicy, result: DrainResult,
            dead: bool = False) -> None:
    """Each row's state after a send: sent when every URL of the channel accepted it,
    else (if it failed) retried later or dead-lettered; rows a cut digest left out stay
    due as they are."""
    keys = {e.key for e in channel.endpoints}
    with store.session() as session:
        for due in rows:
            row = session.get(OutboxRow, due.id)
            if row is None or row.status != OutboxStatus.PENDING:
                continue
            if not dead and keys <= due.delivered:
                row.status, row.sent_at, row.last_error = OutboxStatus.SENT, now, None
                row.attempts += 1
                result.sent += 1
                result.latencies_s.append((now - due.queued_at).total_seconds())
                log.info("alert %d (%s) sent to %r", row.id, row.topic, row.channel,
                         extra={"topic": row.topic, "channel": row.channel})
                continue
            if due.id not in errors:
                continue  # not attempted (left out of a cut digest): due again at once
            row.attempts += 1
            row.last_error = errors[due.id][:2000]
            if dead or row.attempts >= retry.max_attempts or now - due.queued_at >= retry.max_age:
                row.status = OutboxStatus.DEAD
                result.dead += 1
                log.error("alert %d (%s) to %r dead-lettered after %d attempt(s): %s "
                          "(`newswatch alerts retry %d` sends it again)",
                          row.id, row.topic, row.channel, row.attempts, row.last_error, row.id,
                          extra={"topic": row.topic, "channel": row.channel})
                continue
            row.next_attempt_at = now + retry.delay(row.attempts, retry_after)
            result.failed += 1
            log.warning("alert %d (%s) to %r will be retried at %s: %s", row.id, row.topic,
                        row.channel, row.next_attempt_at.isoformat(timespec="seconds"), row.last_error,
                        extra={"topic": row.topic, "channel": row.channel})


def story_items(session: Session, story_id: int, topic: str,
                article_id: int | None = None) -> list[AlertItem]:
    """The story's articles that match `topic`, earliest first, as alerts show them (only
    article `article_id` when given)."""
    return [item for _, item in _story_articles(session, story_id, topic, article_id)]


def _story_articles(session: Session, story_id: int | None, topic: str,
                    article_id: int | None = None) -> list[tuple[int, AlertItem]]:
    """`story_items`, each with its article's id."""
    query = (
        select(Article, Match)
        .join(Match, Match.article_id == Article.id)
        .where(Article.story_id == story_id, Match.topic == topic)
        .order_by(Article.first_seen, Article.id)
    )
    if article_id is not None:
        query = query.where(Article.id == article_id)
    rows = session.execute(query).all()
    return [
        (article.id, AlertItem(
            title=article.title,
            source=article.source,
            published=article.published,
            url=article.url,
            snippets=tuple(
                Snippet(s["text"], tuple(tuple(m) for m in s["marks"])) for s in match.snippets
            ),
        ))
        for article, match in rows
    ]
