"""The corpus and the outbox, as SQLAlchemy 2.x models.

- `SourceState`: the latest run of each configured source (for `newswatch status`), and
  its health: failures in a row, when it last yielded something, whether it is broken.
- `Validator`: the `ETag`/`Last-Modified` a feed, sitemap or listing page last answered
  with, sent back so an unchanged one costs a 304.
- `Story`: a group of articles about one event; alerts are per (topic, story, channel).
- `Article`: one fetched article. Duplicates are stored too, as members of the original's
  story, so that their URLs stay known and `stories` can list every outlet.
- `ArticleURL`: every canonical URL that led to an article (the fetched one, the page's
  `rel=canonical`, the feed's link); a URL found here is never fetched again.
- `NearDupBand`, `NearDupSignature`: the MinHash-LSH index of original articles (dedup
  level 3, corpus/neardup.py).
- `StoryTerm`, `TermCount`: each article's TF-IDF vector, by term and time, and the
  corpus's document frequencies, for grouping articles into stories (dedup level 4,
  corpus/stories.py).
- `Match`: a topic matched an article, with its score and snippets.
- `OutboxRow`: one alert to deliver, unique per (topic, story, channel) — or per (topic,
  article, channel) for a topic that asks for every article, and for an update (a new
  development of an alerted story) — written in the same transaction as the article
  that caused it.
- `TopicRecord`: when each topic name first appeared in the config (new topics do not
  alert on the back catalogue).
- `ArticleTerms`: an article's words as the query language normalises them, for the
  full-text prefilter of backtests (SQLite FTS5 table kept in sync by triggers, or a GIN
  index on PostgreSQL; see migration 0006).
- `ChannelSend`: one message that went out to a channel (for `max_per_hour:`).
"""
from __future__ import annotations

from datetime import datetime, timezone
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    pass


class SourceState(Base):
    __tablename__ = "sources"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_duration_s: Mapped[float | None] = mapped_column(Float)
    new_count: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    # Requests the last run refused (crawler/refusal.py): a private address, a local file.
    refused_private_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    refused_file_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    failures_in_row: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_new_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    usual_gap_s: Mapped[float | None] = mapped_column(Float)  # between runs with new articles
    broken_since: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Validator(Base):
    __tablename__ = "http_validators"

    url_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Story(Base):
    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    articles: Mapped[list[Article]] = relationship(
        back_populates="story", order_by="Article.first_seen"
    )


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id"), index=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    published: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[str | None] = mapped_column(String(16))
    author: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    # None for an original; else the original it copies, and how: "exact" (same
    # normalised text) or "near" (MinHash-LSH, corpus/neardup.py).
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("articles.id"))
    duplicate_kind: Mapped[str | None] = mapped_column(String(8))
    # The total weight of the article's story terms (corpus/stories.py), so that a
    # candidate story is scored from the term index alone, without re-reading its text.
    story_weight: Mapped[float | None] = mapped_column(Float)
    # What the article is to its story (corpus/developments.py): "first" (started it),
    # "also" (the same news again, or a copy), "update" (a new development). None for
    # articles stored before roles were kept.
    story_role: Mapped[str | None] = mapped_column(String(8))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    story: Mapped[Story] = relationship(back_populates="articles")


class ArticleURL(Base):
    __tablename__ = "article_urls"

    # A canonical URL can be long; its SHA-256 is the key so the unique index stays small.
    url_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)


class NearDupBand(Base):
    __tablename__ = "neardup_bands"
    # The primary key is the lookup index; without a rowid SQLite keeps one B-tree only.
    __table_args__ = {"sqlite_with_rowid": False}

    band_key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )


class NearDupSignature(Base):
    __tablename__ = "neardup_signatures"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class StoryTerm(Base):
    __tablename__ = "story_terms"
    # (term, time) first: a lookup asks for a few terms within a time window.
    __table_args__ = {"sqlite_with_rowid": False}

    term_key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    # The article's story (fixed once stored), copied so that a lookup reads the term
    # index alone.
    story_id: Mapped[int | None] = mapped_column(Integer)
    # The term's weight in the article's unit TF-IDF vector (corpus/stories.py).
    weight: Mapped[float | None] = mapped_column(Float)


class TermCount(Base):
    """How many stored articles hold a story term (corpus/stories.py's document
    frequency), by term key; one row counts the articles themselves."""

    __tablename__ = "term_counts"

    term_key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    documents: Mapped[int] = mapped_column(Integer)


class Match(Base):
    __tablename__ = "matches"
    __table_args__ = (UniqueConstraint("article_id", "topic", name="uq_match_article_topic"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    topic: Mapped[str] = mapped_column(String(200), index=True)
    score: Mapped[float] = mapped_column(Float)
    # [{"text": str, "marks": [[start, end], ...]}, ...]
    snippets: Mapped[list] = mapped_column(JSON, default=list)
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxStatus(StrEnum):
    """Where an outbox row is: waiting to go out (first time or retried), delivered to
    every URL of its channel, or dead-lettered (gave up after too many attempts or too
    long; `newswatch alerts retry` makes it pending again)."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        # One alert per (topic, story, channel): the story's first alert, article_id NULL.
        # Rows with article_id set are keyed by that article, one per (topic, article,
        # channel): a topic with `every_article` alerts each article; with `developments`,
        # an article that brings a new development to an alerted story queues an update
        # (kind "update"). An article is stored once and queues its rows in the same
        # transaction, so neither kind can be queued twice; each row is sent once (its
        # `delivered` URLs are skipped on retry), and an update whose article an earlier
        # message to the channel already carried (`articles`) is settled without sending.
        Index("uq_outbox_topic_story_channel", "topic", "story_id", "channel", unique=True,
              sqlite_where=text("article_id IS NULL"), postgresql_where=text("article_id IS NULL")),
        Index("uq_outbox_topic_article_channel", "topic", "article_id", "channel", unique=True,
              sqlite_where=text("article_id IS NOT NULL"),
              postgresql_where=text("article_id IS NOT NULL")),
        Index("ix_outbox_status_due", "status", "next_attempt_at"),
        Index("ix_outbox_story_channel", "story_id", "channel"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(String(200))
    # None for a notice (e.g. "source broken"), which carries its own text in `notice`.
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id"))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"))
    channel: Mapped[str] = mapped_column(String(200))
    notice: Mapped[dict | None] = mapped_column(JSON)  # {"title": str, "body": str}
    # "alert" (a story's first alert, an every_article alert, a notice) or "update" (new
    # developments of a story already alerted to the channel; see alerts/notifier.py).
    kind: Mapped[str] = mapped_column(String(8), default="alert", server_default="alert")
    # The ids of the articles the sent message carried for this row (None until sent,
    # and for rows sent before this was kept).
    articles: Mapped[list | None] = mapped_column(JSON)
    status: Mapped[OutboxStatus] = mapped_column(
        SAEnum(OutboxStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Goes out folded with the channel's other folded rows in one message: a digest that
    # came due, or alerts held by quiet hours or a rate limit.
    fold: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # Keys of the channel's URLs that already accepted this alert: a retry skips them.
    delivered: Mapped[list] = mapped_column(JSON, default=list)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Since when the row has been waiting to go out: creation, a digest's release, or
    # `newswatch alerts retry`. The maximum age before dead-lettering counts from here.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # SQLite: the drain delivering the row ("host:pid:nonce") and until when its claim
    # holds (PostgreSQL claims rows with advisory locks instead; see alerts/outbox.py).
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TopicRecord(Base):
    __tablename__ = "topics"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    added: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArticleTerms(Base):
    __tablename__ = "article_terms"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    # Space-separated index tokens of the title's then the body's stems, in text order
    # (alerts.search.index_terms); one token per stem, so phrases stay adjacent.
    terms: Mapped[str] = mapped_column(Text)


class ArticleVector(Base):
    """An article's sentence-embedding vector (alerts.semantic.article_vector), for the
    topics with a `like:` and their backtests; stored when such a topic was configured."""

    __tablename__ = "article_vectors"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(100))  # alerts.semantic.MODEL
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class ChannelSend(Base):
    """One message delivered to a channel (an alert, a digest or a summary)."""

    __tablename__ = "channel_sends"
    __table_args__ = (Index("ix_channel_sends_channel_at", "channel", "sent_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    alerts: Mapped[int] = mapped_column(Integer, default=1)  # outbox rows it carried
