"""Topics, and which of them an article matches.

A newsroom may watch thousands of topics, and most of them miss most articles. A
`TopicIndex`, built once from the config, files each topic under its query's anchors
(stems of which every match contains at least one, see `Query.anchors`); an article's
stems then pick out the few candidate topics, and only those are evaluated. A topic with
a `like:` text that its query alone need not satisfy (`match: any`) is a candidate for
every article whose vector is known.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Iterable, Iterator, Literal, Sequence

from sqlalchemy import select

from newswatch.alerts.query import Document, Query, QueryMatch
from newswatch.store.db import Store, insert_or_ignore
from newswatch.store.models import TopicRecord


UpdateMode = Literal["developments", "none", "every_article"]
DEFAULT_UPDATE_EVERY = timedelta(hours=1)

if TYPE_CHECKING:
    from newswatch.alerts.semantic import Meaning


@dataclass(frozen=True)
class Topic:
    """A watch topic built from config: its name (shown verbatim in alerts), its parsed
    query, the names of the channels it notifies, and its filters.

    `min_score`: weaker matches are ignored. `sources` / `languages`: when not empty, only
    articles from those sources / in those languages (ISO 639-1) match; an article whose
    language is unknown is not excluded, as many pages do not declare theirs.
    `added`: when the topic first appeared in the config (set at start from the store);
    it alerts only on articles first seen since then.

    `updates`: what a story that already alerted sends when it gains articles:
    "developments" (an `Update:` for articles that bring a new development, at most one
    per story and channel per `update_every`), "none", or "every_article" (an alert for
    each article rather than once per story). `every_article=True` is the older
    spelling of ``updates="every_article"``; the two always agree. `digest`: the topic
    collects its alerts into a digest (which lists every article a story gained).
    `meaning`: the topic's `like:` (see alerts/semantic.py), matched against an
    article's vector when one is given.
    """

    name: str
    query: Query
    channels: tuple[str, ...] = ()
    min_score: float = 0.0
    sources: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    added: datetime | None = None
    every_article: bool = False
    updates: UpdateMode = "developments"
    update_every: timedelta = DEFAULT_UPDATE_EVERY
    digest: bool = False
    meaning: Meaning | None = None

    def __post_init__(self) -> None:
        if self.every_article:
            object.__setattr__(self, "updates", "every_article")
        elif self.updates == "every_article":
            object.__setattr__(self, "every_article", True)

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
        self._anchors = frozenset(by_stem)
        # Topics that may match by meaning alone: candidates whenever a vector is known.
        self._by_meaning = frozenset(i for i, t in enumerate(self.topics)
                                     if t.meaning is not None and not t.meaning.require)

    @property
    def needs_vectors(self) -> bool:
        """Whether any topic has a `like:` (articles then need their vector)."""
        return any(t.meaning is not None for t in self.topics)

    def __len__(self) -> int:
        return len(self.topics)

    def __getitem__(self, i):
        return self.topics[i]

    def __iter__(self) -> Iterator[Topic]:
        return iter(self.topics)

    def candidates(self, document: Document, by_meaning: bool = False) -> list[Topic]:
        """The topics that might match `document` (a superset of those that do), in
        config order; with `by_meaning`, also those that may match by meaning alone."""
        found: set[int] = set(self._by_meaning) if by_meaning else set()
        by_stem = self._by_stem
        # The intersection walks the smaller of the two sets, in C.
        for stem in document.stems & self._anchors:
            found.update(by_stem[stem])
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
    vector: bytes | None = None,
) -> list[TopicMatch]:
    """`match_topics` of an article already tokenised (`Document(title, text, source)`).

    `vector` is the article's (alerts/semantic.py), for the topics with a `like:`: with
    `match: any` they match by their query or by meaning, with `match: all` by both.
    Without a vector, a `like:` topic matches by its query alone (`any`) or not (`all`).
    A match by meaning alone scores its similarity and explains itself with the most
    similar sentences."""
    if isinstance(topics, TopicIndex):
        topics = topics.candidates(document, by_meaning=vector is not None)
    stems = document.stems
    matches = []
    for topic in topics:
        if not topic.accepts(source, language):
            continue
        # The cheapest test first: most candidates lack one of their query's words.
        found = topic.query.match(document) if topic.query.required <= stems else None
        if found is not None and found.score < topic.min_score:
            found = None
        if topic.meaning is not None:
            found = _by_meaning(topic.meaning, found, document, vector)
        if found is not None:
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


def _by_meaning(meaning: Meaning, found: QueryMatch | None, document: Document,
                vector: bytes | None) -> QueryMatch | None:
    """The query's match combined with the meaning's (see `match_document`)."""
    if vector is None or (found is not None and not meaning.require):
        return None if meaning.require else found
    if meaning.require and found is None:
        return None
    similarity = meaning.similarity(vector)
    if similarity < meaning.min_similarity:
        return None
    why = meaning.why(document.title, document.text, similarity)
    if found is not None:
        return QueryMatch(found.score, found.snippets[:2] + why[:1])
    return QueryMatch(similarity, why)
