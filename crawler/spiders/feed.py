"""`feed:` sources: an RSS or Atom feed; each entry's link is fetched as an article."""
from __future__ import annotations

import feedparser
import scrapy

from newswatch.crawler.spiders.base import NewsSpider

NO_LINK = "newswatch/entries_without_link"


class FeedSpider(NewsSpider):
    async def start(self):
        yield scrapy.Request(
            self.source.location, callback=self.parse_feed, errback=self.source_failed,
            dont_filter=True,
        )

    def parse_feed(self, response):
        feed = feedparser.parse(
            response.body,
            response_headers={
                "content-location": response.url,
                "content-type": response.headers.get("Content-Type", b"").decode("latin-1"),
            },
        )
        if feed.bozo and not feed.entries:
            self.error = f"{response.url}: not a feed ({feed.bozo_exception})"
            self.count_failure(response.url, f"not a feed ({feed.bozo_exception})")
            return
        for entry in feed.entries:
            link = entry.get("link")
            if not link:
                self.crawler.stats.inc_value(NO_LINK)
                continue
            request = self.follow_article(response.urljoin(link))
            if request is not None:
                yield request
