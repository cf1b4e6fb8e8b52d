"""What a source is to the crawler: a name, a kind, where to look, and how to ask."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

SourceKind = Literal["feed", "sitemap", "page", "path"]


@dataclass(frozen=True)
class Source:
    """A configured source. `location` is an http(s) URL for `feed`, `sitemap` and
    `page`, an absolute folder path for `path`.

    `links` is the CSS selector for article links on a `page` (None: the same-site
    article-looking-link heuristic); `max_age` skips articles published longer ago than
    that (where the feed or sitemap says when); `headers` are sent with the source's
    requests to its own URL's origin only (a User-Agent, a cookie; crawler/headers.py); a source that is not `enabled` is only crawled
    when named explicitly; `allow_private` admits private addresses for the source's own
    URL's host and port (crawler/guard.py)."""

    name: str
    kind: SourceKind
    location: str
    links: str | None = None
    max_age: timedelta | None = None
    headers: tuple[tuple[str, str], ...] = ()
    enabled: bool = True
    allow_private: bool = False
