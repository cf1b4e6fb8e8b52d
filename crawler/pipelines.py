"""Item pipelines: extract, then ingest (dedup, store, match, queue alerts); the process
pool extraction and analysis run in, and the thread storing runs on."""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import queue
import signal
import threading
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Sequence

from scrapy.exceptions import DropItem
from scrapy.logformatter import LogFormatter

from newswatch.alerts.matcher import Topic
from newswatch.crawler.analysis import extract_and_analyse, init_worker
from newswatch.crawler.extract import ExtractionError, extract
from newswatch.crawler.ingest import Addition, Corpus
from newswatch.crawler.items import ExtractedPage, Page
from newswatch.crawler.spiders.base import FAILED

log = logging.getLogger(__name__)

NEW = "newswatch/new"
DUPLICATE = "newswatch/duplicate"


def _worker_init(topics) -> None:
    init_worker(topics)
    # Ctrl-C and SIGTERM are the parent's to handle; it shuts the pool down.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # A parent killed with -9 cannot shut the pool down, and a worker waiting for work
    # would wait for ever (holding the daemon's stdout and stderr open): follow it.
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent) -> None:
    parent.join()
    os._exit(1)


def _warm_up() -> None:
    extract(b"<html><body><article><p>Warm up.</p></article></body></html>", "http://localhost/")


class ExtractionPool(Executor):
    """A process pool for `extract_and_analyse`, one worker per core, started warm, its
    workers knowing `topics` (those of the corpus the articles go to).

    Workers come from a fork server (forking the daemon itself, with Twisted's reactor
    and threads running, is unsafe) that has imported the extraction code once, so a
    worker starts in milliseconds. A worker that dies (a crash inside lxml) breaks a
    `ProcessPoolExecutor` for good: the pool is then replaced, and only the pages in
    flight fail."""

    def __init__(self, workers: int | None = None, topics: Sequence[Topic] = ()):
        self.workers = workers or os.cpu_count() or 1
        self._topics = tuple(topics)
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["newswatch.crawler.analysis"])
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(self.workers, mp_context=self._context,
                                   initializer=_worker_init, initargs=(self._topics,))
        for _ in range(self.workers):  # each submit starts a worker while none is idle
            pool.submit(_warm_up)
        return pool

    def submit(self, fn, /, *args, **kwargs) -> Future:
        try:
            return self._pool.submit(fn, *args, **kwargs)
        except BrokenProcessPool:
            log.warning("an extraction worker died; starting a new pool")
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._start()
            return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


class IngestWriter:
    """Stores articles in `corpus`, on one thread of its own, off the reactor.

    One writer: articles are stored one after another, each seeing those before it (its
    story, its near-duplicates). Whatever has queued while a transaction ran goes into
    the next one (up to `MAX_BATCH`): under load one commit serves many articles, and
    an article alone is stored at once. A batch that fails (another process took one of
    its URLs, a database error) is retried one article per transaction, so an error
    reaches only its own article's future."""

    MAX_BATCH = 64

    def __init__(self, corpus: Corpus):
        self.corpus = corpus
        self._queue: queue.SimpleQueue[tuple[Future, Addition] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="ingest", daemon=True)
        self._thread.start()

    def submit(self, addition: Addition) -> Future:
        """A future of `corpus.add`'s result for `addition`."""
        future: Future = Future()
        self._queue.put((future, addition))
        return future

    def shutdown(self) -> None:
        """Store what was submitted, then stop the thread."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            batch, stop = self._next_batch()
            if batch:
                self._store(batch)
            if stop:
                return

    def _next_batch(self) -> tuple[list[tuple[Future, Addition]], bool]:
        batch = []
        entry = self._queue.get()
        while entry is not None:
            if entry[0].set_running_or_notify_cancel():
                batch.append(entry)
            if len(batch) >= self.MAX_BATCH:
                return batch, False
            try:
                entry = self._queue.get_nowait()
            except queue.Empty:
                return batch, False
        return batch, True

    def _store(self, batch: list[tuple[Future, Addition]]) -> None:
        if len(batch) > 1:
            try:
                results = self.corpus.add_many([addition for _, addition in batch])
            except Exception:  # noqa: BLE001 — the thread's edge: retried one by one below
                log.debug("a batch of %d articles failed; storing them one by one", len(batch))
            else:
                for (future, _), result in zip(batch, results):
                    future.set_result(result)
                return
        for future, addition in batch:
            try:
                future.set_result(self.corpus.add(addition.article, addition.source,
                                                  addition.via, addition.analysis))
            except Exception as exc:  # noqa: BLE001 — handed to the awaiting pipeline
                future.set_exception(exc)


class QuietLogFormatter(LogFormatter):
    """A dropped page is one line naming its URL and why, not a dump of its bytes."""

    def dropped(self, item, exception, response, spider=None):
        return {"level": logging.WARNING, "msg": "skipped %(exception)s", "args": {"exception": exception}}


class _Stage:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @property
    def context(self):
        return self.crawler.spider.context


class ExtractPipeline(_Stage):
    """`Page` → `ExtractedPage`. Extraction and analysis are CPU work: they run on the
    context's executor, off the reactor thread. A page with no article in it is dropped
    and counted."""

    async def process_item(self, item: Page, spider=None) -> ExtractedPage:
        loop = asyncio.get_running_loop()
        try:
            article, analysis = await loop.run_in_executor(
                self.context.executor, extract_and_analyse,
                item.body, item.url, item.content_type, item.source,
            )
        except ExtractionError as exc:
            self.crawler.stats.inc_value(FAILED)
            raise DropItem(f"{item.url}: no article ({exc})") from None
        except BrokenProcessPool:
            self.crawler.stats.inc_value(FAILED)
            raise DropItem(f"{item.url}: extraction crashed its worker") from None
        return ExtractedPage(source=item.source, via=item.via, article=article, analysis=analysis)


class IngestPipeline(_Stage):
    """`ExtractedPage` → the same, stored: counted as new or duplicate. Storing runs on
    the context's `IngestWriter`, so the reactor keeps fetching meanwhile."""

    async def process_item(self, item: ExtractedPage, spider=None) -> ExtractedPage:
        ingested = await asyncio.wrap_future(self.context.writer.submit(
            Addition(item.article, item.source, (item.via,), item.analysis)))
        self.crawler.stats.inc_value(NEW if ingested.outcome == "new" else DUPLICATE)
        log.info(
            "%s %s %s%s", item.source, ingested.outcome, item.article.url,
            f" (topics: {', '.join(ingested.topics)})" if ingested.topics else "",
            extra={"source": item.source, "url": item.article.url, "topics": list(ingested.topics)},
        )
        return item
