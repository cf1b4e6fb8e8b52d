"""Analysis: everything ingest derives from an article's text alone.

Dedup and matching need, per article, its content hash, its MinHash signature, its story
terms, its full-text index terms, its sentence-embedding vector (only when a topic has a
`like:`; alerts/semantic.py) and its topic matches. All of them are pure functions of
the article (and of the topics, fixed for a daemon's life), and together they cost more
than the database work of storing it. So they are computed where extraction runs, in
the process pool's workers, spread over the cores; the single writer that stores
articles then only talks to the database.

A worker learns the topics once, when it starts (`init_worker`); `extract_and_analyse`
is the function the pool runs per page.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from newswatch.alerts.search import index_terms_of
from newswatch.alerts.matcher import Topic, TopicIndex, TopicMatch, match_document
from newswatch.alerts.query import Document
from newswatch.corpus import neardup, stories
from newswatch.corpus.dedup import content_hash
from newswatch.corpus.article import Article


@dataclass(frozen=True)
class Analysis:
    """An article's fingerprints and matches, as `Corpus.add` stores them.

    `matches` hold the topics as given to `analyse` (equal, not identical, to the
    writer's when they crossed a process boundary)."""

    content_hash: str
    signature: neardup.Signature
    story_terms: stories.Terms
    index_terms: str
    matches: tuple[TopicMatch, ...]
    vector: bytes | None = None  # alerts.semantic.article_vector, when a topic has like:


def analyse(article: Article, topics: TopicIndex | Sequence[Topic], source: str) -> Analysis:
    """The article's analysis; `topics` are matched as `match_topics` would."""
    document = Document(article.title, article.text, source)
    index = topics if isinstance(topics, TopicIndex) else TopicIndex(topics)
    vector = None
    if index.needs_vectors:
        from newswatch.alerts.semantic import article_vector

        vector = article_vector(article.title, article.text)
    return Analysis(
        content_hash=content_hash(article.text),
        signature=neardup.Signature.of(article.text),
        story_terms=stories.terms(article.title, article.text),
        index_terms=index_terms_of(document),
        matches=tuple(match_document(index, document, source, article.language, vector)),
        vector=vector,
    )


# The worker's topics, set once per worker process by `init_worker`.
_topics: TopicIndex = TopicIndex(())


def init_worker(topics: TopicIndex | Sequence[Topic]) -> None:
    """Set the worker's topics; with a `like:` topic, load the embedding model now, so that
    no page's extraction deadline pays for it."""
    global _topics
    _topics = topics if isinstance(topics, TopicIndex) else TopicIndex(topics)
    if _topics.needs_vectors:
        from newswatch.alerts.semantic import load

        load()


def extract_and_analyse(body: bytes, url: str, content_type: str | None,
                        source: str) -> tuple[Article, Analysis]:
    """`extract`, then `analyse` against the worker's topics. Raises what `extract`
    raises."""
    from newswatch.corpus.extract import extract  # preloaded by the workers' fork server

    article = extract(body, url, content_type)
    return article, analyse(article, _topics, source)
