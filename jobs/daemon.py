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
from typing import Awaitable, Callable, Iterable

import redis
from sqlalchemy.exc import SQLAlchemyError

from newswatch.alerts.delivery import register_console
from newswatch.alerts.notifier import DrainResult, drain
from newswatch.alerts.outbox import release_digest
from newswatch.corpus.ingest import Corpus
from newswatch.corpus.processes import ExtractionPool, IngestWriter
from newswatch.crawler.crawl import CrawlContext, Crawler, SourceRun
from newswatch.crawler.distributed import mark_due
from newswatch.crawler.sources import Source
from newswatch.jobs import health
from newswatch.jobs.config import Config, Digest
from newswatch.jobs.metrics import Metrics, MetricsServer
from newswatch.jobs.retention import forget_bodies
from newswatch.jobs.roles import ALL, Role
from newswatch.store.db import Store, open_store

log = logging.getLogger(__name__)

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
# On SIGTERM, how long crawls in flight get to stop, and then a delivery in flight to be
# recorded; past it the process exits anyway (an unrecorded page is fetched again next
# time, an unsent alert is sent by the next drain).
STOP_TIMEOUT_S = 8  # under docker stop's default 10 s grace


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

    def __init__(self, config: Config, store: Store | None = None, role: Role = ALL):
        register_console()
        self.config = config
        self.role = role
        self.store = store or open_store(config.database)
        self.executor = self.writer = self.crawler = None
        if role.crawls:
            # The extraction and ingest processes: only a role that crawls starts them.
            corpus = Corpus(self.store, config.topics)
            self.executor = ExtractionPool(topics=corpus.topics)
            self.writer = IngestWriter(corpus)
            self.crawler = Crawler(CrawlContext(corpus, self.executor, self.writer),
                                   dict(config.crawl_settings))
        self._delivering = asyncio.Lock()
        self.metrics = Metrics(self.store)
        self.redis = redis.Redis.from_url(config.redis) if config.redis else None

    async def crawl(self, names: Iterable[str] | None = None) -> list[SourceRun]:
        """Crawl the named sources (by default every enabled one) at once."""
        wanted = set(names) if names is not None else None
        sources = [s for s in self.config.sources
                   if (s.name in wanted if wanted is not None else s.enabled)]
        return list(await asyncio.gather(*(self.crawl_source(s) for s in sources)))

    async def crawl_source(self, source: Source) -> SourceRun:
        """One run of `source`, then its health checked (a notice queued if it changed)."""
        # The processes a crawl feeds start beside the rest of the daemon: wait until they
        # are up, so that a run's time (and the first pages) do not include their start.
        await asyncio.gather(asyncio.wrap_future(self.executor.started),
                             asyncio.wrap_future(self.writer.started))
        run = await self.crawler.crawl(source)
        self.metrics.observe_run(run)
        self._check_health(run)
        return run

    def _check_health(self, run: SourceRun) -> None:
        health.check(self.store, run.source, self.config.schedules[run.source], self.config.health)

    def distributed_run_over(self, run: SourceRun) -> None:
        """A run that crawler workers shared, recorded by the one that found it over."""
        self.metrics.observe_outcome(run)
        self._check_health(run)

    async def deliver(self, ignore_backoff: bool = False) -> DrainResult:
        async with self._delivering:
            result = await asyncio.to_thread(self._drain, ignore_backoff)
        self.metrics.observe_drain(result)
        return result

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
            result = await asyncio.to_thread(self._drain, False)
        self.metrics.observe_drain(result)
        return result

    async def mark_due(self, source: Source) -> None:
        await asyncio.to_thread(mark_due, self.redis, source)

    async def retain(self) -> int:
        return await asyncio.to_thread(forget_bodies, self.store, self.config.retention)

    def healthy(self, loop: asyncio.AbstractEventLoop) -> str | None:
        """None if the event loop turns and the database answers, else the problem (called
        from the metrics server's thread)."""
        try:
            asyncio.run_coroutine_threadsafe(asyncio.sleep(0), loop).result(timeout=5)
        except (TimeoutError, RuntimeError) as exc:
            return f"event loop not responding ({type(exc).__name__})"
        try:
            with self.store.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except SQLAlchemyError as exc:
            return f"database: {type(exc).__name__}"
        return None

    async def once(self) -> int:
        """One crawl of every source, then every pending alert is tried (backoff or not:
        the user asked for a delivery now). 1 when every source failed, else 0."""
        runs = await self.crawl()
        await self.deliver(ignore_backoff=True)
        return 1 if runs and all(run.error for run in runs) else 0

    async def serve(self) -> int:
        """Run this process's role until SIGTERM or SIGINT, then stop cleanly and return 0."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        scheduler = AsyncIOScheduler(event_loop=loop)
        worker = self.role.start(self, scheduler, stop)
        server = None
        if self.config.metrics:
            server = MetricsServer(self.metrics, self.config.metrics.host, self.config.metrics.port,
                                   lambda: self.healthy(loop)).start()
        scheduler.start()
        log.info("newswatch running (%s): %d sources, %d topics; SIGTERM or Ctrl-C stops it",
                 self.role.name, sum(s.enabled for s in self.config.sources), len(self.config.topics))
        await stop.wait()

        log.info("stopping")
        scheduler.pause()  # no new work; the jobs running now finish below
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                if worker or self.crawler:
                    await (worker or self.crawler).stop()
                async with self._delivering:  # let a send in flight be recorded
                    pass
        except TimeoutError:
            log.warning("work still in flight after %ds; exiting anyway", STOP_TIMEOUT_S)
        scheduler.shutdown(wait=False)  # cancels what is still running
        if server:
            server.stop()
        if worker:
            worker.raise_failure()
        return 0

    def close(self) -> None:
        if self.crawler:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.writer.shutdown()  # what was submitted is stored
        self.store.close()
