"""The daemon's roles: what one process does of the work, and only that.

`all` does everything in one process. Past one machine, with Redis between processes:
exactly one `scheduler` (APScheduler 3 cannot share its job store) puts due sources on
the queue, any number of `crawler` workers crawl them, any number of `notifier`s deliver
the outbox. A role that does not crawl starts no extraction or ingest process.

Every scheduled job runs under `availability.guard`: a run that meets a database or
Redis outage is skipped, the outage logged once (not a traceback per run).
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable

from newswatch.store.availability import guard

if TYPE_CHECKING:  # the CLI reads ROLES without loading the scheduler or Scrapy
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from newswatch.crawler.sources import Source
    from newswatch.jobs.config import Config
    from newswatch.jobs.daemon import App

log = logging.getLogger(__name__)

DRAIN_EVERY_S = 5


class CrawlerWorker:
    """A `crawler` role's share of the distributed crawl, running on the loop: a spider per
    enabled source of the config in force (`reload`); its Scrapy stats are counted into
    the metrics every few seconds."""

    def __init__(self, app: App, scheduler: AsyncIOScheduler, stop: asyncio.Event):
        from newswatch.crawler.distributed import Worker
        from newswatch.jobs import schedule

        self.worker = Worker(app.crawler.context, app.config.redis, app.distributed_run_over,
                             dict(app.config.crawl_settings))
        self.crawling = asyncio.ensure_future(self.worker.run(app.config.sources))
        self.crawling.add_done_callback(lambda _: stop.set())  # a worker that fails stops
        self.app = app
        self.counted: dict[tuple, dict] = {}  # (source, spider's start time) -> stats counted
        self.updates: set[asyncio.Task] = set()  # a task's only reference is the loop's weak one
        scheduler.add_job(self.count, schedule.every(DRAIN_EVERY_S), id="worker-metrics")

    async def count(self) -> None:  # on the loop: the stats change there
        counted = {}
        for source, stats in self.worker.stats():
            # A restarted source's spider counts from zero: its own key.
            key = (source, stats.get("start_time"))
            self.app.metrics.observe_crawl(source, stats, self.counted.get(key))
            counted[key] = stats
        self.counted = counted

    def reload(self, sources: list[Source]) -> None:
        """Bring the spiders in line with a reloaded config's `sources` (in the background;
        one reload after the other)."""
        task = asyncio.ensure_future(self._update(sources))
        self.updates.add(task)
        task.add_done_callback(self.updates.discard)

    async def _update(self, sources: list[Source]) -> None:
        try:
            await self.worker.update(sources)
        except Exception:  # the spiders as they were stay; the next reload tries again
            log.exception("the crawler worker's spiders are not in line with the reloaded config")

    async def stop(self) -> None:
        await self.worker.stop()
        await asyncio.wait([self.crawling])  # it hands back what it took: let it finish

    def raise_failure(self) -> None:
        if self.crawling.done() and self.crawling.exception():
            raise self.crawling.exception()


def schedule_crawls(app: App, scheduler: AsyncIOScheduler, stop: asyncio.Event) -> None:
    """Each enabled source at its schedule: crawled here, or put on the queue for the
    crawler workers when this process is the scheduler of several."""
    for source in app.config.sources:
        if source.enabled:
            _add_crawl(app, scheduler, source)
    if app.config.retention:
        _add_retention(app, scheduler)


def _add_retention(app: App, scheduler: AsyncIOScheduler) -> None:
    from newswatch.jobs import schedule

    scheduler.add_job(guard(app.retain), schedule.retention_trigger(), id="retention",
                      max_instances=1, coalesce=True, misfire_grace_time=None)


def _add_crawl(app: App, scheduler: AsyncIOScheduler, source: Source) -> None:
    """`source`'s job, first run now (replacing the job of an earlier config's source of
    that name; a run of it in progress finishes)."""
    from newswatch.jobs import schedule

    @guard
    async def crawl_then_deliver(source):
        # Alerts go out as soon as the crawl that found them ends, not at the next tick.
        await app.crawl_source(source)
        if scheduler.running:  # not while stopping
            scheduler.modify_job("outbox", next_run_time=datetime.now(timezone.utc))

    scheduler.add_job(
        crawl_then_deliver if app.role.crawls else guard(app.mark_due),
        schedule.source_trigger(app.config.schedules[source.name]), args=[source],
        id=f"crawl:{source.name}", max_instances=1, coalesce=True,
        next_run_time=datetime.now(timezone.utc), misfire_grace_time=None, replace_existing=True,
    )


def reschedule_crawls(app: App, scheduler: AsyncIOScheduler, old: Config) -> None:
    """After a reload: the jobs of removed or disabled sources go, new and changed sources
    get theirs (crawled at once); an unchanged source keeps its rhythm."""
    def enabled(config: Config) -> dict[str, tuple]:
        return {s.name: (s, config.schedules[s.name]) for s in config.sources if s.enabled}

    before, after = enabled(old), enabled(app.config)
    for name in before.keys() - after.keys():
        scheduler.remove_job(f"crawl:{name}")
    for name, (source, when) in after.items():
        if before.get(name) != (source, when):
            _add_crawl(app, scheduler, source)
    if app.config.retention and not scheduler.get_job("retention"):
        _add_retention(app, scheduler)
    elif not app.config.retention and scheduler.get_job("retention"):
        scheduler.remove_job("retention")


def schedule_delivery(app: App, scheduler: AsyncIOScheduler, stop: asyncio.Event) -> None:
    """The outbox drained every few seconds, and each digest at its time."""
    from newswatch.jobs import schedule

    scheduler.add_job(
        guard(app.deliver), schedule.every(DRAIN_EVERY_S), id="outbox", max_instances=1, coalesce=True,
        next_run_time=datetime.now(timezone.utc), misfire_grace_time=None,
    )
    _add_digests(app, scheduler)


def _add_digests(app: App, scheduler: AsyncIOScheduler) -> None:
    from newswatch.jobs import schedule

    for digest in app.config.digests:
        scheduler.add_job(
            guard(app.digest), schedule.digest_trigger(digest), args=[digest],
            id=f"digest:{digest.when}:{digest.timezone}", max_instances=1, coalesce=True,
            misfire_grace_time=3600,
        )


def reschedule_delivery(app: App, scheduler: AsyncIOScheduler, old: Config) -> None:
    """After a reload: the digest jobs of the new config (the outbox drain reads the
    config at each run; rows held for a digest stay held until its time)."""
    if app.config.digests != old.digests:
        for job in scheduler.get_jobs():
            if job.id.startswith("digest:"):
                job.remove()
        _add_digests(app, scheduler)


#: How each `Role.jobs` function updates its jobs after a reload.
RESCHEDULE = {schedule_crawls: reschedule_crawls, schedule_delivery: reschedule_delivery}


@dataclass(frozen=True)
class Role:
    """A part of the work. `crawls`: this process fetches and stores articles itself (it
    starts the extraction and ingest processes); `jobs` add its scheduled work; `worker`
    starts a crawler worker; `needs_redis`: it shares the crawl with other processes."""

    name: str
    crawls: bool
    jobs: tuple[Callable[[App, AsyncIOScheduler, asyncio.Event], None], ...] = field(default=())
    worker: bool = False
    needs_redis: bool = False

    def start(self, app: App, scheduler: AsyncIOScheduler, stop: asyncio.Event) -> CrawlerWorker | None:
        for add_jobs in self.jobs:
            add_jobs(app, scheduler, stop)
        return CrawlerWorker(app, scheduler, stop) if self.worker else None

    def reload(self, app: App, scheduler: AsyncIOScheduler, old: Config) -> None:
        """`app.config` replaced `old`: bring this role's jobs, and a crawler worker's
        spiders (`app.worker`), in line with it."""
        for add_jobs in self.jobs:
            RESCHEDULE[add_jobs](app, scheduler, old)
        if self.worker and app.config.sources != old.sources:
            app.worker.reload(app.config.sources)


ALL = Role("all", crawls=True, jobs=(schedule_crawls, schedule_delivery))
ROLES: dict[str, Role] = {role.name: role for role in (
    ALL,
    Role("scheduler", crawls=False, jobs=(schedule_crawls,), needs_redis=True),
    Role("crawler", crawls=True, worker=True, needs_redis=True),
    Role("notifier", crawls=False, jobs=(schedule_delivery,)),
)}
