"""Ingest: dedup an extracted article, store it, match it, and queue its alerts, in one
transaction.

`Corpus.add` is the last stage of the crawl. Its guarantees:
- every URL that led to the article (as fetched, `rel=canonical`, the link that was
  followed) is recorded in canonical form, so none of them is fetched again;
- an article whose normalised text is already stored (exact) or whose MinHash signature is
  close to a stored original's (near, corpus/neardup.py) joins the original's story as a
  duplicate: its matches are stored, but the story's outbox rows already exist, so
  nothing alerts twice;
- any other article joins the story of an earlier report of the same event
  (corpus/stories.py) or starts a story of its own; a topic alerts once per story, or
  once per article when it asks for every article;
- each article's role in its story is stored (corpus/developments.py): it started the
  story ("first"), repeats its news ("also", copies included), or brings a new
  development ("update"), which queues an update for the topics that alerted the story;
- matches and outbox rows are committed with the article or not at all;
- several processes adding the same URL at once store it once: the URL table's unique key
  decides, and the losers get the winner's article as a duplicate.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable, Literal, Sequence

from sqlalchemy import bindparam, insert, select

from newswatch.alerts import semantic
from newswatch.alerts.matcher import register_topics
from newswatch.alerts.matcher import Topic, TopicIndex
from newswatch.alerts.outbox import enqueue
from newswatch.corpus import developments, neardup, stories
from newswatch.corpus.analysis import Analysis, analyse
from newswatch.corpus.dedup import url_hash
from newswatch.corpus.article import Article
from newswatch.corpus.urls import canonical_url
from newswatch.store.db import Store, insert_or_ignore
from newswatch.store.models import Article as StoredArticle
from newswatch.store.models import ArticleTerms, ArticleURL, ArticleVector, Match, Story, utcnow

log = logging.getLogger(__name__)

Outcome = Literal["new", "duplicate"]


@dataclass(frozen=True)
class Ingested:
    outcome: Outcome
    article_id: int
    story_id: int
    topics: tuple[str, ...]  # names of the topics the article matched
    role: developments.Role = developments.FIRST  # what the article is to its story
    updates: tuple[str, ...] = ()  # topics that queued an update for it

    def describe(self) -> str:
        """What happened to the article, for the ingest log line."""
        if self.role == developments.FIRST:
            return f"started story {self.story_id}"
        if self.updates:
            return f"joined story {self.story_id} with a new development: update queued ({', '.join(self.updates)})"
        if self.role == developments.UPDATE:
            return f"joined story {self.story_id} with a new development"
        return f"joined story {self.story_id} silently ({'a copy' if self.outcome == 'duplicate' else 'same news'})"


_KNOWN_URL = select(ArticleURL.url_hash).where(ArticleURL.url_hash == bindparam("key"))
# What `_add` runs for every article, built once: building a statement (and its cache
# key) costs about as much as SQLite takes to run it.
_ARTICLE_OF_URLS = (
    select(StoredArticle.id, StoredArticle.story_id)
    .join(ArticleURL, ArticleURL.article_id == StoredArticle.id)
    .where(ArticleURL.url_hash.in_(bindparam("hashes", expanding=True)))
    .limit(1)
)
_ORIGINAL_OF_TEXT = (
    select(StoredArticle.id, StoredArticle.story_id)
    .where(StoredArticle.content_hash == bindparam("digest"), StoredArticle.duplicate_of.is_(None))
    .limit(1)
)
_STORY_OF = select(StoredArticle.story_id).where(StoredArticle.id == bindparam("article"))
_NEW_STORY = insert(Story.__table__).returning(Story.id)
_NEW_ARTICLE = insert(StoredArticle.__table__).returning(StoredArticle.id)
_INDEX_TERMS = insert(ArticleTerms.__table__)
_VECTOR = insert(ArticleVector.__table__)
_MATCHES = insert(Match.__table__)


class Corpus:
    """The stored articles, as the crawler sees them: ask whether a URL is known, add an
    article."""

    def __init__(self, store: Store, topics: Sequence[Topic]):
        self.store = store
        # Built once: the index picks the candidate topics for each article.
        self.topics = TopicIndex(register_topics(store, topics))
        # What successive transactions read of the story index (one writer thread).
        self._stories = stories.StoryCache()

    def known(self, url: str) -> bool:
        # Asked on the reactor thread for every link followed: a Core statement built
        # once, on a bare connection (a third of the time of an ORM session's get).
        with self.store.engine.connect() as db:
            return db.execute(_KNOWN_URL, {"key": url_hash(canonical_url(url))}).first() is not None

    def add(self, article: Article, source: str, via: Iterable[str] = (),
            analysis: Analysis | None = None) -> Ingested:
        """Store `article` from `source`; `via` are other URLs that led to it (the link
        followed before redirects). `analysis` is the article's, against this corpus's
        `topics`, if it was computed already (by an extraction worker). Raises nothing
        for duplicates: they are an outcome."""
        addition = Addition(article, source, tuple(via), analysis)
        try:
            return self._transaction(lambda session, index: self._add(session, index, addition))
        except _URLTaken:
            # Another process stored this article between our check and our insert; our
            # transaction is rolled back, and now the URL is known: a duplicate.
            return self._transaction(lambda session, index: self._add(session, index, addition))

    def add_many(self, additions: Sequence[Addition]) -> list[Ingested]:
        """`add` each, in order, in one transaction (one commit for many articles, each
        seeing the ones before it as `add` would). All are stored or none: on any error,
        including another writer taking one of their URLs first, nothing is, and the
        caller adds them one by one instead."""
        return self._transaction(lambda session, index: [self._add(session, index, a) for a in additions])

    def _transaction(self, work):
        """`work(session, story index)` in a transaction of its own, committed."""
        with self.store.session() as session:
            index = stories.StoryIndex(session, self._stories)
            done = work(session, index)
        index.committed()
        return done

    def _add(self, session, index: stories.StoryIndex, addition: Addition) -> Ingested:
        # Core statements, not ORM objects: this runs for every article, and nothing here
        # needs an object's identity or relationships.
        article, source = addition.article, addition.source
        db = session.connection()
        urls = {canonical_url(u) for u in (article.canonical_url, article.url, *addition.via) if u}
        known = self._known_article(db, urls)
        if known is not None:
            known_id, known_story = known
            _remember_urls(session, urls, known_id)
            return Ingested("duplicate", known_id, known_story, (), developments.ALSO)

        analysis = addition.analysis or analyse(article, self.topics, source)
        found_terms = analysis.story_terms
        now = utcnow()
        original, kind = self._original(db, analysis.content_hash, analysis.signature)
        role: developments.Role = developments.ALSO
        if original is not None:
            story_id = original[1]
        else:
            at = article.published or now
            mine = index.vector(found_terms)
            joined = index.find(found_terms, mine, at)
            if joined is not None:
                story_id = joined.story_id
                role = developments.role(session, story_id, article.title, found_terms, mine).role
            else:
                role = developments.FIRST
                story_id = db.execute(_NEW_STORY, {"title": article.title, "first_seen": now}).scalar_one()

        article_id = db.execute(_NEW_ARTICLE, {
            "story_id": story_id,
            "source": source,
            "url": article.url,
            "canonical_url": article.canonical_url,
            "title": article.title,
            "text": article.text,
            "published": article.published,
            "language": article.language,
            "author": article.author,
            "content_hash": analysis.content_hash,
            "duplicate_of": original[0] if original is not None else None,
            "duplicate_kind": kind,
            "story_weight": stories.weight(found_terms) if original is None else None,
            "story_role": role,
            "first_seen": now,
        }).scalar_one()
        # The URLs' unique key decides between concurrent writers (the check above cannot):
        # the one whose insert skips a URL has lost the race.
        if _remember_urls(session, urls, article_id) < len(urls):
            raise _URLTaken
        if original is None:
            # Only originals are indexed: copies find them, and the index grows with
            # distinct articles rather than with syndication.
            neardup.remember(db, article_id, analysis.signature)
            index.remember(article_id, story_id, found_terms, mine, at)

        db.execute(_INDEX_TERMS, [{"article_id": article_id, "terms": analysis.index_terms}])
        if analysis.vector is not None:
            db.execute(_VECTOR, [{"article_id": article_id, "model": semantic.MODEL, "vector": analysis.vector}])
        matches = analysis.matches
        if matches:
            db.execute(_MATCHES, [
                {"article_id": article_id, "topic": m.topic.name, "score": m.match.score,
                 "snippets": [{"text": s.text, "marks": [list(mark) for mark in s.marks]}
                              for s in m.match.snippets],
                 "matched_at": now}
                for m in matches
            ])
        # A topic added after the article was first seen does not alert on it; a copy
        # never alerts again, not even a topic that wants every article.
        updates = enqueue(session, story_id, [m for m in matches if m.topic.alerts_on(now)],
                          article_id=None if original is not None else article_id, role=role)
        outcome: Outcome = "new" if original is None else "duplicate"
        return Ingested(outcome, article_id, story_id, tuple(m.topic.name for m in matches),
                        role, tuple(updates))

    @staticmethod
    def _original(db, digest: str, signature: neardup.Signature
                  ) -> tuple[tuple[int, int] | None, str | None]:
        """The stored original this text copies, as (id, story id), and how ("exact" or
        "near"), if any."""
        exact = db.execute(_ORIGINAL_OF_TEXT, {"digest": digest}).first()
        if exact is not None:
            return tuple(exact), "exact"
        near = neardup.find(db, signature)
        if near is not None:
            return (near.article_id, db.scalar(_STORY_OF, {"article": near.article_id})), "near"
        return None, None

    @staticmethod
    def _known_article(db, urls: set[str]) -> tuple[int, int] | None:
        """(id, story id) of the stored article one of `urls` leads to, if any."""
        row = db.execute(_ARTICLE_OF_URLS, {"hashes": [url_hash(u) for u in urls]}).first()
        return tuple(row) if row is not None else None


@dataclass(frozen=True)
class Addition:
    """One article to add: `Corpus.add`'s arguments."""

    article: Article
    source: str
    via: tuple[str, ...] = ()
    analysis: Analysis | None = None


class IngestError(Exception):
    """An article could not be stored (the database refused it); the message says which
    and why."""


class _URLTaken(Exception):
    """One of the article's URLs was committed by another writer first."""


def _remember_urls(session, urls: set[str], article_id: int) -> int:
    """Record `urls` as leading to `article_id`; returns how many were new."""
    return insert_or_ignore(
        session,
        ArticleURL.__table__,
        [{"url_hash": url_hash(u), "url": u, "article_id": article_id} for u in sorted(urls)],
    )
