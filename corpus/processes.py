"""The processes beside the crawling one: the extraction pool (extraction and analysis,
`workers:` processes; with 0, done in the ingest process) and the ingest process that
stores articles (`IngestWriter`).

Children come from a fork server that has imported this module (and what it runs) once,
so a child starts in milliseconds: between runs the daemon lets them go (`release`) and
forks new ones for the next. Nothing here imports Scrapy: the children never need it.
"""
from __future__ import annotations

import ctypes
import faulthandler
import logging
import multiprocessing
import multiprocessing.spawn
import os
import queue
import signal
import threading
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Sequence

from newswatch.alerts.matcher import Topic
from newswatch.corpus.analysis import init_worker
from newswatch.corpus.article import ExtractionError
from newswatch.corpus.ingest import Addition, Corpus, IngestError, Ingested
from newswatch.store import availability
from newswatch.store.db import open_store

log = logging.getLogger(__name__)


# What the fork server loads once, so that every child starts warm and shares it
# (corpus/preload.py): the extraction code is loaded there, not in the crawling process.
_PRELOAD = ["newswatch.corpus.preload"]


def _child_init() -> None:
    # Ctrl-C and SIGTERM are the parent's to handle; it shuts its pools down.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # A parent killed with -9 cannot shut the pool down, and a child waiting for work
    # would wait for ever (holding the daemon's stdout and stderr open): follow it.
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent) -> None:
    parent.join()
    os._exit(1)


def _fork_server():
    """Children come from a fork server (forking the daemon itself, with Twisted's reactor
    and threads running, is unsafe) that has imported their code once, so a child starts
    in milliseconds."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    multiprocessing.spawn.get_preparation_data = _without_main
    return context


_preparation_data = multiprocessing.spawn.get_preparation_data


def _without_main(name: str) -> dict:
    # multiprocessing has each child import the parent's __main__ (so that functions
    # defined there unpickle): here the CLI, and with it everything the daemon imports,
    # tens of MB in every child. Our children run functions of this package only.
    data = _preparation_data(name)
    data.pop("init_main_from_name", None)
    data.pop("init_main_from_path", None)
    return data


def _usable_cores() -> int:
    """The cores this process may run on: a container's or `taskset`'s CPU set, not the
    host's count (Linux; elsewhere every core)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def trim_heap() -> None:
    """Hand back to the system the memory the C allocator holds free (glibc's
    `malloc_trim`; with another allocator, nothing): after a burst of work it keeps freed
    pages for reuse, which an idle daemon only holds."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


#: The most extraction workers there are by default: past two, each worker's own heap
#: (its parse trees and caches) buys little on a small server.
DEFAULT_MAX_WORKERS = 2


def default_workers() -> int:
    """Extraction workers when the config does not say: one per usable core, at most
    `DEFAULT_MAX_WORKERS`."""
    return min(_usable_cores(), DEFAULT_MAX_WORKERS)


def _extraction_init(topics: Sequence[Topic]) -> None:
    _child_init()
    init_worker(topics)


def warm_up() -> None:
    """One extraction of a small page: trafilatura's first call sets up what the next
    ones use."""
    from newswatch.corpus.extract import extract

    extract(b"<html><body><article><p>Warm up.</p></article></body></html>", "http://localhost/")


def _start_workers(pool: ProcessPoolExecutor, workers: int, started: Future) -> None:
    # Each submit starts a worker while none is idle.
    warm = [pool.submit(warm_up) for _ in range(workers)]
    wait(warm)  # a failure shows at the first page, as the pool is then broken
    started.set_result(None)


#: Seconds a worker gets past a task's deadline to stop by itself before it is ended.
HARD_STOP_GRACE_S = 5.0


class ExtractionTimeout(ExtractionError):
    """A page's extraction took longer than its deadline."""


def _deadline_passed(_signum, _frame):
    raise ExtractionTimeout("extraction took too long")


def run_with_deadline(seconds: float, fn, /, *args):
    """In an extraction worker: `fn(*args)`, or `ExtractionTimeout` after `seconds`.

    The deadline counts from when the worker starts the task (not from when it was
    queued). Python code is interrupted at the deadline (SIGALRM) and the worker goes on
    with the next page; code stuck in C past `HARD_STOP_GRACE_S` more cannot be
    interrupted, so the worker ends itself (faulthandler's watchdog thread) and the pool
    replaces it (`ExtractionPool.submit`): that page, and those the worker's pool had in
    flight, fail with `BrokenProcessPool`."""
    signal.signal(signal.SIGALRM, _deadline_passed)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(seconds + HARD_STOP_GRACE_S, exit=True, file=_devnull())
    try:
        return fn(*args)
    except ExtractionTimeout:
        raise ExtractionTimeout(f"extraction took longer than {seconds:g}s") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        faulthandler.cancel_dump_traceback_later()


_null = None


def _devnull():
    # faulthandler needs a file that stays open; the traceback of a stuck page is noise.
    global _null
    if _null is None:
        _null = open(os.devnull, "w")  # noqa: SIM115 — kept for the process's life
    return _null


class ExtractionPool(Executor):
    """A process pool for `extract_and_analyse` of `workers` processes (None:
    `default_workers()`), started warm, its workers knowing `topics` (those of the corpus
    the articles go to).

    Between runs the workers only hold memory: `release` lets them go, and the next
    `start` (or `submit`) forks new ones from the fork server, which has the extraction
    code loaded already.

    A worker that dies (a crash inside lxml) breaks a `ProcessPoolExecutor` for good: the
    pool is then replaced, and only the pages in flight fail."""

    def __init__(self, workers: int | None = None, topics: Sequence[Topic] = ()):
        self.workers = workers or default_workers()
        self._topics = tuple(topics)
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        #: Done when the workers are up; a new one at each start.
        self.started: Future = Future()
        self.start()

    def start(self) -> Future:
        """Start the workers unless they are running; returns `started`."""
        with self._lock:
            self._running_pool()
            return self.started

    def _running_pool(self) -> ProcessPoolExecutor:
        # Under self._lock.
        if self._pool is None:
            self.started = Future()
            self._pool = self._new_pool(self.started)
        return self._pool

    def _new_pool(self, started: Future | None = None) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(self.workers, mp_context=_fork_server(),
                                   initializer=_extraction_init, initargs=(self._topics,))
        # The first workers wait for the fork server's imports: started on a thread of
        # their own, beside the rest of the daemon's start.
        threading.Thread(target=_start_workers, args=(pool, self.workers, started or Future()),
                         name="extraction-start", daemon=True).start()
        return pool

    def release(self) -> None:
        """Let the workers go once the pages submitted are done."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with self._lock:
            pool = self._running_pool()
        try:
            return pool.submit(fn, *args, **kwargs)
        except BrokenProcessPool:
            log.warning("an extraction worker died; starting a new pool")
            with self._lock:
                if self._pool is pool:
                    self._pool = self._new_pool()
                fresh = self._running_pool()
            pool.shutdown(wait=False, cancel_futures=True)
            return fresh.submit(fn, *args, **kwargs)

    def set_topics(self, topics: Sequence[Topic]) -> None:
        """Pages submitted from now on are matched against `topics`: a new pool (if one
        is running); those already submitted finish in the old one, which then stops."""
        with self._lock:
            self._topics = tuple(topics)
            old = self._pool
            if old is not None:
                self._pool = self._new_pool()
        if old is not None:
            old.shutdown(wait=False)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=cancel_futures)


# The ingest process's corpus, opened once by `_ingest_init`.
_corpus: Corpus | None = None


def _ingest_init(database: str, topics: Sequence[Topic]) -> None:
    global _corpus
    _child_init()
    _corpus = Corpus(open_store(database, migrate=False), topics)
    init_worker(_corpus.topics)  # for `InProcessExtraction`: the same index, not a copy


def _set_topics(topics: Sequence[Topic]) -> None:
    global _corpus
    assert _corpus is not None, "called outside the ingest process"
    _corpus = Corpus(_corpus.store, topics)
    init_worker(_corpus.topics)


def _store_batch(additions: list[Addition]) -> list[Ingested | IngestError]:
    """In the ingest process: `add_many`, else (the batch failed: another process took
    one of its URLs, or one article cannot be stored) `add` one by one, each failure
    its own article's."""
    assert _corpus is not None, "called outside the ingest process"
    if len(additions) > 1:
        try:
            return _corpus.add_many(additions)
        except Exception as exc:  # noqa: BLE001 — retried one by one, where each error is reported
            _raise_outage(exc)
            log.debug("a batch of %d articles failed; storing them one by one", len(additions))
    outcomes: list[Ingested | IngestError] = []
    for a in additions:
        try:
            outcomes.append(_corpus.add(a.article, a.source, a.via, a.analysis))
        except Exception as exc:  # noqa: BLE001 — handed to the article's pipeline step
            _raise_outage(exc)
            outcomes.append(IngestError(f"{a.article.url}: {type(exc).__name__}: {exc}"))
    return outcomes


def _raise_outage(exc: Exception) -> None:
    """The database is away: the whole batch waits for it (`IngestWriter._store`), no
    article fails for it."""
    server = availability.outage_of(exc)
    if server is not None:
        raise availability.Unavailable(server, availability.reason_of(exc)) from None


#: Queued by `IngestWriter.release`: the ingest process goes once what is before it is stored.
_RELEASE = object()


class IngestWriter:
    """Stores articles in `corpus`'s database from a process of its own.

    Storing is Python-heavy SQL work; in the crawling process it would hold the GIL the
    reactor needs. One writer: articles are stored one after another, each seeing those
    before it (its story, its near-duplicates). A transaction takes what has queued (up
    to `MAX_BATCH`), and its first article waits up to `LINGER_S` for more to join it:
    one commit then serves many articles even when they arrive one by one (a worker
    of several, each with its own writer, gets pages evenly rather than in bursts), and
    an article alone is stored that much later. An article that cannot be stored
    fails alone (`IngestError`); if the ingest process dies, a new one takes over and
    stores the articles that were in flight. Between runs the process can be let go
    (`release`); the next article or `start` forks a new one.

    The database must be one another process can open (a file or a server; not
    SQLite's ``:memory:``)."""

    MAX_BATCH = 64
    #: How long a batch's first article waits for others (seconds): each transaction has
    #: a cost of its own (a commit, a connection check, the story index's first reads)
    #: that a batch shares.
    LINGER_S = 0.25

    def __init__(self, corpus: Corpus):
        self._database = corpus.store.engine.url.render_as_string(hide_password=False)
        self.topics = tuple(corpus.topics)
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        #: Done when the ingest process is up, its store opened; a new one at each start.
        self.started: Future = Future()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="ingest", daemon=True)
        self._thread.start()
        self.start()

    def start(self) -> Future:
        """Start the ingest process unless it is running; returns `started`."""
        with self._lock:
            self._running_pool()
            return self.started

    def _running_pool(self) -> ProcessPoolExecutor:
        # Under self._lock.
        if self._pool is None:
            self._pool = ProcessPoolExecutor(1, mp_context=_fork_server(), initializer=_ingest_init,
                                             initargs=(self._database, self.topics))
            started = self.started = Future()
            # If starting fails, storing the first batch says so.
            self._pool.submit(int).add_done_callback(lambda _: started.set_result(None))
        return self._pool

    def _replace_pool(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)

    def submit(self, addition: Addition) -> Future:
        """A future of `Corpus.add`'s result for `addition`; `IngestError` if it could
        not be stored."""
        future: Future = Future()
        self._queue.put((future, addition))
        return future

    def run(self, fn, /, *args, **kwargs) -> Future:
        """`fn(*args, **kwargs)` in the ingest process, between two batches
        (`InProcessExtraction`). Raises `BrokenProcessPool` while the process is being
        replaced."""
        with self._lock:
            pool = self._running_pool()
        return pool.submit(fn, *args, **kwargs)

    def set_topics(self, topics: Sequence[Topic]) -> None:
        """Articles stored after those already submitted are matched against `topics` (the
        ingest process takes its work in order), and so are pages extracted there."""
        self.topics = tuple(topics)  # for a process started from now on
        with self._lock:
            pool = self._pool
        if pool is None:
            return
        try:
            done = pool.submit(_set_topics, self.topics)
        except (BrokenProcessPool, RuntimeError):  # being replaced, or let go
            return  # the next process starts with them
        done.add_done_callback(lambda f: f.exception() and log.error(
            "the ingest process kept its topics: %s", f.exception()))

    def release(self) -> None:
        """Let the ingest process go once what was submitted is stored."""
        self._queue.put(_RELEASE)

    def shutdown(self) -> None:
        """Store what was submitted, then stop."""
        self._queue.put(None)
        self._thread.join()
        self._let_go()

    def _let_go(self) -> None:
        """Stop the ingest process, once what it was given is done."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def _run(self) -> None:
        while True:
            batch, then = self._next_batch()
            if batch:
                self._store(batch)
            if then is _RELEASE:
                self._let_go()
            elif then is None:
                return

    def _next_batch(self) -> tuple[list[tuple[Future, Addition]], object]:
        """Up to `MAX_BATCH` of the additions queued within `LINGER_S` of the first, and
        what ended the batch: the time or the size (`True`), `_RELEASE`, or `None` (stop)."""
        batch = []
        entry = self._queue.get()
        deadline = time.monotonic() + self.LINGER_S
        while entry is not None and entry is not _RELEASE:
            if entry[0].set_running_or_notify_cancel():
                batch.append(entry)
            if len(batch) >= self.MAX_BATCH:
                return batch, True
            try:
                entry = self._queue.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                return batch, True
        return batch, entry

    def _store(self, batch: list[tuple[Future, Addition]]) -> None:
        additions = [a for _, a in batch]
        for _ in range(2):
            with self._lock:
                pool = self._running_pool()
            try:
                # Through a database outage the batch waits, and is stored when it is back.
                outcomes = availability.SERVERS.retry(lambda: pool.submit(_store_batch, additions).result())
                break
            except availability.Unavailable as exc:  # the process is stopping meanwhile
                outcomes = [IngestError(str(exc))] * len(batch)
                break
            except BrokenProcessPool:
                # Its transaction was rolled back, or committed just before it died: a
                # second attempt stores the batch, or finds it stored (duplicates).
                log.warning("the ingest process died; starting a new one")
                self._replace_pool(pool)
        else:
            outcomes = [IngestError("the ingest process died twice storing it")] * len(batch)
        for (future, _), outcome in zip(batch, outcomes):
            if isinstance(outcome, IngestError):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)


class InProcessExtraction(Executor):
    """`workers: 0`: pages are extracted and analysed in `writer`'s ingest process, between
    its batches, instead of in a pool of their own (one process less, for small installs;
    storing then waits while a page is extracted). The topics are the writer's."""

    workers = 0

    def __init__(self, writer: IngestWriter):
        self._writer = writer

    @property
    def started(self) -> Future:
        return self._writer.started

    def start(self) -> Future:
        return self._writer.start()

    def release(self) -> None:
        """Nothing to do: the writer's release lets the process go."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        return self._writer.run(fn, *args, **kwargs)

    def set_topics(self, topics: Sequence[Topic]) -> None:
        """Nothing to do: `IngestWriter.set_topics` sets them for both."""

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to do: the writer's shutdown stops the process."""


def extraction_executor(workers: int | None, writer: IngestWriter) -> Executor:
    """Where pages are extracted: a pool of `workers` processes (None: the default), or
    with 0, the ingest process of `writer`."""
    if workers == 0:
        return InProcessExtraction(writer)
    return ExtractionPool(workers, writer.topics)
