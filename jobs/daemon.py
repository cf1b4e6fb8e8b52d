"""The daemon: Scrapy and APScheduler on one asyncio event loop.

Scrapy needs Twisted's asyncio reactor, and a reactor cannot be restarted, so the process
installs it once (`run_on_reactor`) and everything after runs as coroutines on its loop:
each source is an `AsyncIOScheduler` job that awaits one crawl (`max_instances=1`, so a
slow source never overlaps itself), and the outbox drain is a job every few seconds that
runs Apprise's blocking sends in a worker thread. Each digest time (``daily 08:00`` in
its topic's time zone) is a CronTrigger job that releases the digest's rows and drains.
The web app (`web:`) and `/metrics` with `/healthz` (`metrics:`) are uvicorn servers on
the same loop (web/server.py).
"""
from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import replace
from typing import TYPE_CHECKING, Awaitable, Callable, Iterable

from newswatch.alerts.delivery import register_console
from newswatch.alerts.notifier import DrainResult, drain
from newswatch.alerts.outbox import release_digest
from newswatch.jobs import health, service
from newswatch.jobs.config import Config, ConfigError, Digest, load_config
from newswatch.jobs.metrics import Metrics
from newswatch.jobs.retention import forget_bodies
from newswatch.jobs.roles import ALL, Role
from newswatch.jobs.schedule import next_runs
from newswatch.store import availability
from newswatch.store.availability import DATABASE, REDIS, SERVERS
from newswatch.store.db import Store, open_store

if TYPE_CHECKING:  # what a process does not run, it does not load: Scrapy and the extraction
    # code in a role that does not crawl, FastAPI without web: or metrics:, Redis without redis:
    from newswatch.crawler.crawl import SourceRun
    from newswatch.crawler.sources import Source
    from newswatch.web.context import WebContext
    from newswatch.web.server import Listener

log = logging.getLogger(__name__)

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
# On SIGTERM, how long crawls in flight get to stop, and then a delivery in flight to be
# recorded; past it the process exits anyway (an unrecorded page is fetched again next
# time, an unsent alert is sent by the next drain).
STOP_TIMEOUT_S = 8  # under docker stop's default 10 s grace
#: Config keys a reload does not change: the connections and servers made at start.
RESTART_ONLY = ("database", "redis", "metrics", "web", "crawl_settings", "workers")


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


def wait_for_servers(config: Config) -> Store:
    """The config's store, migrated, once the database answers; and Redis, if the config
    names one, answering too: each waited for up to `config.startup_wait` (a line when a
    wait starts and one when it ends), else `availability.Unavailable`."""
    seconds = config.startup_wait.total_seconds()
    store = open_store(config.database, wait=seconds)
    if config.redis:
        import redis

        server = redis.Redis.from_url(config.redis)
        try:
            availability.within(seconds, REDIS, server.ping)
        except availability.Unavailable:
            store.close()
            raise
        finally:
            server.close()
    return store


def _ping_database(store: Store) -> None:
    with store.engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")


class App:
    """Everything a config wires together. Build it on the running reactor's loop."""

    def __init__(self, config: Config, store: Store | None = None, role: Role = ALL):
        register_console()
        self.config = config
        self.role = role
        self.store = store or open_store(config.database)
        self.executor = self.writer = self.crawler = None
        self.worker = None  # the crawler worker of a `crawler` role, while it serves
        self._crawls = 0  # crawls in progress (on the loop)
        # Kept between runs: children holding the embedding model (`like:` topics), which
        # each new one would load again.
        self._keep_children = False
        if role.crawls:
            # The extraction and ingest processes: only a role that crawls starts them.
            from newswatch.corpus.ingest import Corpus
            from newswatch.corpus.processes import IngestWriter, extraction_executor
            from newswatch.crawler.crawl import CrawlContext, Crawler

            corpus = Corpus(self.store, config.topics)
            self._keep_children = corpus.topics.needs_vectors
            self.writer = IngestWriter(corpus)
            self.executor = extraction_executor(config.workers, self.writer)
            self.crawler = Crawler(CrawlContext(corpus, self.executor, self.writer),
                                   dict(config.crawl_settings))
        self._delivering = asyncio.Lock()
        self.web: WebContext | None = None
        self.metrics = Metrics(self.store)
        self.redis = None
        if config.redis:
            import redis

            self.redis = redis.Redis.from_url(config.redis)
        # How this process tells that a server is back after an outage (availability).
        SERVERS.probe(DATABASE, lambda: _ping_database(self.store))
        if self.redis is not None:
            SERVERS.probe(REDIS, self.redis.ping)

    async def crawl(self, names: Iterable[str] | None = None) -> list[SourceRun]:
        """Crawl the named sources (by default every enabled one) at once."""
        wanted = set(names) if names is not None else None
        sources = [s for s in self.config.sources
                   if (s.name in wanted if wanted is not None else s.enabled)]
        return list(await asyncio.gather(*(self.crawl_source(s) for s in sources)))

    async def crawl_source(self, source: Source) -> SourceRun:
        """One run of `source`, then its health checked (a notice queued if it changed).

        The extraction and ingest processes run while a crawl does: they start beside it
        (the first listings are fetched meanwhile, and the first pages queue for them; a
        page's extraction deadline runs from when a worker takes it), and when the last
        crawl in progress ends they are let go (they would only hold memory until the next
        run); the next run forks new ones from the fork server."""
        self._crawls += 1
        try:
            self.executor.start()
            self.writer.start()
            run = await self.crawler.crawl(source)
        finally:
            self._crawls -= 1
            if not self._crawls:
                self._idle()
        self.metrics.observe_run(run)
        self._check_health(run)
        return run

    def _idle(self) -> None:
        # No crawl in progress: what the runs used and freed goes back to the system.
        from newswatch.corpus.processes import trim_heap

        if not self._keep_children:
            self.executor.release()
            self.writer.release()
        trim_heap()

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
            update_every=self.config.update_every,
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
        from newswatch.crawler.distributed import mark_due

        # Through a Redis outage the run waits for Redis rather than being skipped.
        await asyncio.to_thread(SERVERS.retry, lambda: mark_due(self.redis, source))

    async def retain(self) -> int:
        return await asyncio.to_thread(forget_bodies, self.store, self.config.retention)

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
        reloads: set[asyncio.Task] = set()  # a task's only reference is the loop's weak one

        def on_sighup() -> None:
            task = loop.create_task(self.reload_file(scheduler))
            reloads.add(task)
            task.add_done_callback(reloads.discard)

        loop.add_signal_handler(signal.SIGHUP, on_sighup)
        pid = service.pid_file(self.config.database, self.config.path)
        service.write_pid(pid)
        worker = self.worker = self.role.start(self, scheduler, stop)
        listeners = [await listener.start() for listener in self.listeners()]
        scheduler.start()
        log.info("newswatch running (%s): %d sources, %d topics; SIGHUP reloads the config, "
                 "SIGTERM or Ctrl-C stops it",
                 self.role.name, sum(s.enabled for s in self.config.sources), len(self.config.topics))
        await stop.wait()

        log.info("stopping")
        SERVERS.stopping.set()  # work waiting for a server gives up (and is done again later)
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
        for listener in listeners:
            await listener.stop()
        service.remove_pid(pid)
        if worker:
            worker.raise_failure()
        return 0

    def listeners(self) -> list[Listener]:
        """The web app on `web:`, and /metrics with /healthz on `metrics:` (each if set)."""
        if not (self.config.metrics or self.config.web):
            return []
        from newswatch.web.app import create_app, ops_app
        from newswatch.web.context import WebContext
        from newswatch.web.server import Listener

        out = []
        if self.config.metrics:
            out.append(Listener(ops_app(self.metrics.exposition, self.store),
                                self.config.metrics.host, self.config.metrics.port, "metrics"))
        if self.config.web:
            self.web = WebContext(self.config, self.store, self.metrics.exposition,
                                  next_runs(self.config.schedules), self._delivering)
            out.append(Listener(create_app(self.web), self.config.web.host, self.config.web.port))
        return out

    def reload(self, config: Config) -> Config:
        """Take `config` in place of the running one and return the old: sources, topics,
        channels, digests and the rest count from now on; a crawl or a delivery in progress
        finishes as it started. What only a restart changes (the database, Redis, the
        crawl's limits, the metrics server) stays as it was, with a warning."""
        fixed = [key for key in RESTART_ONLY if getattr(config, key) != getattr(self.config, key)]
        if fixed:
            log.warning("config reloaded without its changes to %s: those take a restart", ", ".join(fixed))
            config = replace(config, **{key: getattr(self.config, key) for key in fixed})
        old, self.config = self.config, config
        if self.web is not None:  # the pages and feeds show the topics and sources now in force
            self.web.config, self.web.next_run = config, next_runs(config.schedules)
        if self.crawler and config.topics != old.topics:
            # Registered now: a new topic alerts on articles first seen from now on.
            from newswatch.corpus.ingest import Corpus

            corpus = self.crawler.context.corpus
            corpus.topics = Corpus(self.store, config.topics).topics
            self._keep_children = corpus.topics.needs_vectors
            self.executor.set_topics(corpus.topics)
            self.writer.set_topics(corpus.topics)
        return old

    async def reload_file(self, scheduler) -> None:
        """SIGHUP: read the config file again; a config that does not validate is refused
        and the running one stays."""
        if not scheduler.running:
            return  # stopping
        try:
            config = await asyncio.to_thread(load_config, self.config.path)
        except ConfigError as exc:
            log.error("config not reloaded (the running one stays in force):\n%s", exc)
            return
        old = self.reload(config)
        self.role.reload(self, scheduler, old)
        log.info("config reloaded: %d sources, %d topics", sum(s.enabled for s in config.sources),
                 len(config.topics))

    def close(self) -> None:
        if self.crawler:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.writer.shutdown()  # what was submitted is stored
        self.store.close()
