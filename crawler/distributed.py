"""Crawling with several worker processes (machines): scrapy-redis shares each source's
request queue and seen-request filter in Redis.

- The scheduler role calls `mark_due(redis, source)` when a source's interval comes: it
  sets the key `newswatch:due:<spider name>` (setting it again before a worker took it
  coalesces the two runs) and clears the source's seen-request set, which is per run.
- Every crawler worker (`Worker`) keeps one spider open per source. When idle the spider
  takes the due key with GETDEL, so exactly one worker starts the run: it fetches the
  feed, and the article requests it yields go to the source's shared queue
  (`newswatch:<spider name>:requests`), which every worker pops from.
- An idle spider looks at Redis every `IDLE_POLL_S` (Scrapy's engine heartbeat, 5 s by
  default, shortened): that is how soon a due run starts, and how soon the other workers
  join a run another worker started (they learn of it only by finding its queue non-empty).
  Each look costs an idle spider three Redis round trips.
- The database stays the judge of what is new: a worker skips URLs the corpus knows, and
  two workers storing one article at once store it once (`Corpus.add`).

A worker killed mid-run loses the requests it had taken from the queue (scrapy-redis pops
them); the rest of the queue is crawled by the others, and the lost URLs, still unknown to
the corpus, are requested again by the source's next run.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Iterable

import redis
from scrapy import signals
from scrapy.crawler import AsyncCrawlerRunner
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro

from newswatch.crawler.crawl import SETTINGS, SPIDERS, CrawlContext
from newswatch.crawler.sources import Source
from newswatch.crawler.spiders.base import NewsSpider

log = logging.getLogger(__name__)

PREFIX = "newswatch"
#: How often an idle spider checks Redis for a due run or queued requests (seconds). With
#: Scrapy's 5 s a second worker joined a run 0-5 s late, which on a run of 15-30 s was a
#: large part of it; at 1 s, 100 idle sources cost a worker ~300 Redis round trips a second.
IDLE_POLL_S = 1.0


def redis_settings(url: str) -> dict:
    """Scrapy settings that put the scheduler's queue and seen filter in Redis."""
    return {
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.FifoQueue",
        "SCHEDULER_QUEUE_KEY": f"{PREFIX}:%(spider)s:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{PREFIX}:%(spider)s:seen",
        # The queue is shared: a worker that stops must not empty it for the others.
        "SCHEDULER_PERSIST": True,
        "REDIS_URL": url,
    }


def spider_name(source: Source) -> str:
    return f"{source.kind}:{source.name}"  # as NewsSpider names itself


def mark_due(server: redis.Redis, source: Source) -> None:
    name = spider_name(source)
    with server.pipeline() as pipe:
        pipe.delete(f"{PREFIX}:{name}:seen")
        pipe.set(f"{PREFIX}:due:{name}", "1")
        pipe.execute()


def pending(server: redis.Redis, sources: Iterable[Source]) -> int:
    """Runs not yet taken plus requests queued, over `sources` (0: the workers are done
    or busy with their last requests)."""
    total = 0
    for source in sources:
        name = spider_name(source)
        total += server.exists(f"{PREFIX}:due:{name}") + server.llen(f"{PREFIX}:{name}:requests")
    return total


class _OnDemand:
    """Mixed into a source's spider class: open until the worker stops, and starting a run
    each time it takes the source's due key."""

    async def start(self):
        return
        yield  # an async generator that yields nothing: runs start on demand

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.redis = redis.Redis.from_url(crawler.settings["REDIS_URL"])
        crawler.signals.connect(spider.idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._poll_often, signal=signals.spider_opened)
        return spider

    def _poll_often(self) -> None:
        # The engine reads its heartbeat interval when it starts processing requests,
        # after spider_opened. A private attribute: without it (another Scrapy), the
        # default 5 s stays and only the latency of a run's start suffers.
        engine = self.crawler.engine
        if hasattr(engine, "_SLOT_HEARTBEAT_INTERVAL"):
            engine._SLOT_HEARTBEAT_INTERVAL = IDLE_POLL_S
        else:
            log.warning("Scrapy's engine has no heartbeat interval to shorten; idle polls every few seconds")

    def idle(self) -> None:
        if self.redis.getdel(f"{PREFIX}:due:{self.name}") is not None:
            log.info("source %s: run started", self.source.name, extra={"source": self.source.name})
            deferred_from_coro(self._start_run())
        raise DontCloseSpider

    async def _start_run(self) -> None:
        # The spider outlives its runs: what one run followed, the next may follow again
        # (a request lost with a killed worker is found again by the next run).
        self.error = None
        self._followed.clear()
        async for request in super().start():
            self.crawler.engine.crawl(request)


def on_demand(spider_class: type[NewsSpider]) -> type[NewsSpider]:
    return type(f"OnDemand{spider_class.__name__}", (_OnDemand, spider_class), {})


class Worker:
    """A crawler worker: one on-demand spider per source, until `stop()`."""

    def __init__(self, context: CrawlContext, redis_url: str):
        self.context = context
        self.runner = AsyncCrawlerRunner({**SETTINGS, **redis_settings(redis_url)})

    async def run(self, sources: Iterable[Source]) -> None:
        await asyncio.gather(*(
            self.runner.crawl(on_demand(SPIDERS[s.kind]), source=s, context=self.context)
            for s in sources
        ))

    async def stop(self) -> None:
        await self.runner.stop()

    def stats(self) -> dict[str, dict]:
        """Each source's Scrapy stats since the worker started (a copy)."""
        return {crawler.spider.source.name: dict(crawler.stats.get_stats())
                for crawler in self.runner.crawlers if crawler.spider is not None}
