"""What every newswatch spider shares: it crawls one configured `Source`, skips URLs the
corpus already holds, yields `Page`s, and turns each failure into one log line and a
count instead of an exception.

Listing requests (a feed, a sitemap, a section page) are conditional: the
`ConditionalGetMiddleware` sends the stored validators back, and a 304 reaches the
callback, which stops there (`not_modified`) without parsing anything.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from sqlalchemy.exc import SQLAlchemyError
from twisted.python.failure import Failure

from newswatch.crawler.items import Page
from newswatch.crawler.refusal import REFUSALS, REFUSED_FILE, Refused
from newswatch.crawler.sources import Source
from newswatch.store.availability import DATABASE, SERVERS, outage_of

FAILED = "newswatch/failed"
TRANSIENT = "newswatch/failed_transient"  # worth fetching again next run
KNOWN = "newswatch/known_skipped"
NO_LINK = "newswatch/entries_without_link"  # no link, or none a browser would follow
TOO_OLD = "newswatch/too_old"
NOT_MODIFIED = "newswatch/not_modified"
OVER_CAP = "newswatch/entries_over_cap"  # listing entries past NEWSWATCH_MAX_ENTRIES
ARTICLE_REQUESTS = "newswatch/article_requests"

#: Content types an article can come in; anything else is skipped before extraction.
ARTICLE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")


class NewsSpider(scrapy.Spider):
    #: The methods a request may name as its callback or errback (a shared queue's
    #: entries are checked against them, queuecodec.py).
    REQUEST_CALLBACKS = frozenset({"parse_article", "article_failed", "source_failed",
                                   "parse_feed", "parse_sitemap", "parse_listing"})

    def __init__(self, source: Source, context: Any, **kwargs):
        super().__init__(name=f"{source.kind}:{source.name}", **kwargs)
        self.source = source
        self.context = context
        self.error: str | None = None  # why the source itself failed, for `status`
        # listing URL -> (ETag, Last-Modified) answered in this run (see conditional.py)
        self.validators: dict[str, tuple[str | None, str | None]] = {}
        self._followed: set[str] = set()

    def listing_request(self, url: str, callback: Callable) -> scrapy.Request:
        """A request for a feed, sitemap or listing page: conditional, 304 let through."""
        return scrapy.Request(
            url, callback=callback, errback=self.source_failed, dont_filter=True,
            meta={"conditional": True, "handle_httpstatus_list": [304]},
        )

    def not_modified(self, response: Response) -> bool:
        """True (and counted) for a 304: the listing is unchanged, nothing to parse."""
        if response.status != 304:
            return False
        self.crawler.stats.inc_value(NOT_MODIFIED)
        self.logger.debug("%s not modified", response.url)
        return True

    def capped(self, entries: list, url: str) -> list:
        """The first `NEWSWATCH_MAX_ENTRIES` of a listing's entries; the rest counted
        and named in one log line."""
        cap = self.crawler.settings.getint("NEWSWATCH_MAX_ENTRIES", 10_000)
        if len(entries) <= cap:
            return entries
        self.crawler.stats.inc_value(OVER_CAP, len(entries) - cap)
        self.logger.warning("%s lists %d entries: only the first %d are followed (crawl: max_entries)",
                            url, len(entries), cap, extra={"source": self.source.name, "url": url})
        return entries[:cap]

    def too_old(self, published: datetime | None) -> bool:
        """True (and counted) when `published` is older than the source's `max_age`."""
        if self.source.max_age is None or published is None:
            return False
        if published.tzinfo is None:
            published = published.replace(tzinfo=timezone.utc)
        if datetime.now(timezone.utc) - published <= self.source.max_age:
            return False
        self.crawler.stats.inc_value(TOO_OLD)
        return True

    def follow_article(self, url: str) -> scrapy.Request | None:
        """A request for an article link, or None when the corpus already has it or this
        run already asked for it."""
        if url in self._followed:
            return None
        self._followed.add(url)
        scheme = urlsplit(url).scheme
        if scheme == "file" and self.source.kind != "path":
            self.count_refusal(url, REFUSED_FILE, "a local file (only path: sources read files)")
            return None
        # e.g. a feed entry whose only "link" is its id, a URN
        if scheme not in ("http", "https", "file"):
            self.crawler.stats.inc_value(NO_LINK)
            return None
        try:
            known = self.context.corpus.known(url)
        except SQLAlchemyError as exc:
            if outage_of(exc) is None:
                raise
            SERVERS.failed(DATABASE, exc)  # the database is away: the next run follows it
            return None
        if known:
            self.crawler.stats.inc_value(KNOWN)
            return None
        self.crawler.stats.inc_value(ARTICLE_REQUESTS)
        # dont_filter: the run's duplicates are caught above; Scrapy's filter would also
        # drop a redirect back to the same URL silently, where it must fail and count.
        return scrapy.Request(
            url, callback=self.parse_article, errback=self.article_failed, dont_filter=True,
            cb_kwargs={"via": url},
        )

    def parse_article(self, response: Response, via: str) -> Page | None:
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        mime = (content_type or "").split(";", 1)[0].strip().lower()
        if mime and mime not in ARTICLE_TYPES:
            self.count_failure(response.url, f"not an article page ({mime})")
            return None
        if not isinstance(response, TextResponse):
            self.count_failure(response.url, f"not a text page ({content_type or 'unknown type'})")
            return None
        return Page(
            source=self.source.name,
            url=response.url,
            via=via,
            body=response.body,
            content_type=content_type,
        )

    def article_failed(self, failure: Failure) -> None:
        if isinstance(failure.value, Refused):
            self.count_refusal(failure.request.url, failure.value.counter, str(failure.value))
            return
        if _transient(failure):
            self.crawler.stats.inc_value(TRANSIENT)
        self.count_failure(failure.request.url, _reason(failure))

    def source_failed(self, failure: Failure) -> None:
        if isinstance(failure.value, Refused):
            self.count_refusal(failure.request.url, failure.value.counter, str(failure.value))
            self.error = f"{failure.request.url}: {REFUSALS[failure.value.counter]}"
            return
        self.error = f"{failure.request.url}: {_reason(failure)}"
        self.count_failure(failure.request.url, _reason(failure))

    def refuse(self, url: str, reason: str) -> None:
        """The listing at `url` is unusable: the source's run failed."""
        self.error = f"{url}: {reason}"
        self.count_failure(url, reason)

    def count_refusal(self, url: str, counter: str, reason: str) -> None:
        """A request refused for what it would reach (see `refusal.py`): counted apart
        from failures, one log line."""
        self.crawler.stats.inc_value(counter)
        self.logger.warning("%s %s: %s", REFUSALS[counter], url, reason,
                            extra={"source": self.source.name, "url": url})

    def count_failure(self, url: str, reason: str) -> None:
        self.crawler.stats.inc_value(FAILED)
        self.logger.warning("skipped %s: %s", url, reason, extra={"source": self.source.name, "url": url})


def _transient(failure: Failure) -> bool:
    """A failure that may go away by itself: a 5xx, a 429, a timeout, a dropped connection
    (not a 404, a robots.txt refusal, a page too large)."""
    if isinstance(failure.value, HttpError):
        status = failure.value.response.status
        return status >= 500 or status == 429
    return not isinstance(failure.value, (IgnoreRequest, DownloadCancelledError))


def _reason(failure: Failure) -> str:
    response = getattr(failure.value, "response", None)
    if response is not None:
        return f"HTTP {response.status}"
    return f"{type(failure.value).__name__}: {failure.getErrorMessage()}"
