"""The daemon: Scrapy and APScheduler on one asyncio event loop.

Scrapy needs Twisted's asyncio reactor, and a reactor cannot be restarted, so the process
installs it once (`run_on_reactor`) and everything after runs as coroutines on its loop:
each source is an `AsyncIOScheduler` job that awaits one crawl (`max_instances=1`, so a
slow source never overlaps itself), and the outbox drain is a job every few seconds that
runs Apprise's blocking sends in a worker thread. Each digest time (``daily 08:00`` in
its topic's time zone) is a CronTrigger job that releases the digest's rows and drains.
"""
from __future__ import annotations

import asyncio
import logging
import signal
from datetime import datetime, timezone
from typing import Awaitable, Callable, Iterable

from newswatch.alerts.delivery import register_console
from newswatch.alerts.outbox import DrainResult, drain, release_digest
from newswatch.crawler.crawl import CrawlContext, Crawler, SourceRun
from newswatch.crawler.ingest import Corpus
from newswatch.crawler.pipelines import ExtractionPool
from newswatch.crawler.sources import Source
from newswatch.jobs import health
from newswatch.jobs.config import Config, Digest, Schedule
from newswatch.store.db import Store, open_store

log = logging.getLogger(__name__)

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
DRAIN_EVERY_S = 5


def run_on_reactor(main: Callable[[], Awaitable[int]]) -> int:
    """Install the asyncio reactor, run `main()` on its loop, stop, return its status."""
    from scrapy.utils.defer import deferred_from_coro
    from scrapy.utils.reactor import install_reactor

    install_reactor(ASYNCIO_REACTOR)
    from twisted.internet import reactor

    outcome: dict = {}

    async def wrapper() -> None:
        try:
            outcome["status"] = await main()
        except BaseException as exc:  # re-raised below, outside the reactor
            outcome["error"] = exc
        finally:
            reactor.callLater(0, reactor.stop)

    reactor.callWhenRunning(lambda: deferred_from_coro(wrapper()))
    reactor.run(installSignalHandlers=False)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("status", 0)


class App:
    """Everything a config wires together. Build it on the running reactor's loop."""

    def __init__(self, config: Config, store: Store | None = None):
        register_console()
        self.config = config
        self.store = store or open_store(config.database)
        self.executor = ExtractionPool()
        self.corpus = Corpus(self.store, config.topics)
        self.crawler = Crawler(CrawlContext(self.corpus, self.executor), dict(config.crawl_settings))
        self._delivering = asyncio.Lock()

    async def crawl(self, names: Iterable[str] | None = None) -> list[SourceRun]:
        """Crawl the named sources (by default every enabled one) at once."""
        wanted = set(names) if names is not None else None
        sources = [s for s in self.config.sources
                   if (s.name in wanted if wanted is not None else s.enabled)]
        return list(await asyncio.gather(*(self.crawl_source(s) for s in sources)))

    async def crawl_source(self, source: Source) -> SourceRun:
        """One run of `source`, then its health checked (a notice queued if it changed)."""
        run = await self.crawler.crawl(source)
        health.check(self.store, source.name, self.config.schedules[source.name], self.config.health)
        return run

    async def deliver(self, ignore_backoff: bool = False) -> DrainResult:
        async with self._delivering:
            return await asyncio.to_thread(self._drain, ignore_backoff)

    def _drain(self, ignore_backoff: bool) -> DrainResult:
        return drain(
            self.store, self.config.channels, digest_topics=self.config.digest_topics,
            retry=self.config.retry, templates=self.config.templates, ignore_backoff=ignore_backoff,
        )

    async def digest(self, digest: Digest) -> DrainResult:
        """The digest's time: fold its topics' pending rows, then send them (one message
        per channel; nothing when there is nothing new)."""
        async with self._delivering:
            released = await asyncio.to_thread(release_digest, self.store, digest.topics)
            log.info("digest %s (%s): %d alert(s) due", digest.when, digest.timezone, released)
            return await asyncio.to_thread(self._drain, False)

    async def once(self) -> int:
        """One crawl of every source, then every pending alert is tried (backoff or not:
        the user asked for a delivery now)."""
        await self.crawl()
        await self.deliver(ignore_backoff=True)
        return 0

    async def serve(self) -> int:
        """Run until SIGTERM or SIGINT, then stop cleanly and return 0."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)

        def trigger(schedule: Schedule):
            if schedule.seconds:
                # Jitter spreads sources that share an interval; at most a tenth of it.
                return IntervalTrigger(seconds=schedule.seconds, jitter=min(schedule.seconds // 10, 60) or None)
            return CronTrigger.from_crontab(schedule.cron)

        scheduler = AsyncIOScheduler(event_loop=loop)
        now = datetime.now(timezone.utc)

        async def crawl_then_deliver(source):
            # Alerts go out as soon as the crawl that found them ends, not at the next tick.
            await self.crawl_source(source)
            if scheduler.running:  # not while stopping
                scheduler.modify_job("outbox", next_run_time=datetime.now(timezone.utc))

        for source in self.config.sources:
            if not source.enabled:
                continue
            scheduler.add_job(
                crawl_then_deliver, trigger(self.config.schedules[source.name]), args=[source],
                id=f"crawl:{source.name}", max_instances=1, coalesce=True, next_run_time=now,
                misfire_grace_time=None,
            )
        scheduler.add_job(
            self.deliver, IntervalTrigger(seconds=DRAIN_EVERY_S), id="outbox",
            max_instances=1, coalesce=True, next_run_time=now, misfire_grace_time=None,
        )
        for digest in self.config.digests:
            scheduler.add_job(
                self.digest, CronTrigger(**digest.cron(), timezone=digest.timezone), args=[digest],
                id=f"digest:{digest.when}:{digest.timezone}", max_instances=1, coalesce=True,
                misfire_grace_time=3600,
            )
        scheduler.start()
        log.info("newswatch running: %d sources, %d topics; SIGTERM or Ctrl-C stops it",
                 sum(s.enabled for s in self.config.sources), len(self.config.topics))
        await stop.wait()

        log.info("stopping")
        scheduler.shutdown(wait=False)
        await self.crawler.stop()
        async with self._delivering:  # let a send in flight be recorded
            pass
        return 0

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.store.close()
