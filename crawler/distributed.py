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
  Each look costs an idle spider seven Redis round trips.
- The database stays the judge of what is new: a worker skips URLs the corpus knows, and
  two workers storing one article at once store it once (`Corpus.add`).
- A pop is a lease (`LeasedQueue`): the request moves, atomically, to the worker's own
  list of requests taken, which empties when the worker is idle (all it took is stored,
  skipped or failed). Each worker keeps a heartbeat key alive (`LEASE_TTL_S`); when one
  expires (a worker killed, its machine lost), the others move what it had taken back to
  the source's queue of returned requests, which every worker pops from first, skipping
  what the dead worker had stored. A worker that stops cleanly hands its own back. So a
  killed worker's requests are crawled within the same run, a few seconds later.
- A run's record (`newswatch status`): the worker that starts a run opens its hash
  (`newswatch:<spider name>:run`: start time, the failures each worker adds when it goes
  idle, the feed's error). A run is over when the queues are empty and no worker holds
  requests taken; the idle worker that finds it so (and deletes the hash first) records
  it, counting the run's new articles and copies in the database.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import datetime, timezone
from typing import Callable, Iterable

import redis
from scrapy import signals
from scrapy.crawler import AsyncCrawlerRunner
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.queue import FifoQueue
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from newswatch.crawler import queuecodec
from newswatch.crawler.crawl import SETTINGS, CrawlContext, SourceRun, record, spider_class
from newswatch.crawler.queuecodec import BadQueueEntry
from newswatch.crawler.refusal import REFUSED_FILE, REFUSED_PRIVATE
from newswatch.crawler.sources import Source
from newswatch.crawler.spiders.base import FAILED, NewsSpider
from newswatch.store.availability import DATABASE, REDIS, SERVERS, outage_of
from newswatch.store.models import Article

log = logging.getLogger(__name__)

PREFIX = "newswatch"
#: How often an idle spider checks Redis for a due run or queued requests (seconds). With
#: Scrapy's 5 s a second worker joined a run 0-5 s late, which on a run of 15-30 s was a
#: large part of it; at 1 s, 100 idle sources cost a worker ~300 Redis round trips a second.
IDLE_POLL_S = 1.0
#: A worker whose heartbeat is older than this is taken for dead, and the requests it had
#: taken go back to the queue; it beats every `HEARTBEAT_S`.
LEASE_TTL_S = 10
HEARTBEAT_S = 2
WORKERS_KEY = f"{PREFIX}:workers"


def redis_settings(url: str, worker: str) -> dict:
    """Scrapy settings that put the scheduler's queue and seen filter in Redis, for the
    worker named `worker`."""
    return {
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "newswatch.crawler.distributed.LeasedQueue",
        "SCHEDULER_SERIALIZER": "newswatch.crawler.queuecodec",  # JSON: never unpickled
        "SCHEDULER_QUEUE_KEY": f"{PREFIX}:%(spider)s:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{PREFIX}:%(spider)s:seen",
        # The queue is shared: a worker that stops must not empty it for the others.
        "SCHEDULER_PERSIST": True,
        "REDIS_URL": url,
        "NEWSWATCH_WORKER": worker,
    }


def spider_name(source: Source) -> str:
    return f"{source.kind}:{source.name}"  # as NewsSpider names itself


def queue_key(spider: str) -> str:
    return f"{PREFIX}:{spider}:requests"


def taken_key(spider: str, worker: str) -> str:
    """The list of the requests `worker` has taken from `spider`'s queue."""
    return f"{queue_key(spider)}:taken:{worker}"


def returned_key(spider: str) -> str:
    """The list of requests taken by workers that died, to be crawled first (as
    `Worker.hand_back` names it)."""
    return f"{queue_key(spider)}:returned"


def run_key(spider: str) -> str:
    return f"{PREFIX}:{spider}:run"


def starting_key(spider: str) -> str:
    """Set while a run's first requests are being queued: the run is not over yet."""
    return f"{PREFIX}:{spider}:starting"


def heartbeat_key(worker: str) -> str:
    return f"{PREFIX}:worker:{worker}"


class LeasedQueue(FifoQueue):
    """scrapy-redis's FIFO request queue, where taking a request is a lease: it moves
    (LMOVE, atomic) to this worker's list of requests taken (`taken_key`). The spider
    empties that list when it is idle; a worker found dead hands it back (`Worker`).
    Returned requests are popped first; one whose URL the corpus knows by now (the dead
    worker stored it) is dropped there. Entries are JSON (`queuecodec`), whatever
    serializer scrapy-redis passes; one that does not decode is dropped."""

    def __init__(self, server, spider, key, serializer=None):
        super().__init__(server, spider, key, queuecodec)
        worker = spider.crawler.settings["NEWSWATCH_WORKER"]
        self.taken = taken_key(spider.name, worker)
        self.returned = returned_key(spider.name)

    def __len__(self) -> int:
        # Through a Redis outage the queue looks empty: the spider idles until Redis is back.
        if SERVERS.is_down(REDIS):
            return 0
        try:
            return self.server.llen(self.key) + self.server.llen(self.returned)
        except redis.RedisError as exc:
            return _outage(exc, 0)

    def _encode_request(self, request):
        return queuecodec.encode(request, self.spider)

    def _decode_request(self, encoded_request):
        return queuecodec.decode(encoded_request, self.spider)

    def pop(self, timeout=0):
        """The next request, or None (also through an outage of Redis or the database)."""
        if SERVERS.is_down(REDIS):
            return None
        try:
            return self._pop()
        except (redis.RedisError, SQLAlchemyError) as exc:
            return _outage(exc, None)

    def _pop(self):
        while (not SERVERS.is_down(DATABASE)
               and (data := self.server.lmove(self.returned, self.taken, "RIGHT", "LEFT")) is not None):
            request = self._take(data)
            try:
                known = request is not None and self.spider.context.corpus.known(request.url)
            except SQLAlchemyError:
                # The database is away: the request goes back to be popped first again.
                with self.server.pipeline() as pipe:
                    pipe.lrem(self.taken, 1, data)
                    pipe.rpush(self.returned, data)
                    pipe.execute()
                raise
            if request is not None and not known:
                return request
            self.server.lrem(self.taken, 1, data)
        while (data := self.server.lmove(self.key, self.taken, "RIGHT", "LEFT")) is not None:
            request = self._take(data)
            if request is not None:
                return request
            self.server.lrem(self.taken, 1, data)
        return None

    def _take(self, data: bytes):
        """The request in `data`, or None (logged) if it is not one of ours."""
        try:
            return self._decode_request(data)
        except BadQueueEntry as exc:
            log.warning("dropped an entry of the queue %s that is not a newswatch request: %s",
                        self.key, exc, extra={"source": self.spider.source.name})
            return None


def _outage(exc: Exception, instead):
    """`instead`, once `exc` is reported as an outage (`availability`); anything else
    is raised."""
    server = outage_of(exc)
    if server is None:
        raise exc
    SERVERS.failed(server, exc)
    return instead


def followed_key(spider: str) -> str:
    """The article URLs a run has followed, over all workers."""
    return f"{PREFIX}:{spider}:followed"


def mark_due(server: redis.Redis, source: Source) -> None:
    name = spider_name(source)
    with server.pipeline() as pipe:
        pipe.delete(f"{PREFIX}:{name}:seen", followed_key(name))
        pipe.set(f"{PREFIX}:due:{name}", "1")
        pipe.execute()


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
        spider._starting = False
        spider._reported = {}  # stats key -> how much of it the run's hash has
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
        """Idle: report, record a run that is over, start a due one. Never closes the
        spider; through an outage of Redis or the database it waits for the next idle
        tick after the server is back."""
        if self._starting or SERVERS.down():
            raise DontCloseSpider  # its first requests are not queued yet; or an outage
        try:
            self._idle()
        except (redis.RedisError, SQLAlchemyError) as exc:
            _outage(exc, None)
        raise DontCloseSpider

    def _idle(self) -> None:
        worker = self.crawler.settings["NEWSWATCH_WORKER"]
        self._report()
        # Idle: every request this worker took is stored, skipped or failed.
        self.redis.delete(taken_key(self.name, worker))
        self._finish_run()
        if self.redis.getdel(f"{PREFIX}:due:{self.name}") is not None:
            log.info("source %s: run started", self.source.name, extra={"source": self.source.name})
            self._starting = True
            with self.redis.pipeline() as pipe:
                pipe.hset(run_key(self.name), "started", time.time())
                pipe.set(starting_key(self.name), 1, ex=60)
                pipe.execute()
            deferred_from_coro(self._start_run())

    async def _start_run(self) -> None:
        # The spider outlives its runs: what one run followed, the next may follow again.
        self.error = None
        self._followed.clear()
        try:
            async for request in super().start():
                self.crawler.engine.crawl(request)
        finally:
            self._starting = False
            self.redis.delete(starting_key(self.name))

    def follow_article(self, url: str):
        # Once per run over all workers: a listing returned from a dead worker and read
        # again must not queue a second request for what is already queued.
        try:
            if not self.redis.sadd(followed_key(self.name), url):
                return None
        except redis.RedisError as exc:
            return _outage(exc, None)  # the source's next run follows it
        return super().follow_article(url)

    def _report(self) -> None:
        """Add the failures and refusals this worker counted since its last report, and
        the source's error, to the run's hash."""
        counts = {key: self.crawler.stats.get_value(key, 0) for key in (FAILED, REFUSED_PRIVATE, REFUSED_FILE)}
        with self.redis.pipeline() as pipe:  # nothing to add: no round trip
            for key, count in counts.items():
                if count > self._reported.get(key, 0):
                    pipe.hincrby(run_key(self.name), key, count - self._reported.get(key, 0))
            if self.error:
                pipe.hset(run_key(self.name), "error", self.error)
            pipe.execute()
        self._reported = counts
        self.error = None  # reported: the next run's, if any, is its own

    def _finish_run(self) -> None:
        """Record the source's run if it is over (see the module's docstring)."""
        run = run_key(self.name)
        if not self.redis.exists(run):
            return
        if (self.redis.exists(starting_key(self.name)) or self.redis.llen(queue_key(self.name))
                or self.redis.llen(returned_key(self.name))):
            return
        for worker in self.redis.smembers(WORKERS_KEY):
            if self.redis.exists(taken_key(self.name, worker.decode())):
                return
        with self.redis.pipeline() as pipe:  # read and delete at once: one worker records it
            pipe.hgetall(run)
            pipe.delete(run)
            fields, deleted = pipe.execute()
        if not deleted or b"started" not in fields:
            return
        started = float(fields[b"started"])
        try:
            result = self._record_run(fields, started)
        except SQLAlchemyError:
            self.redis.hset(run, mapping=fields)  # the database is away: recorded when it is back
            raise
        log.info("source %s: run over: %d new, %d duplicate, %d failed in %.1fs%s",
                 result.source, result.new, result.duplicate, result.failed, result.duration_s,
                 f" ({result.error})" if result.error else "", extra={"source": result.source})
        self.run_over(result)

    def _record_run(self, fields: dict, started: float) -> SourceRun:
        with self.context.corpus.store.session() as session:
            new, duplicate = session.execute(
                select(func.count(Article.id).filter(Article.duplicate_of.is_(None)),
                       func.count(Article.duplicate_of))
                .where(Article.source == self.source.name,
                       Article.first_seen >= datetime.fromtimestamp(started, timezone.utc))
            ).one()
        result = SourceRun(
            source=self.source.name, new=new, duplicate=duplicate,
            failed=int(fields.get(FAILED.encode(), 0)),
            error=fields[b"error"].decode() if b"error" in fields else None,
            duration_s=time.time() - started,
            refused_private=int(fields.get(REFUSED_PRIVATE.encode(), 0)),
            refused_file=int(fields.get(REFUSED_FILE.encode(), 0)),
        )
        record(self.context.corpus.store, result)
        return result


def on_demand(spider_class: type[NewsSpider]) -> type[NewsSpider]:
    return type(f"OnDemand{spider_class.__name__}", (_OnDemand, spider_class), {})


class Worker:
    """A crawler worker: one on-demand spider per source, until `stop()`; and, beside
    them, a heartbeat that says this worker is alive and hands back the requests of
    workers that are not."""

    def __init__(self, context: CrawlContext, redis_url: str,
                 run_over: Callable[[SourceRun], None] = lambda run: None, settings: dict | None = None):
        """`run_over` is called with each run this worker records (on the reactor's
        thread), after it is recorded; `settings` are the config's (`crawl:`)."""
        self.context = context
        self.run_over = run_over
        self.name = uuid.uuid4().hex[:12]
        self.redis = redis.Redis.from_url(redis_url)
        self.runner = AsyncCrawlerRunner({**SETTINGS, **(settings or {}), **redis_settings(redis_url, self.name)})

    async def run(self, sources: Iterable[Source]) -> None:
        await asyncio.to_thread(self.beat)
        heartbeat = asyncio.ensure_future(self._beat_until_cancelled())
        try:
            await asyncio.gather(*(
                self.runner.crawl(on_demand(spider_class(s)), source=s, context=self.context,
                                  run_over=self.run_over)
                for s in sources
            ))
        finally:
            heartbeat.cancel()
            # Stopped: what it took and did not finish goes to the others.
            await asyncio.to_thread(self.hand_back, self.name)

    async def _beat_until_cancelled(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            if SERVERS.is_down(REDIS):
                continue
            try:
                await asyncio.to_thread(self.beat)
            except redis.RedisError as exc:  # Redis away: beat again when it is back
                _outage(exc, None)

    def beat(self) -> None:
        """Say this worker is alive; hand back the requests of workers that are not."""
        with self.redis.pipeline() as pipe:
            pipe.set(heartbeat_key(self.name), 1, ex=LEASE_TTL_S)
            pipe.sadd(WORKERS_KEY, self.name)
            pipe.execute()
        for other in self.redis.smembers(WORKERS_KEY):
            other = other.decode()
            if other != self.name and not self.redis.exists(heartbeat_key(other)):
                self.hand_back(other)

    def hand_back(self, worker: str) -> None:
        """Move the requests `worker` took to their sources' returned queues, and forget
        it. Several workers may do this at once: each request moves once."""
        returned = 0
        suffix = f":taken:{worker}"  # taken_key's: the rest is the queue's key
        for key in self.redis.scan_iter(match=taken_key("*", worker)):
            queue = key.decode()[:-len(suffix)]
            while self.redis.lmove(key, f"{queue}:returned", "RIGHT", "LEFT"):
                returned += 1
        self.redis.srem(WORKERS_KEY, worker)
        if worker == self.name:
            self.redis.delete(heartbeat_key(worker))
        if returned:
            log.warning("%d request(s) taken by crawler worker %s go back to the queue%s",
                        returned, worker, "" if worker == self.name else " (it stopped answering)")

    async def stop(self) -> None:
        await self.runner.stop()

    def stats(self) -> dict[str, dict]:
        """Each source's Scrapy stats since the worker started (a copy)."""
        return {crawler.spider.source.name: dict(crawler.stats.get_stats())
                for crawler in self.runner.crawlers if crawler.spider is not None}
