"""What every newswatch spider shares: it crawls one configured `Source`, skips URLs the
corpus already holds, yields `Page`s, and turns each failure into one log line and a
count instead of an exception."""
from __future__ import annotations

from typing import Any

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from newswatch.crawler.items import Page
from newswatch.crawler.sources import Source

FAILED = "newswatch/failed"
KNOWN = "newswatch/known_skipped"


class NewsSpider(scrapy.Spider):
    def __init__(self, source: Source, context: Any, **kwargs):
        super().__init__(name=f"{source.kind}:{source.name}", **kwargs)
        self.source = source
        self.context = context
        self.error: str | None = None  # why the source itself failed, for `status`

    def follow_article(self, url: str) -> scrapy.Request | None:
        """A request for an article link, or None when the corpus already has it."""
        if self.context.corpus.known(url):
            self.crawler.stats.inc_value(KNOWN)
            return None
        return scrapy.Request(
            url, callback=self.parse_article, errback=self.article_failed, cb_kwargs={"via": url}
        )

    def parse_article(self, response: Response, via: str):
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        if not isinstance(response, TextResponse):
            self.count_failure(response.url, f"not a text page ({content_type or 'unknown type'})")
            return
        yield Page(
            source=self.source.name,
            url=response.url,
            via=via,
            body=response.body,
            content_type=content_type,
        )

    def article_failed(self, failure: Failure) -> None:
        request = failure.request
        self.count_failure(request.url, _reason(failure))

    def source_failed(self, failure: Failure) -> None:
        self.error = f"{failure.request.url}: {_reason(failure)}"
        self.count_failure(failure.request.url, _reason(failure))

    def count_failure(self, url: str, reason: str) -> None:
        self.crawler.stats.inc_value(FAILED)
        self.logger.warning("skipped %s: %s", url, reason, extra={"source": self.source.name, "url": url})


def _reason(failure: Failure) -> str:
    response = getattr(failure.value, "response", None)
    if response is not None:
        return f"HTTP {response.status}"
    return f"{type(failure.value).__name__}: {failure.getErrorMessage()}"
