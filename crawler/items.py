"""What flows through the Scrapy pipelines."""
from __future__ import annotations

from dataclasses import dataclass

from newswatch.crawler.analysis import Analysis
from newswatch.crawler.extract import Article


@dataclass
class Page:
    """A fetched article page: spider output, extraction input."""

    source: str
    url: str  # as fetched, after redirects
    via: str  # the link that was followed
    body: bytes
    content_type: str | None


@dataclass
class ExtractedPage:
    """An extracted article: extraction output, ingest input."""

    source: str
    via: str
    article: Article
    analysis: Analysis
