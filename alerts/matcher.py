"""Topics, and which of them an article matches."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from newswatch.alerts.query import Document, Query, QueryMatch


@dataclass(frozen=True)
class Topic:
    """A watch topic built from config: its name (shown verbatim in alerts), its parsed
    query, the names of the channels it notifies, and whether it alerts for every article
    (`every_article`) rather than once per story."""

    name: str
    query: Query
    channels: tuple[str, ...] = ()
    every_article: bool = False


@dataclass(frozen=True)
class TopicMatch:
    topic: Topic
    match: QueryMatch


def match_topics(topics: Iterable[Topic], title: str, text: str) -> list[TopicMatch]:
    """Every topic whose query matches the article's title and body (never anything else
    of the page: boilerplate is gone before this is called)."""
    document = Document(title, text)
    matches = []
    for topic in topics:
        found = topic.query.match(document)
        if found is not None:
            matches.append(TopicMatch(topic, found))
    return matches
