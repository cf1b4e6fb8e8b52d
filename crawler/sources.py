"""What a source is to the crawler: a name, a kind, where to look, and how to ask.

`KINDS` is the one list of source kinds: the config key that names each (`feed: URL`),
whether its location is a web URL or a local folder, and the spider that crawls it. The
config validates against it and the crawl builds spiders from it; nothing else lists kinds.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class SourceKind:
    """A kind of source. `spider` is the dotted path of its Scrapy spider, imported only by
    the crawl (reading a config never imports Scrapy)."""

    key: str
    spider: str
    remote: bool = True  # its location is an http(s) URL; else a local folder
    takes_links: bool = False  # has a `links:` CSS selector for article links


KINDS: dict[str, SourceKind] = {kind.key: kind for kind in (
    SourceKind("feed", "newswatch.crawler.spiders.feed.FeedSpider"),
    SourceKind("sitemap", "newswatch.crawler.spiders.sitemap.SitemapSpider"),
    SourceKind("page", "newswatch.crawler.spiders.page.PageSpider", takes_links=True),
    SourceKind("path", "newswatch.crawler.spiders.path.PathSpider", remote=False),
)}


@dataclass(frozen=True)
class Source:
    """A configured source. `kind` is a key of `KINDS`; `location` is an http(s) URL for
    a remote kind, an absolute folder path for `path`.

    `links` is the CSS selector for article links on a `page` (None: the same-site
    article-looking-link heuristic); `max_age` skips articles published longer ago than
    that (where the feed or sitemap says when); `headers` are sent with the source's
    requests to its own URL's origin only (a User-Agent, a cookie; crawler/headers.py); a
    source that is not `enabled` is only crawled when named explicitly; `allow_private`
    admits private addresses for the source's own URL's host and port (crawler/guard.py)."""

    name: str
    kind: str
    location: str
    links: str | None = None
    max_age: timedelta | None = None
    headers: tuple[tuple[str, str], ...] = ()
    enabled: bool = True
    allow_private: bool = False
