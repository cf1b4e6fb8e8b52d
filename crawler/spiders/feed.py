"""`feed:` sources: an RSS (0.9x, 1.0/RDF, 2.0) or Atom feed; each entry's link, resolved
against the feed's URL, is fetched as an article. Entries without an http(s) link, and
entries older than the source's `max_age`, are skipped and counted."""
from __future__ import annotations

import asyncio
import calendar
from datetime import datetime, timezone

import feedparser

from newswatch.crawler.safexml import UnsafeXML, check_xml
from newswatch.crawler.spiders.base import NO_LINK, NewsSpider


class FeedSpider(NewsSpider):
    async def start(self):
        yield self.listing_request(self.source.location, self.parse_feed)

    async def parse_feed(self, response):
        if self.not_modified(response):
            return
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        # Parsing a large feed takes seconds of CPU: not on the reactor's thread.
        try:
            feed = await asyncio.to_thread(_parse, response.body, response.url, content_type)
        except UnsafeXML as exc:
            self.refuse(response.url, f"not a safe feed: {exc}")
            return
        if feed.bozo and not feed.entries:
            self.refuse(response.url, f"not a feed ({feed.bozo_exception})")
            return
        for entry in self.capped(feed.entries, response.url):
            link = entry.get("link")
            if not link:
                self.crawler.stats.inc_value(NO_LINK)
                continue
            if self.too_old(_published(entry)):
                continue
            request = self.follow_article(response.urljoin(link))
            if request is not None:
                yield request


def _parse(body: bytes, url: str, content_type: str):
    check_xml(body)
    return feedparser.parse(body, response_headers={"content-location": url, "content-type": content_type})


def _published(entry) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime.fromtimestamp(calendar.timegm(parsed), timezone.utc) if parsed else None
