"""What the spiders hand to the Scrapy pipelines (extraction then yields an
`ingest.Addition`: the article, its analysis, where it came from)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Page:
    """A fetched article page: spider output, extraction input."""

    source: str
    url: str  # as fetched, after redirects
    via: str  # the link that was followed
    body: bytes
    content_type: str | None

