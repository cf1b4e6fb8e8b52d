"""Crawling sources with Scrapy, again and again, inside one running event loop.

`Crawler` owns one `AsyncCrawlerRunner` (Scrapy on the asyncio reactor, which must be
installed before this is used). `await crawler.crawl(source)` runs the source's spider
to the end and records the run's counts for `newswatch status`.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timezone

from scrapy.crawler import AsyncCrawlerRunner

from newswatch.crawler.ingest import Corpus
from newswatch.crawler.pipelines import DUPLICATE, NEW
from newswatch.crawler.sources import Source
from newswatch.crawler.spiders.base import FAILED
from newswatch.crawler.spiders.feed import FeedSpider
from newswatch.crawler.spiders.path import PathSpider
from newswatch.store.models import SourceState

log = logging.getLogger(__name__)

SPIDERS = {"feed": FeedSpider, "path": PathSpider}

USER_AGENT = "newswatch/0.1 (+https://github.com/newswatch/newswatch)"

SETTINGS = {
    "USER_AGENT": USER_AGENT,
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    "ITEM_PIPELINES": {
        "newswatch.crawler.pipelines.ExtractPipeline": 100,
        "newswatch.crawler.pipelines.IngestPipeline": 200,
    },
    "ROBOTSTXT_OBEY": True,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
    "DOWNLOAD_TIMEOUT": 30,
    "DOWNLOAD_MAXSIZE": 10 * 1024 * 1024,
    "DOWNLOAD_WARNSIZE": 0,
    "REDIRECT_MAX_TIMES": 5,
    "RETRY_TIMES": 1,
    "COOKIES_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False,
    "LOG_LEVEL": "WARNING",
    "LOG_ENABLED": False,  # newswatch configures logging itself
}


@dataclass
class CrawlContext:
    """What spiders and pipelines need besides settings (objects Scrapy must not copy)."""

    corpus: Corpus
    executor: Executor


@dataclass(frozen=True)
class SourceRun:
    source: str
    new: int
    duplicate: int
    failed: int
    error: str | None
    duration_s: float
    stats: dict = field(default_factory=dict, repr=False)  # Scrapy's stats of the run


class Crawler:
    def __init__(self, context: CrawlContext, settings: dict | None = None):
        self.context = context
        self.runner = AsyncCrawlerRunner({**SETTINGS, **(settings or {})})

    async def crawl(self, source: Source) -> SourceRun:
        started = time.monotonic()
        crawler = self.runner.create_crawler(SPIDERS[source.kind])
        await self.runner.crawl(crawler, source=source, context=self.context)
        stats = crawler.stats
        run = SourceRun(
            source=source.name,
            new=stats.get_value(NEW, 0),
            duplicate=stats.get_value(DUPLICATE, 0),
            failed=stats.get_value(FAILED, 0),
            error=crawler.spider.error if crawler.spider else None,
            duration_s=time.monotonic() - started,
            stats=stats.get_stats(),
        )
        self._record(run)
        log.info(
            "source %s: %d new, %d duplicate, %d failed in %.1fs%s",
            run.source, run.new, run.duplicate, run.failed, run.duration_s,
            f" ({run.error})" if run.error else "",
            extra={"source": run.source},
        )
        return run

    async def stop(self) -> None:
        await self.runner.stop()

    def _record(self, run: SourceRun) -> None:
        with self.context.corpus.store.session() as session:
            state = session.get(SourceState, run.source) or SourceState(name=run.source)
            state.last_run_at = datetime.now(timezone.utc)
            state.last_duration_s = run.duration_s
            state.new_count = run.new
            state.duplicate_count = run.duplicate
            state.failed_count = run.failed
            state.last_error = run.error
            session.add(state)
