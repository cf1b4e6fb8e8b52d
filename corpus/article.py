"""What extraction yields (`Article`) and how it fails (`ExtractionError`), apart from the
extraction itself: the processes that only pass articles on (the crawling one, the ingest
one) use them without importing trafilatura (corpus/extract.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Article:
    """What extraction yields for one page: the article's own URL (as fetched), its canonical URL,
    title, body text (paragraphs separated by blank lines, boilerplate removed), and metadata."""

    url: str
    canonical_url: str
    title: str
    text: str
    published: datetime | None  # timezone-aware (UTC if the page gives no zone)
    language: str | None  # ISO 639-1, e.g. "en"
    author: str | None


class ExtractionError(Exception):
    """the page holds no article text (empty, not an article, undecodable)"""
