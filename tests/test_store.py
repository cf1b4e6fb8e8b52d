"""The store on SQLite and PostgreSQL: the same migrations, and writers in several
processes at once (crawler workers adding the same article, notifiers draining one outbox)
that never store an article twice nor send an alert twice.

Every test here takes `database_url`, so it runs on the backend of the run
(`NEWSWATCH_TEST_DATABASE=postgres` for PostgreSQL); the `postgres_url` ones run on
PostgreSQL always.
"""
from __future__ import annotations

import multiprocessing
import os
import random
import signal
import threading
from collections import Counter
from datetime import datetime, timezone

from sqlalchemy import func, inspect, select

from support.mailservers import wait_for
from newswatch.alerts.delivery import build_channel, register_console
from newswatch.alerts.matcher import Topic
from newswatch.alerts.notifier import _claim, drain
from newswatch.alerts.query import parse
from newswatch.corpus.extract import Article
from newswatch.corpus.ingest import Corpus
from newswatch.store import dialects
from newswatch.store.db import MIGRATIONS, head_revision, open_store
from newswatch.store.models import Article as StoredArticle
from newswatch.store.models import ArticleURL, OutboxRow, Story, TermCount

WORKERS = 4

ARTICLE = Article(
    url="https://news.example/world/2026/11/seoul-approves-arms.html?utm_source=feed",
    canonical_url="https://news.example/world/2026/11/seoul-approves-arms.html",
    title="Seoul approves arms package for Ukraine",
    text="South Korea approved its first package of arms for Ukraine on Monday, officials said.",
    published=None,
    language="en",
    author=None,
)
TOPICS = (Topic("korea-arms", parse("South Korea Ukraine arms"), ("desk", "hook")),)


def spawn(target, *args) -> list:
    """Run `target(barrier, *args)` in WORKERS fresh processes that start their real work
    at the same moment; returns their results."""
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier, results = manager.Barrier(WORKERS), manager.list()
        workers = [context.Process(target=target, args=(barrier, results, *args)) for _ in range(WORKERS)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        assert [w.exitcode for w in workers] == [0] * WORKERS
        return list(results)


def add_article(barrier, results, url: str) -> None:
    store = open_store(url, migrate=False)
    corpus = Corpus(store, TOPICS)
    barrier.wait()
    results.append(corpus.add(ARTICLE, "wire", via=[ARTICLE.url]).outcome)
    store.close()


def drain_outbox(barrier, results, url: str, hook: str) -> None:
    register_console()
    store = open_store(url, migrate=False)
    channels = {"hook": build_channel("hook", [hook])}
    barrier.wait()
    results.append(drain(store, channels).sent)
    store.close()


def test_migrations_build_the_models_schema(database_url):
    store = open_store(database_url)
    tables = set(inspect(store.engine).get_table_names())
    store.close()
    assert {"articles", "article_urls", "stories", "matches", "outbox", "sources"} <= tables


def alembic_config(connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def test_the_head_revision_read_from_file_names_is_alembics_head():
    from alembic.script import ScriptDirectory

    assert head_revision() == ScriptDirectory.from_config(alembic_config(None)).get_current_head()


def test_a_database_behind_the_newest_migration_is_brought_to_it(database_url):
    from alembic import command

    store = open_store(database_url)
    with store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "-1")
    assert "article_vectors" not in inspect(store.engine).get_table_names()
    store.close()
    store = open_store(database_url)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all() == [head_revision()]
    assert "article_vectors" in inspect(store.engine).get_table_names()
    store.close()


def test_count_up_adds_one_per_key_and_starts_new_keys_at_one(database_url):
    """The dialects' one-statement counter (story terms' document counts)."""
    store = open_store(database_url)
    try:
        for keys in ([1, 2], [2, 3, -2**31], []):
            with store.session() as session:
                db = session.connection()
                dialects.of(db).count_up(db, TermCount.term_key, TermCount.documents, keys)
        with store.session() as session:
            counted = dict(session.execute(select(TermCount.term_key, TermCount.documents)).all())
        assert counted == {1: 1, 2: 2, 3: 1, -2**31: 1}
    finally:
        store.close()


def test_one_article_added_by_several_processes_at_once_is_stored_once(database_url):
    open_store(database_url).close()

    outcomes = spawn(add_article, database_url)

    assert Counter(outcomes) == {"new": 1, "duplicate": WORKERS - 1}
    store = open_store(database_url)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(StoredArticle)) == 1
        assert session.scalar(select(func.count()).select_from(Story)) == 1
        assert session.scalar(select(func.count()).select_from(ArticleURL)) == 1
        assert sorted(session.scalars(select(OutboxRow.channel))) == ["desk", "hook"]
    store.close()


VOCABULARY = ("harbour budget river council bridge school market winter harvest museum "
              "railway library festival hospital stadium tunnel orchard bakery ferry canal "
              "airport theatre garden factory reservoir vineyard quarry lighthouse").split()


def outbox_rows(store, stories: int) -> None:
    """`stories` unrelated reports (no shared names or figures, different words: different
    stories, no near-duplicates), each with its alert for channel "hook"."""
    corpus = Corpus(store, (Topic("reports", parse("report"), ("hook",)),))
    rng = random.Random(7)
    for i in range(stories):
        url = f"https://news.example/local/{i}.html"
        text = " ".join(f"the {' '.join(rng.sample(VOCABULARY, 6))} report." for _ in range(8))
        corpus.add(Article(url, url, f"report on the {rng.choice(VOCABULARY)}", text, None, "en", None), "wire")


def test_notifiers_in_several_processes_send_each_alert_once(postgres_url, webhook_server):
    database_url = postgres_url  # several notifiers: PostgreSQL (SQLite has one notifier)
    store = open_store(database_url)
    outbox_rows(store, 40)

    sent = spawn(drain_outbox, database_url, webhook_server.apprise_url())

    assert sum(sent) == 40
    assert len(webhook_server.posts) == 40
    with store.session() as session:
        assert set(session.scalars(select(OutboxRow.status))) == {"sent"}
    store.close()


def claim_and_hang(url: str, claimed) -> None:
    """A notifier that claims every due row, then hangs mid-delivery (until killed)."""
    store = open_store(url, migrate=False)
    with store.engine.connect() as claims:
        rows = _claim(claims, datetime.now(timezone.utc), ignore_backoff=False,
                      digest_topics=(), only=None)
        claimed.put(len(rows))
        threading.Event().wait()


def test_a_notifier_killed_mid_delivery_hands_its_rows_back_at_once(postgres_url, webhook_server):
    store = open_store(postgres_url)
    outbox_rows(store, 3)
    channels = {"hook": build_channel("hook", [webhook_server.apprise_url()])}
    context = multiprocessing.get_context("spawn")
    claimed = context.Queue()
    notifier = context.Process(target=claim_and_hang, args=(postgres_url, claimed))
    notifier.start()
    try:
        assert claimed.get(timeout=60) == 3
        assert drain(store, channels).sent == 0, "rows another notifier holds are not taken"
    finally:
        os.kill(notifier.pid, signal.SIGKILL)
        notifier.join(timeout=30)

    sent = []
    wait_for(lambda: sent.append(drain(store, channels).sent) or sum(sent) == 3, timeout=30)
    assert len(webhook_server.posts) == 3
    with store.session() as session:
        assert set(session.scalars(select(OutboxRow.status))) == {"sent"}
    store.close()


def test_postgres_url_is_a_fresh_migrated_database(postgres_url):
    store = open_store(postgres_url, migrate=False)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(StoredArticle)) == 0
        assert store.engine.dialect.name == "postgresql"
    store.close()


def first_start(barrier, results, url: str) -> None:
    barrier.wait()
    open_store(url).close()
    results.append("ok")


def test_processes_starting_at_once_on_an_empty_database_migrate_it_once(postgres_server):
    name = postgres_server.create(template="template1")  # empty: no schema yet
    try:
        assert spawn(first_start, postgres_server.url(name)) == ["ok"] * WORKERS
    finally:
        postgres_server.drop(name)
