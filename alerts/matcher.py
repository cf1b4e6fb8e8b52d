"""Topics, and which of them an article matches.

A newsroom may watch thousands of topics, and most of them miss most articles. A
`TopicIndex`, built once from the config, files each topic under its query's anchors
(stems of which every match contains at least one, see `Query.anchors`); an article's
stems then pick out the few candidate topics, and only those are evaluated.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Iterable, Iterator, Sequence

from sqlalchemy import select

from newswatch.alerts.query import Document, Query, QueryMatch
from newswatch.store.db import Store, insert_or_ignore
from newswatch.store.models import TopicRecord


@dataclass(frozen=True)
class Topic:
    """A watch topic built from config: its name (shown verbatim in alerts), its parsed
    query, the names of the channels it notifies, and its filters.

    `min_score`: weaker matches are ignored. `sources` / `languages`: when not empty, only
    articles from those sources / in those languages (ISO 639-1) match; an article whose
    language is unknown is not excluded, as many pages do not declare theirs.
    `added`: when the topic first appeared in the config (set at start from the store);
    it alerts only on articles first seen since then. `every_article`: alert for each
    article rather than once per story.
    """

    name: str
    query: Query
    channels: tuple[str, ...] = ()
    min_score: float = 0.0
    sources: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    added: datetime | None = None
    every_article: bool = False

    def accepts(self, source: str | None, language: str | None) -> bool:
        """Whether the topic's source and language filters let such an article through."""
        if self.sources and source not in self.sources:
            return False
        if self.languages and language and language.split("-")[0].lower() not in self.languages:
            return False
        return True

    def alerts_on(self, first_seen: datetime) -> bool:
        """Whether an article first seen at `first_seen` alerts (not the back catalogue)."""
        return self.added is None or first_seen >= self.added


@dataclass(frozen=True)
class TopicMatch:
    topic: Topic
    match: QueryMatch


class TopicIndex(Sequence[Topic]):
    """The topics, in config order, with an inverted index from anchor stem to topics.

    A sequence of its topics, so it goes wherever a list of topics goes.
    """

    def __init__(self, topics: Iterable[Topic]):
        self.topics = tuple(topics)
        by_stem: dict[str, list[int]] = defaultdict(list)
        for i, topic in enumerate(self.topics):
            for stem in topic.query.anchors:
                by_stem[stem].append(i)
        self._by_stem = dict(by_stem)

    def __len__(self) -> int:
        return len(self.topics)

    def __getitem__(self, i):
        return self.topics[i]

    def __iter__(self) -> Iterator[Topic]:
        return iter(self.topics)

    def candidates(self, document: Document) -> list[Topic]:
        """The topics that might match `document` (a superset of those that do), in
        config order."""
        found: set[int] = set()
        by_stem = self._by_stem
        for stem in document.stems:
            ids = by_stem.get(stem)
            if ids:
                found.update(ids)
        return [self.topics[i] for i in sorted(found)]


def match_topics(
    topics: TopicIndex | Iterable[Topic],
    title: str,
    text: str,
    source: str | None = None,
    language: str | None = None,
) -> list[TopicMatch]:
    """Every topic whose query matches the article's title and body (never anything else
    of the page: boilerplate is gone before this is called), that accepts its source and
    language, with a score of at least the topic's `min_score`. In topic order.

    Pass a `TopicIndex` when there are many topics: only its candidates are evaluated.
    """
    return match_document(topics, Document(title, text, source), source, language)


def match_document(
    topics: TopicIndex | Iterable[Topic],
    document: Document,
    source: str | None = None,
    language: str | None = None,
) -> list[TopicMatch]:
    """`match_topics` of an article already tokenised (`Document(title, text, source)`)."""
    if isinstance(topics, TopicIndex):
        topics = topics.candidates(document)
    stems = document.stems
    matches = []
    for topic in topics:
        # The cheapest test first: most candidates lack one of their query's words.
        if not topic.query.required <= stems or not topic.accepts(source, language):
            continue
        found = topic.query.match(document)
        if found is not None and found.score >= topic.min_score:
            matches.append(TopicMatch(topic, found))
    return matches


def register_topics(store: Store, topics: Sequence[Topic]) -> tuple[Topic, ...]:
    """Record each topic name not seen before as added now; return the topics with
    `added` set (the first time its name appeared, kept across restarts)."""
    now = datetime.now(timezone.utc)
    with store.session() as session:
        insert_or_ignore(session, TopicRecord.__table__,
                         [{"name": t.name, "added": now} for t in topics])
        added = dict(session.execute(select(TopicRecord.name, TopicRecord.added)).all())
    return tuple(replace(t, added=added[t.name]) for t in topics)
