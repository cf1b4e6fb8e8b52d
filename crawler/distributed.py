"""Crawling with several worker processes (machines): scrapy-redis shares each source's
request queue and seen-request filter in Redis.

- The scheduler role calls `mark_due(redis, source)` when a source's interval comes: it
  sets the key `newswatch:due:<spider name>` (setting it again before a worker took it
  coalesces the two runs) and clears the source's seen-request set, which is per run.
- Every crawler worker (`Worker`) keeps one spider open per enabled source (those of the
  config in force: a reload starts, stops or restarts spiders, `Worker.update`). When
  idle the spider takes the due key with GETDEL, so exactly one worker starts the run: it
  fetches the feed, and the article requests it yields go to the source's shared queue
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
  what the dead worker had stored. A worker that stops cleanly hands its own back, and so
  does a spider a reload stops. So a killed worker's requests are crawled within the same
  run, a few seconds later.
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
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterable

import redis
from scrapy import signals
from scrapy.crawler import AsyncCrawlerRunner, Crawler
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
from newswatch.store.availability import DATABASE, REDIS, SERVERS, Unavailable, outage_of
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


@dataclass
class _Spider:
    """One source's on-demand spider in a worker: its crawler and the task crawling."""

    source: Source
    crawler: Crawler
    task: asyncio.Task
    ready: asyncio.Event  # set at the spider's first idle tick: its engine runs

    async def started(self) -> None:
        """Return once the spider's engine runs (a stop then stops it) or its crawl ended."""
        ready = asyncio.ensure_future(self.ready.wait())
        await asyncio.wait([ready, self.task], return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()


class SpiderClosed(Exception):
    """A source's spider ended without being asked: the worker would no longer crawl it."""


class Worker:
    """A crawler worker: one on-demand spider per enabled source, until `stop()`; and,
    beside them, a heartbeat that says this worker is alive and hands back the requests of
    workers that are not. `update` brings the spiders in line with a reloaded config."""

    def __init__(self, context: CrawlContext, redis_url: str,
                 run_over: Callable[[SourceRun], None] = lambda run: None, settings: dict | None = None):
        """`run_over` is called with each run this worker records (on the reactor's
        thread), after it is recorded; `settings` are the config's (`crawl:`)."""
        self.context = context
        self.run_over = run_over
        self.name = uuid.uuid4().hex[:12]
        self.redis = redis.Redis.from_url(redis_url)
        self.runner = AsyncCrawlerRunner({**SETTINGS, **(settings or {}), **redis_settings(redis_url, self.name)})
        self.spiders: dict[str, _Spider] = {}  # source name -> its spider
        self._changing = asyncio.Lock()  # one change of the spiders at a time: start, update, stop
        self._over = asyncio.Event()  # set by stop(), or when a spider fails
        self._failure: BaseException | None = None
        self._stopping = False
        self._final: list[tuple[str, dict]] = []  # stats of spiders stopped since `stats()`

    async def run(self, sources: Iterable[Source]) -> None:
        """Crawl the enabled `sources` (and, after each `update`, that config's) until
        `stop()`; raise, once every spider is stopped, if one failed or closed unasked."""
        await asyncio.to_thread(self.beat)
        heartbeat = asyncio.ensure_future(self._beat_until_cancelled())
        try:
            async with self._changing:
                if not self._stopping:
                    await self._start([s for s in sources if s.enabled])
            await self._over.wait()
            if self._failure is not None:
                raise self._failure
        finally:
            heartbeat.cancel()
            async with self._changing:  # after a failure, the other spiders stop too
                self._stopping = True
                await self._stop(list(self.spiders), "the worker stops")
            # Stopped: what it took and did not finish goes to the others.
            await asyncio.to_thread(self.hand_back, self.name)

    async def update(self, sources: Iterable[Source]) -> None:
        """Bring the spiders in line with the enabled `sources` (a reloaded config's): the
        spider of a source gone or disabled stops, that of a changed source stops and a new
        one starts with the new definition, and a new source's starts. A stopping spider
        finishes the requests it is fetching, and hands back to the source's queue those it
        took and did not finish (as a stopping worker does); the run goes on with the other
        workers, or with the restarted spider."""
        wanted = {s.name: s for s in sources if s.enabled}
        async with self._changing:
            if self._stopping:
                return
            removed = [name for name in self.spiders if name not in wanted]
            changed = [name for name, spider in self.spiders.items()
                       if name in wanted and wanted[name] != spider.source]
            await self._stop(removed, "its source is gone from the config or disabled")
            await self._stop(changed, "its source changed; it restarts")
            await self._start([source for name, source in wanted.items() if name not in self.spiders])

    async def _start(self, sources: list[Source]) -> None:
        """Start a spider for each of `sources`; return once each runs (or has failed)."""
        for source in sources:
            crawler = self.runner.create_crawler(on_demand(spider_class(source)))
            ready = asyncio.Event()
            crawler.signals.connect(lambda ready=ready: ready.set(), signal=signals.spider_idle, weak=False)
            task = self.runner.crawl(crawler, source=source, context=self.context, run_over=self.run_over)
            spider = self.spiders[source.name] = _Spider(source, crawler, task, ready)
            task.add_done_callback(lambda task, spider=spider: self._ended(spider))
        await asyncio.gather(*(self.spiders[s.name].started() for s in sources))
        for source in sources:
            if not self.spiders[source.name].task.done():
                log.info("source %s: spider started", source.name, extra={"source": source.name})

    async def _stop(self, names: list[str], why: str) -> None:
        """Stop the spiders of the sources `names`, and hand back what they had taken."""
        spiders = [self.spiders.pop(name) for name in names]
        if not spiders:
            return
        await asyncio.gather(*(spider.crawler.stop_async() for spider in spiders))
        await asyncio.wait([spider.task for spider in spiders])
        for spider in spiders:
            name = spider.source.name
            if not spider.task.cancelled() and spider.task.exception() is not None:
                log.warning("source %s: its spider failed: %r", name, spider.task.exception(),
                            extra={"source": name})
            self._final.append((name, dict(spider.crawler.stats.get_stats())))
            log.info("source %s: spider stopped (%s)", name, why, extra={"source": name})
        if self._stopping:
            return  # `run` hands back everything this worker took
        # Before a restarted spider's first idle tick, which empties the same list.
        queues = [queue_key(spider_name(spider.source)) for spider in spiders]
        try:
            returned = await asyncio.to_thread(
                SERVERS.retry, lambda: sum(self._give_back(queue, self.name) for queue in queues))
        except Unavailable:  # the worker stops meanwhile: `run` hands back all it took
            return
        if returned:
            log.info("%d request(s) taken by stopped spiders go back to the queue", returned)

    def _ended(self, spider: _Spider) -> None:
        """A spider's crawl ended: as asked (`_stop`), or else the worker stops with the
        spider's failure."""
        if self.spiders.get(spider.source.name) is not spider or self._over.is_set():
            return
        task = spider.task
        failure = None if task.cancelled() else task.exception()
        self._failure = failure or SpiderClosed(f"the spider of source {spider.source.name} closed")
        self._over.set()

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
            returned += self._give_back(key.decode()[:-len(suffix)], worker)
        self.redis.srem(WORKERS_KEY, worker)
        if worker == self.name:
            self.redis.delete(heartbeat_key(worker))
        if returned:
            log.warning("%d request(s) taken by crawler worker %s go back to the queue%s",
                        returned, worker, "" if worker == self.name else " (it stopped answering)")

    def _give_back(self, queue: str, worker: str) -> int:
        """Move the requests `worker` took from the request queue `queue` to the queue's
        returned requests (`taken_key`, `returned_key`); how many moved."""
        returned = 0
        while self.redis.lmove(f"{queue}:taken:{worker}", f"{queue}:returned", "RIGHT", "LEFT"):
            returned += 1
        return returned

    async def stop(self) -> None:
        """Stop every spider (each finishes the requests it is fetching); `run` then ends."""
        async with self._changing:
            self._stopping = True
            await self._stop(list(self.spiders), "the worker stops")
        self._over.set()

    def stats(self) -> list[tuple[str, dict]]:
        """(source name, Scrapy stats) of each running spider since it started (a copy),
        and once, the final stats of each spider stopped since the last call."""
        final, self._final = self._final, []
        return final + [(name, dict(spider.crawler.stats.get_stats())) for name, spider in self.spiders.items()]
