"""The stored corpus seen through topic queries: backtests, backfills, and when topics
appeared.

`search` answers "what would this query have caught?" over the stored articles. The
database's full-text search narrows them first (SQLite FTS5, PostgreSQL tsvector with a
GIN index) and the real matcher confirms each candidate, so a backtest finds exactly what
live matching would have. The index holds `index_terms`: every word of the title and
body as the query language normalises it (folded, stemmed), one index token per stem, so
the prefilter can never miss a match for lack of stemming or accent folding on the
database's side. It is written with the article and kept in sync by triggers (SQLite) or
an expression index (PostgreSQL); `index_missing` fills it for articles stored before.

A topic with a `like:` text (alerts/semantic.py) is backtested on the stored article
vectors too (`search_topic`): an article stored before any such topic was configured has
none, and gets one, once, when a backtest first needs it (`vectors_missing`).

A topic added to the config does not alert on the back catalogue: `register_topics`
records when each topic name first appeared (`Topic.added`), and only articles first
seen since then alert. `backfill` queues alerts for a topic's older matches on request.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import lru_cache
from typing import Sequence

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from newswatch.alerts.matcher import Topic, TopicMatch, match_document
from newswatch.alerts.outbox import enqueue
from newswatch.alerts.query import (
    And, Document, Near, Node, Or, Phrase, Query, QueryMatch, Term, tokenize,
)
from newswatch.store.db import Store, insert_or_ignore
from newswatch.store.models import (
    Article, ArticleTerms, ArticleVector, Match, OutboxRow, TopicRecord,
)

log = logging.getLogger(__name__)

BATCH = 500


# --------------------------------------------------------------------------- index terms

_PLAIN = re.compile(r"[a-wyz0-9][a-z0-9]*")
SEPARATOR = "x"  # between the title's tokens and the body's; no stem's token is "x"


@lru_cache(maxsize=1 << 16)  # a language's common words recur in every article
def _index_token(stem: str) -> str:
    """One token that every full-text tokenizer keeps whole: the stem itself when it is
    plain ASCII letters and digits, else "x" and its UTF-8 in hex (`u.s`, `3.5`, `киев`,
    and stems that begin with x, so that the encoding can be read back)."""
    return stem if _PLAIN.fullmatch(stem) else "x" + stem.encode("utf-8").hex()


def index_tokens(text: str | None) -> list[str]:
    """The index tokens of one text, in order."""
    return [_index_token(t.stem) for t in tokenize(text or "")]


def index_terms(title: str | None, body: str | None) -> str:
    """The article's words for the full-text index: title, SEPARATOR, body."""
    return " ".join([*index_tokens(title), SEPARATOR, *index_tokens(body)])


def index_terms_of(document: Document) -> str:
    """`index_terms` of a tokenised article (a `Document` built from its text)."""
    title, body = (field.stems for field in document.fields)
    return " ".join([*map(_index_token, title), SEPARATOR, *map(_index_token, body)])


def _document(terms: str, source: str | None, query: Query) -> Document:
    """The Document (without text) that stored terms describe, as far as `query` looks."""
    tokens = terms.split()
    cut = tokens.index(SEPARATOR)
    title, body = tokens[:cut], tokens[cut + 1:]
    encoded = {t: s for s in query.vocabulary if (t := _index_token(s)) != s}
    if encoded:  # else every word of the query is its own token: nothing to translate
        title = [encoded.get(t, t) for t in title]
        body = [encoded.get(t, t) for t in body]
    return Document.from_stems(title, body, source, query.vocabulary)


def index_missing(session: Session) -> int:
    """Index the articles that have no terms yet (stored before the index existed, or by
    code that bypassed ingest); returns how many."""
    # Deleting an article deletes its terms, so equal counts mean nothing is missing.
    missing = (session.scalar(select(func.count()).select_from(Article))
               - session.scalar(select(func.count()).select_from(ArticleTerms)))
    if missing <= 0:
        return 0
    log.info("indexing %d stored articles for search (once)", missing)
    done = 0
    while True:
        rows = session.execute(
            select(Article.id, Article.title, Article.text)
            .outerjoin(ArticleTerms, ArticleTerms.article_id == Article.id)
            .where(ArticleTerms.article_id.is_(None))
            .limit(BATCH)
        ).all()
        if not rows:
            return done
        insert_or_ignore(session, ArticleTerms.__table__, [
            {"article_id": id_, "terms": index_terms(title, body)} for id_, title, body in rows])
        done += len(rows)


# --------------------------------------------------------------------------- prefilter

def _prefilter(node: Node):
    """A condition on index tokens that every article matching `node` meets, as a small
    tree: ("word", token), ("phrase", tokens), ("all", parts), ("any", parts); None when
    `node` says nothing about words (NOT, source:). Positions within a field, title:,
    NEAR distances and negations are left to the matcher."""
    if isinstance(node, Term):
        return ("word", _index_token(node.stem))
    if isinstance(node, Phrase):
        return ("phrase", tuple(_index_token(s) for s in node.stems))
    if isinstance(node, (And, Near)):
        parts = [p for p in map(_prefilter, node.children) if p is not None]
        return ("all", tuple(parts)) if parts else None
    if isinstance(node, Or):
        parts = [_prefilter(c) for c in node.children]
        return None if any(p is None for p in parts) else ("any", tuple(parts))
    return None


def _fts5(cond) -> str:
    kind, value = cond
    if kind == "word":
        return f'"{value}"'
    if kind == "phrase":
        return '"' + " ".join(value) + '"'
    return "(" + (" AND " if kind == "all" else " OR ").join(map(_fts5, value)) + ")"


def _tsquery(cond) -> str:
    kind, value = cond
    if kind == "word":
        return value
    if kind == "phrase":
        return "(" + " <-> ".join(value) + ")"
    return "(" + (" & " if kind == "all" else " | ").join(map(_tsquery, value)) + ")"


def _candidates(session: Session, query: Query):
    """A subquery of the ids of articles that may match `query`, or None for all."""
    cond = _prefilter(query.root)
    if cond is None:
        return None
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return text("SELECT rowid FROM article_terms_fts WHERE article_terms_fts MATCH :fts"
                    ).bindparams(fts=_fts5(cond))
    if dialect == "postgresql":
        # The same expression as the GIN index of migration 0006, or the index is not used.
        return text("SELECT article_id FROM article_terms WHERE to_tsvector('simple', terms)"
                    " @@ to_tsquery('simple', :fts)").bindparams(fts=_tsquery(cond))
    raise NotImplementedError(f"full-text search on {dialect}")


# --------------------------------------------------------------------------- search

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
    candidates = _candidates(session, query)
    if candidates is not None:
        stmt = stmt.where(Article.id.in_(candidates))
    if since is not None:
        stmt = stmt.where(Article.first_seen >= since)
    if source is not None:
        stmt = stmt.where(Article.source == source)
    hits = []
    for id_, source_, language, first_seen, terms in session.execute(stmt):
        score = query.score(_document(terms, source_, query))
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


# --------------------------------------------------------------------------- topics

def register_topics(store: Store, topics: Sequence[Topic]) -> tuple[Topic, ...]:
    """Record each topic name not seen before as added now; return the topics with
    `added` set (the first time its name appeared, kept across restarts)."""
    now = datetime.now(timezone.utc)
    with store.session() as session:
        insert_or_ignore(session, TopicRecord.__table__,
                         [{"name": t.name, "added": now} for t in topics])
        added = dict(session.execute(select(TopicRecord.name, TopicRecord.added)).all())
    return tuple(replace(t, added=added[t.name]) for t in topics)


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
                enqueue(session, article.story_id, [TopicMatch(topic, found)])
        matched, queued = len(hits), _outbox_rows(session, topic.name) - before
    log.info("backfill of %r: %d matching articles, %d alerts queued", topic.name, matched, queued)
    return Backfill(matched, queued)


def _outbox_rows(session: Session, topic: str) -> int:
    return session.scalar(select(func.count()).select_from(OutboxRow)
                          .where(OutboxRow.topic == topic))
