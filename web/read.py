"""What the pages, the API and the feeds show, read from the store: topics with their hits,
a topic's stories with their articles and matched snippets, one story, the outbox.

Plain dataclasses (FastAPI also describes them in the OpenAPI document); every function
takes a session and reads only. `now` is passed in, never read here, so that the
14-day window of `topics` is the caller's clock.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from newswatch.alerts.matcher import Topic
from newswatch.alerts.query import QueryMatch
from newswatch.store.models import Article, Match, OutboxRow, OutboxStatus, Story

DAYS = 14


@dataclass(frozen=True)
class SnippetView:
    text: str
    marks: list[list[int]]  # [start, end) character offsets of the matched words in `text`


@dataclass(frozen=True)
class MatchView:
    topic: str
    score: float
    snippets: list[SnippetView]


@dataclass(frozen=True)
class ArticleView:
    id: int
    url: str
    title: str
    source: str
    published: datetime | None
    first_seen: datetime
    duplicate_kind: str | None  # "exact" or "near" for a copy of another article
    role: str | None  # first / also / update, where the store records roles
    matches: list[MatchView]


@dataclass(frozen=True)
class StoryView:
    id: int
    title: str
    first_seen: datetime
    updated: datetime  # when its latest article came (a story that grows is updated)
    articles: list[ArticleView]


@dataclass(frozen=True)
class DayCount:
    day: date
    hits: int


@dataclass(frozen=True)
class TopicView:
    name: str
    query: str
    hits: int  # stored articles the topic matched
    stories: int
    last_alert: datetime | None  # when an alert for it was last sent
    per_day: list[DayCount] = field(default_factory=list)  # the last DAYS days, oldest first


@dataclass(frozen=True)
class AlertView:
    id: int
    topic: str
    channel: str
    status: str  # pending | sent | dead
    attempts: int
    story_id: int | None
    story_title: str | None  # None for a notice ("source broken")
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    last_error: str | None  # masked URLs only


def snippet_views(snippets: Sequence[dict]) -> list[SnippetView]:
    return [SnippetView(s["text"], [list(m) for m in s["marks"]]) for s in snippets]


def match_views(found: QueryMatch) -> list[SnippetView]:
    return [SnippetView(s.text, [list(m) for m in s.marks]) for s in found.snippets]


def topics(session: Session, configured: Sequence[Topic], now: datetime) -> list[TopicView]:
    """Each configured topic, in config order, with its hits per day over the last DAYS
    days (by when newswatch first saw the article, UTC days)."""
    today = now.astimezone(timezone.utc).date()
    start = datetime.combine(today - timedelta(days=DAYS - 1), datetime.min.time(), timezone.utc)
    names = [t.name for t in configured]
    hits = dict(session.execute(
        select(Match.topic, func.count()).where(Match.topic.in_(names)).group_by(Match.topic)).all())
    stories = dict(session.execute(
        select(Match.topic, func.count(Article.story_id.distinct()))
        .join(Article, Article.id == Match.article_id)
        .where(Match.topic.in_(names)).group_by(Match.topic)).all())
    last_alert = dict(session.execute(
        select(OutboxRow.topic, func.max(OutboxRow.sent_at))
        .where(OutboxRow.topic.in_(names), OutboxRow.status == OutboxStatus.SENT).group_by(OutboxRow.topic)).all())
    recent: dict[str, Counter] = {name: Counter() for name in names}
    for topic, seen in session.execute(
            select(Match.topic, Article.first_seen).join(Article, Article.id == Match.article_id)
            .where(Match.topic.in_(names), Article.first_seen >= start)):
        recent[topic][seen.astimezone(timezone.utc).date()] += 1
    days = [today - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    return [
        TopicView(
            name=t.name, query=t.query.source, hits=hits.get(t.name, 0),
            stories=stories.get(t.name, 0), last_alert=last_alert.get(t.name),
            per_day=[DayCount(day, recent[t.name][day]) for day in days],
        )
        for t in configured
    ]


def _article_view(article: Article, matches: Sequence[Match]) -> ArticleView:
    return ArticleView(
        id=article.id, url=article.url, title=article.title, source=article.source,
        published=article.published, first_seen=article.first_seen,
        duplicate_kind=article.duplicate_kind, role=getattr(article, "role", None),
        matches=[MatchView(m.topic, round(m.score, 3), snippet_views(m.snippets)) for m in matches],
    )


def _matches_of(session: Session, article_ids: Sequence[int], topic: str | None) -> dict[int, list[Match]]:
    query = select(Match).where(Match.article_id.in_(list(article_ids))).order_by(Match.topic)
    if topic is not None:
        query = query.where(Match.topic == topic)
    by_article: dict[int, list[Match]] = {}
    for match in session.scalars(query):
        by_article.setdefault(match.article_id, []).append(match)
    return by_article


def _story_view(session: Session, story: Story, topic: str | None) -> StoryView:
    matches = _matches_of(session, [a.id for a in story.articles], topic)
    return StoryView(
        id=story.id, title=story.title, first_seen=story.first_seen,
        updated=max((a.first_seen for a in story.articles), default=story.first_seen),
        articles=[_article_view(a, matches.get(a.id, [])) for a in story.articles],
    )


def topic_stories(session: Session, topic: str, since: datetime | None = None,
                  limit: int | None = None) -> list[StoryView]:
    """The stories with an article that `topic` matched, updated (an article joined
    them) since `since`, the latest updated first; each with all its articles (those that
    matched carry the topic's snippets)."""
    matched = select(Article.story_id).join(Match, Match.article_id == Article.id).where(
        Match.topic == topic)
    latest = (
        select(Article.story_id, func.max(Article.first_seen).label("latest"))
        .where(Article.story_id.in_(matched)).group_by(Article.story_id).subquery()
    )
    query = (select(Story).join(latest, latest.c.story_id == Story.id)
             .options(selectinload(Story.articles))
             .order_by(latest.c.latest.desc(), Story.id.desc()))
    if since is not None:
        query = query.where(latest.c.latest >= since)
    if limit is not None:
        query = query.limit(limit)
    return [_story_view(session, story, topic) for story in session.scalars(query)]


def story(session: Session, story_id: int) -> StoryView | None:
    """One story with all its articles, each with every topic it matched."""
    found = session.get(Story, story_id, options=[selectinload(Story.articles)])
    return None if found is None else _story_view(session, found, None)


def alerts(session: Session, status: str | None = None, limit: int = 100) -> list[AlertView]:
    """Outbox rows (of one status, or all), newest first."""
    query = (select(OutboxRow, Story.title).outerjoin(Story, Story.id == OutboxRow.story_id)
             .order_by(OutboxRow.id.desc()).limit(limit))
    if status is not None:
        query = query.where(OutboxRow.status == status)
    return [
        AlertView(
            id=row.id, topic=row.topic, channel=row.channel, status=row.status,
            attempts=row.attempts, story_id=row.story_id,
            story_title=title if row.story_id is not None else (row.notice or {}).get("title"),
            created_at=row.created_at, sent_at=row.sent_at,
            next_attempt_at=row.next_attempt_at if row.status == OutboxStatus.PENDING else None,
            last_error=row.last_error,
        )
        for row, title in session.execute(query)
    ]


def alert_status(session: Session, alert_id: int) -> str | None:
    row = session.get(OutboxRow, alert_id)
    return None if row is None else row.status
