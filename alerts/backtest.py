"""The stored corpus seen through topic queries: backtests and backfills.

`search` answers "what would this query have caught?" over the stored articles. The
database's full-text search narrows them first (`newswatch.alerts.search`: SQLite FTS5,
PostgreSQL tsvector with a GIN index) and the real matcher confirms each candidate, so a
backtest finds exactly what live matching would have.

A topic with a `like:` text (alerts/semantic.py) is backtested on the stored article
vectors too (`search_topic`): an article stored before any such topic was configured has
none, and gets one, once, when a backtest first needs it (`vectors_missing`).

A topic added to the config does not alert on the back catalogue (`Topic.added`);
`backfill` queues alerts for a topic's older matches on request.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newswatch.alerts.matcher import Topic, TopicMatch, match_document
from newswatch.alerts.outbox import enqueue
from newswatch.alerts.query import Document, Query, QueryMatch
from newswatch.alerts.search import BATCH, candidates, index_missing, stored_document
from newswatch.store.db import Store, insert_or_ignore
from newswatch.store.models import Article, ArticleTerms, ArticleVector, Match, OutboxRow

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Hit:
    """A stored article the query matches, with what filters and ranking need."""

    article_id: int
    source: str
    language: str | None
    first_seen: datetime
    score: float


def search(
    session: Session,
    query: Query,
    since: datetime | None = None,
    source: str | None = None,
) -> list[Hit]:
    """The stored articles (first seen since `since`, from `source`) that `query`
    matches, best score first (then newest). Each candidate of the full-text prefilter
    is confirmed by the matcher on its stored terms, so no article text is read or
    tokenised here; `show` adds the snippets for the hits to be shown."""
    index_missing(session)
    stmt = (select(Article.id, Article.source, Article.language, Article.first_seen,
                   ArticleTerms.terms)
            .join(ArticleTerms, ArticleTerms.article_id == Article.id))
    narrowed = candidates(session, query)
    if narrowed is not None:
        stmt = stmt.where(Article.id.in_(narrowed))
    if since is not None:
        stmt = stmt.where(Article.first_seen >= since)
    if source is not None:
        stmt = stmt.where(Article.source == source)
    hits = []
    for id_, source_, language, first_seen, terms in session.execute(stmt):
        score = query.score(stored_document(terms, source_, query))
        if score is not None:
            hits.append(Hit(id_, source_, language, first_seen, score))
    hits.sort(key=lambda h: (-h.score, -h.first_seen.timestamp(), -h.article_id))
    return hits


def for_topic(hits: Sequence[Hit], topic: Topic) -> list[Hit]:
    """The hits that `topic` keeps: its sources, languages and min_score applied."""
    return [h for h in hits
            if topic.accepts(h.source, h.language) and h.score >= topic.min_score]


def show(session: Session, query: Query, hits: Sequence[Hit]) -> list[tuple[Article, QueryMatch]]:
    """The stored articles of `hits`, in their order, each with its full match (score
    and snippets, from the article's text)."""
    articles = {a.id: a for a in session.scalars(
        select(Article).where(Article.id.in_([h.article_id for h in hits])))}
    shown = []
    for hit in hits:
        article = articles[hit.article_id]
        found = query.match(Document(article.title, article.text, article.source))
        if found is not None:  # always: the same words, the same matcher
            shown.append((article, found))
    return shown


# --------------------------------------------------------------------------- meaning

def vectors_missing(session: Session) -> int:
    """Compute and store the vectors of the articles that have none; returns how many.
    Raises SemanticUnavailable without the `semantic` extra."""
    from newswatch.alerts import semantic

    done = 0
    while True:
        rows = session.execute(
            select(Article.id, Article.title, Article.text)
            .outerjoin(ArticleVector, ArticleVector.article_id == Article.id)
            .where(ArticleVector.article_id.is_(None)).limit(BATCH)).all()
        if not rows:
            return done
        if not done:
            log.info("computing article vectors for a like: backtest (once per article)")
        insert_or_ignore(session, ArticleVector.__table__, [
            {"article_id": id_, "model": semantic.MODEL,
             "vector": semantic.article_vector(title or "", body or "")}
            for id_, title, body in rows])
        done += len(rows)


def search_topic(session: Session, topic: Topic, since: datetime | None = None,
                 source: str | None = None) -> list[Hit]:
    """The stored articles `topic` matches: its query's hits (`search`), and for a topic
    with a `like:` the articles whose stored vector is similar enough, combined as its
    `match:` says; its filters applied, best score first. A match by meaning alone
    scores its similarity."""
    hits = for_topic(search(session, topic.query, since, source), topic)
    meaning = topic.meaning
    if meaning is None:
        return hits
    vectors_missing(session)
    stmt = (select(Article.id, Article.source, Article.language, Article.first_seen,
                   ArticleVector.vector)
            .join(ArticleVector, ArticleVector.article_id == Article.id))
    if since is not None:
        stmt = stmt.where(Article.first_seen >= since)
    if source is not None:
        stmt = stmt.where(Article.source == source)
    by_query = {h.article_id: h for h in hits}
    combined = []
    for id_, source_, language, first_seen, vector in session.execute(stmt):
        similar = meaning.similarity(vector) >= meaning.min_similarity
        hit = by_query.get(id_)
        if meaning.require:
            if hit is not None and similar:
                combined.append(hit)
        elif hit is not None:
            combined.append(hit)
        elif similar and topic.accepts(source_, language):
            combined.append(Hit(id_, source_, language, first_seen, meaning.similarity(vector)))
    combined.sort(key=lambda h: (-h.score, -h.first_seen.timestamp(), -h.article_id))
    return combined


def show_topic(session: Session, topic: Topic, hits: Sequence[Hit]
               ) -> list[tuple[Article, QueryMatch]]:
    """`show` for a topic: each article's match as live matching makes it (the query's
    snippets, or the sentences most similar to its `like:`)."""
    if topic.meaning is None:
        return show(session, topic.query, hits)
    ids = [h.article_id for h in hits]
    articles = {a.id: a for a in session.scalars(select(Article).where(Article.id.in_(ids)))}
    vectors = dict(session.execute(select(ArticleVector.article_id, ArticleVector.vector)
                                   .where(ArticleVector.article_id.in_(ids))).all())
    shown = []
    for hit in hits:
        article = articles[hit.article_id]
        found = match_document([topic], Document(article.title, article.text, article.source),
                               vector=vectors.get(article.id))
        if found:
            shown.append((article, found[0].match))
    return shown


@dataclass(frozen=True)
class Backfill:
    matched: int  # stored articles the topic matches (its filters and min_score applied)
    queued: int   # new outbox rows (one per story and channel not alerted before)


def backfill(store: Store, topic: Topic, since: datetime | None = None) -> Backfill:
    """Match `topic` against the stored articles and queue the alerts live matching would
    have queued, in one transaction. Stories already alerted for the topic stay as they
    are (outbox rows are unique per topic, story and channel)."""
    with store.session() as session:
        before = _outbox_rows(session, topic.name)
        hits = search_topic(session, topic, since)
        for start in range(0, len(hits), BATCH):
            for article, found in show_topic(session, topic, hits[start:start + BATCH]):
                insert_or_ignore(session, Match.__table__, [{
                    "article_id": article.id, "topic": topic.name, "score": found.score,
                    "snippets": [{"text": s.text, "marks": [list(m) for m in s.marks]}
                                 for s in found.snippets],
                    "matched_at": datetime.now(timezone.utc),
                }])
                # The article itself, for an every_article topic (a copy gets none, as live).
                enqueue(session, article.story_id, [TopicMatch(topic, found)],
                        article_id=article.id if article.duplicate_of is None else None)
        matched, queued = len(hits), _outbox_rows(session, topic.name) - before
    log.info("backfill of %r: %d matching articles, %d alerts queued", topic.name, matched, queued)
    return Backfill(matched, queued)


def _outbox_rows(session: Session, topic: str) -> int:
    return session.scalar(select(func.count()).select_from(OutboxRow)
                          .where(OutboxRow.topic == topic))
