"""The ingest writer: articles submitted by the crawl are stored by one process of its own,
as many per transaction as have queued up, each seeing those before it; an article that
cannot be stored fails alone.

Runs on the backend of the run (`database_url`).
"""
from __future__ import annotations

import os
import signal
from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import func, select

from newswatch.alerts.matcher import Topic
from newswatch.alerts.query import parse
from newswatch.corpus.extract import Article
from newswatch.corpus.ingest import Addition, Corpus, IngestError
from newswatch.corpus.processes import ExtractionPool, IngestWriter
from newswatch.store.db import open_store
from newswatch.store.models import Article as StoredArticle
from newswatch.store.models import OutboxRow

TOPICS = (Topic("reports", parse("report"), ("desk",)),)


def article(i: int) -> Article:
    return Article(
        url=f"https://news.example/{i}.html",
        canonical_url=f"https://news.example/{i}.html",
        title=f"Report number {i} from the {['north', 'south', 'east'][i % 3]} bureau",
        text=f"This is report {i}. " + " ".join(f"word{i}x{j}" for j in range(40)),
        published=None,
        language="en",
        author=None,
    )


# An article the store refuses: a naive datetime (stored times must carry their zone).
BROKEN = replace(article(999), published=datetime(2026, 11, 23, 12, 0))


@pytest.fixture
def corpus(database_url):
    store = open_store(database_url)
    yield Corpus(store, TOPICS)
    store.close()


@pytest.fixture
def writer(corpus):
    writer = IngestWriter(corpus)
    yield writer
    writer.shutdown()


def stored(corpus) -> int:
    with corpus.store.session() as session:
        return session.scalar(select(func.count()).select_from(StoredArticle))


def test_every_submitted_article_is_stored_in_order_each_seeing_those_before(writer, corpus):
    additions = [Addition(article(i), "wire") for i in range(30)]
    additions.append(Addition(article(0), "agency"))  # the first one again, by URL
    futures = [writer.submit(a) for a in additions]
    results = [f.result(timeout=60) for f in futures]

    assert [r.outcome for r in results] == ["new"] * 30 + ["duplicate"]
    assert results[-1].article_id == results[0].article_id
    assert [r.article_id for r in results[:30]] == sorted(r.article_id for r in results[:30])
    assert all(r.topics == ("reports",) for r in results[:30])
    assert stored(corpus) == 30


def test_an_article_that_cannot_be_stored_fails_alone(writer, corpus):
    futures = [writer.submit(Addition(a, "wire")) for a in (article(1), BROKEN, article(2))]

    assert futures[0].result(timeout=60).outcome == "new"
    with pytest.raises(IngestError, match="naive datetime"):
        futures[1].result(timeout=60)
    assert futures[2].result(timeout=60).outcome == "new"
    assert stored(corpus) == 2


def test_shutdown_stores_what_was_submitted(corpus):
    writer = IngestWriter(corpus)
    futures = [writer.submit(Addition(article(i), "wire")) for i in range(10)]
    writer.shutdown()
    assert all(f.done() and f.result().outcome == "new" for f in futures)
    assert stored(corpus) == 10


def test_a_batch_is_stored_whole_or_not_at_all(corpus):
    with pytest.raises(Exception, match="naive datetime"):
        corpus.add_many([Addition(article(1), "wire"), Addition(BROKEN, "wire")])
    assert stored(corpus) == 0

    results = corpus.add_many([Addition(article(1), "wire"), Addition(article(2), "wire")])
    assert [r.outcome for r in results] == ["new", "new"]
    with corpus.store.session() as session:
        queued = session.scalar(select(func.count()).select_from(OutboxRow))
    assert queued >= 1  # the topic's alerts are queued with the articles


def test_a_new_ingest_process_takes_over_from_one_that_died(writer, corpus):
    assert writer.submit(Addition(article(1), "wire")).result(timeout=60).outcome == "new"
    for pid in list(writer._pool._processes):  # the ingest process, killed as by the OOM killer
        os.kill(pid, signal.SIGKILL)

    results = [writer.submit(Addition(article(i), "wire")).result(timeout=60) for i in (1, 2)]
    assert [r.outcome for r in results] == ["duplicate", "new"]
    assert stored(corpus) == 2


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="CPU sets are Linux's")
def test_extraction_pool_has_a_process_per_core_the_daemon_may_use():
    """A container's or taskset's CPU set, not the host's core count, sizes the pool
    (at most `DEFAULT_MAX_WORKERS`: tests/test_memory.py)."""
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})
    try:
        pool = ExtractionPool()
        try:
            assert pool.workers == 1
            pool.started.result(timeout=60)
        finally:
            pool.shutdown()
    finally:
        os.sched_setaffinity(0, allowed)


def test_workers_0_extracts_in_the_ingest_process_against_its_topics(writer):
    from newswatch.corpus.analysis import extract_and_analyse
    from newswatch.corpus.processes import extraction_executor

    executor = extraction_executor(0, writer)
    writer.started.result(timeout=60)
    ingest_pid = writer.run(os.getpid).result(timeout=60)
    assert executor.submit(os.getpid).result(timeout=60) == ingest_pid != os.getpid()
    page = b"<html><body><article><h1>The report</h1><p>" + b"A report from the bureau. " * 20 + b"</p></article></body></html>"
    article, analysis = executor.submit(extract_and_analyse, page, "https://news.example/r.html",
                                        "text/html", "wire").result(timeout=60)
    assert [m.topic.name for m in analysis.matches] == ["reports"]
