"""Crawling sources with Scrapy, again and again, inside one running event loop.

`Crawler` owns one `AsyncCrawlerRunner` (Scrapy on the asyncio reactor, which must be
installed before this is used). `await crawler.crawl(source)` runs the source's spider
to the end, stores the listings' validators if the run went well, and records the run's
counts for `newswatch status`; `live()` shows the counts of the runs under way.

Politeness is in SETTINGS: robots.txt obeyed, a User-Agent naming the project,
AutoThrottle, a per-host concurrency limit, 429/503 backoff honouring Retry-After
(`backoff.py`), conditional GET of listings (`conditional.py`), and limits on size, time
and redirects.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timezone

from scrapy.crawler import AsyncCrawlerRunner
from scrapy.crawler import Crawler as ScrapyCrawler
from scrapy.settings.default_settings import EXTENSIONS_BASE
from scrapy.utils.misc import load_object

from newswatch.corpus.ingest import Corpus
from newswatch.corpus.processes import IngestWriter
from newswatch.crawler.conditional import save_validators
from newswatch.crawler.pipelines import DUPLICATE, NEW
from newswatch.crawler.refusal import REFUSALS, REFUSED_FILE, REFUSED_PRIVATE
from newswatch.crawler.sources import KINDS, Source
from newswatch.crawler.spiders.base import (
    FAILED, KNOWN, NO_LINK, NOT_MODIFIED, OVER_CAP, TOO_OLD, TRANSIENT, NewsSpider,
)
from newswatch.store.db import Store
from newswatch.store.models import SourceState

log = logging.getLogger(__name__)

#: What a run passed over without fetching, as its log line names it.
SKIPPED = {KNOWN: "known", TOO_OLD: "too old", NO_LINK: "without a link", NOT_MODIFIED: "not modified",
           OVER_CAP: "over the listing cap"}


def spider_class(source: Source) -> type[NewsSpider]:
    """The spider that crawls `source`'s kind."""
    return load_object(KINDS[source.kind].spider)


USER_AGENT = "newswatch/0.1 (+https://github.com/newswatch/newswatch)"

SETTINGS = {
    "USER_AGENT": USER_AGENT,
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    "ITEM_PIPELINES": {
        "newswatch.crawler.pipelines.ExtractPipeline": 100,
        "newswatch.crawler.pipelines.IngestPipeline": 200,
    },
    "DOWNLOADER_MIDDLEWARES": {
        "newswatch.crawler.guard.PrivateAddressMiddleware": 50,  # before robots.txt's (100)
        # Before DefaultHeaders (400) and UserAgent (500): their defaults fill in what a
        # source's headers leave, and what they are taken off.
        "newswatch.crawler.headers.SourceHeadersMiddleware": 350,
        "newswatch.crawler.guard.PrivateAddressErrors": 600,  # after retries (550)
        "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
        "newswatch.crawler.backoff.BackoffRetryMiddleware": 550,
        "newswatch.crawler.conditional.ConditionalGetMiddleware": 560,
    },
    # `file:` for path: sources only (localfiles.py); no data:, ftp: or s3: at all.
    "DOWNLOAD_HANDLERS": {
        "file": "newswatch.crawler.localfiles.PathFileHandler",
        "data": None, "ftp": None, "s3": None,
    },
    "NEWSWATCH_ALLOW_PRIVATE": False,
    "TWISTED_DNS_RESOLVER": "newswatch.crawler.guard.GuardedResolver",  # crawl: {allow_private: true} (see guard.py)
    "ROBOTSTXT_OBEY": True,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 4,  # Scrapy's slots are per host name
    # What one response's callback yields is processed this many at a time. An article
    # page yields one item, a listing its requests; Scrapy's 100 made each response start
    # 100 tasks (a tenth of the reactor's time on a fast site, 12% of ingest throughput).
    "CONCURRENT_ITEMS": 8,
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": 0.25,
    "AUTOTHROTTLE_MAX_DELAY": 30,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 2.0,
    "DOWNLOAD_TIMEOUT": 30,
    "DOWNLOAD_MAXSIZE": 10 * 1024 * 1024,
    "DOWNLOAD_WARNSIZE": 0,
    "REDIRECT_MAX_TIMES": 5,
    "RETRY_TIMES": 2,
    "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
    "RETRY_AFTER_MAX": 120,
    "RETRY_GIVE_UP_LOG_LEVEL": "DEBUG",  # the errback logs the one line per skipped page
    "LOG_FORMATTER": "newswatch.crawler.pipelines.QuietLogFormatter",
    "COOKIES_ENABLED": False,
    # No Referer: a feed URL's query (a token) would reach every site it links to. (The
    # middleware stays on: the redirect middlewares hand it their Referer handling.)
    "REFERRER_POLICY": "scrapy.spidermiddlewares.referer.NoReferrerPolicy",
    # No control servers in a daemon: telnet, and Scrapy 2.19's remote-control HTTP server
    # (it evaluates code sent to it).
    "TELNETCONSOLE_ENABLED": False,
    "REMOTE_CONTROL_ENABLED": False,
    # ...and their modules not even imported (the remote-control one loads aiohttp): left
    # out of the base list, as naming them in EXTENSIONS imports them to match them up.
    "EXTENSIONS_BASE": {path: order for path, order in EXTENSIONS_BASE.items()
                        if path.rsplit(".", 1)[-1] not in ("TelnetConsole", "RemoteControl")},
    "LOG_LEVEL": "WARNING",
    "LOG_ENABLED": False,  # newswatch configures logging itself
}


@dataclass
class CrawlContext:
    """What spiders and pipelines need besides settings (objects Scrapy must not copy)."""

    corpus: Corpus
    executor: Executor  # extraction and analysis (processes)
    writer: IngestWriter  # stores into corpus


@dataclass(frozen=True)
class SourceRun:
    source: str
    new: int
    duplicate: int
    failed: int
    error: str | None
    duration_s: float
    stats: dict = field(default_factory=dict, repr=False)  # Scrapy's stats of the run
    refused_private: int = 0  # requests refused for a private address (crawl guard)
    refused_file: int = 0  # `file:` links refused (outside a path: source's folder)


class _RobotsErrorsAsDebug(logging.Filter):
    """Scrapy logs a robots.txt it could not fetch at ERROR with a traceback (60 lines for
    an unreachable host), before the page's own request fails with its one line: that
    line is enough, the robots.txt's goes to DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and str(record.msg).startswith("Error downloading"):
            log.debug("robots.txt: %s", record.getMessage())
            return False
        return True


logging.getLogger("scrapy.downloadermiddlewares.robotstxt").addFilter(_RobotsErrorsAsDebug())


class Crawler:
    def __init__(self, context: CrawlContext, settings: dict | None = None):
        # Imported now rather than by the first crawl's downloader: its deprecation shims
        # walk the stack (inspect.stack) on import, a second or so of a crawl otherwise.
        import scrapy.core.downloader.handlers.http11  # noqa: F401

        self.context = context
        self.runner = AsyncCrawlerRunner({**SETTINGS, **(settings or {})})
        self._running: dict[str, ScrapyCrawler] = {}

    def live(self) -> dict[str, dict]:
        """Source name -> the Scrapy stats of its run under way."""
        return {name: crawler.stats.get_stats() for name, crawler in self._running.items()}

    async def crawl(self, source: Source) -> SourceRun:
        started = time.monotonic()
        crawler = self.runner.create_crawler(spider_class(source))
        self._running[source.name] = crawler
        try:
            await self.runner.crawl(crawler, source=source, context=self.context)
        finally:
            del self._running[source.name]
        stats = crawler.stats
        spider = crawler.spider
        new, duplicate, failed = (stats.get_value(k, 0) for k in (NEW, DUPLICATE, FAILED))
        error = spider.error if spider is not None else "the spider did not start"
        if error is None and failed and not (new or duplicate or stats.get_value(KNOWN)):
            error = f"every article failed ({failed})"
        if error is None and spider.validators and not stats.get_value(TRANSIENT):
            save_validators(self.context.corpus.store, spider.validators)
        run = SourceRun(
            source=source.name, new=new, duplicate=duplicate, failed=failed, error=error,
            duration_s=time.monotonic() - started,
            stats=stats.get_stats(),
            refused_private=stats.get_value(REFUSED_PRIVATE, 0),
            refused_file=stats.get_value(REFUSED_FILE, 0),
        )
        record(self.context.corpus.store, run)
        skipped = ", ".join(f"{stats.get_value(key)} {what}" for key, what in {**SKIPPED, **REFUSALS}.items()
                            if stats.get_value(key))
        log.info(
            "source %s: %d new, %d duplicate, %d failed%s in %.1fs%s",
            run.source, run.new, run.duplicate, run.failed, f" ({skipped})" if skipped else "",
            run.duration_s, f" ({run.error})" if run.error else "",
            extra={"source": run.source},
        )
        return run

    async def stop(self) -> None:
        await self.runner.stop()


def record(store: Store, run: SourceRun) -> None:
    """Record `run` as its source's last, for `newswatch status` and the health checks."""
    now = datetime.now(timezone.utc)
    with store.session() as session:
        state = session.get(SourceState, run.source) or SourceState(name=run.source)
        state.failures_in_row = (state.failures_in_row or 0) + 1 if run.error else 0
        if run.new:
            if state.last_new_at is not None:
                gap = (now - state.last_new_at).total_seconds()
                # The source's usual rhythm: a moving average of the gaps between
                # runs that found something new.
                state.usual_gap_s = gap if state.usual_gap_s is None else 0.7 * state.usual_gap_s + 0.3 * gap
            state.last_new_at = now
        state.last_run_at = now
        state.last_duration_s = run.duration_s
        state.new_count = run.new
        state.duplicate_count = run.duplicate
        state.failed_count = run.failed
        state.refused_private_count = run.refused_private
        state.refused_file_count = run.refused_file
        state.last_error = run.error
        session.add(state)
