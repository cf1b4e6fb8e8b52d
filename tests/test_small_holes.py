"""The smaller holes of the security review (issue 15, part 8), each where a user meets
it: two commands on a new SQLite file, `extract` of a device, absurd config values, a
run where every source fails, an idle metrics client, retention, a cross-site
canonical, the crawler role's settings."""
from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from support.mailservers import free_port
from newswatch.alerts.matcher import Topic
from newswatch.alerts.query import parse
from newswatch.corpus.extract import Article, extract
from newswatch.corpus.ingest import Corpus
from newswatch.jobs.retention import forget_bodies
from newswatch.store.db import open_store
from newswatch.store.models import Article as StoredArticle
from newswatch.store.models import ArticleTerms, StoryTerm, utcnow


def test_two_commands_on_a_new_sqlite_file_both_migrate_or_wait(tmp_path):
    """Before: one of the two died on 'table ... already exists' (3 rounds in 4 here)."""
    for n in range(4):
        config = tmp_path / f"c{n}.yaml"
        config.write_text(f"database: sqlite:///{tmp_path / f'n{n}.db'}\n")
        both = [subprocess.Popen([sys.executable, "-m", "newswatch.jobs.cli", "--config", str(config),
                                  "db", "upgrade"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
        for process in both:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err


@pytest.mark.one_backend
def test_extract_of_a_device_or_huge_file_is_one_line(newswatch):
    done = newswatch("extract", "/dev/zero")
    assert (done.returncode, done.stderr.strip()) == (1, "/dev/zero: larger than 10 MB")


@pytest.mark.parametrize("key, value, problem", [
    ("query", "(" * 400 + "Kyiv" + ")" * 400, "the query is nested too deeply (more than 50 levels)"),
    ("query", "-" * 3000 + "Kyiv", "the query is nested too deeply (more than 50 levels)"),
    ("every", "99999999999999999d", "'99999999999999999d' is longer than 3660d"),
])
@pytest.mark.one_backend
def test_absurd_values_are_config_errors(newswatch, key, value, problem):
    topic = {"name": "t", "query": value if key == "query" else "Kyiv"}
    source = {"name": "s", "feed": "https://news.example/rss.xml", **({"every": value} if key == "every" else {})}
    newswatch.write_config({"sources": [source], "topics": [topic]})
    done = newswatch("check")
    assert done.returncode == 2 and problem in done.stderr and "Traceback" not in done.stderr, done.stderr
    if key == "query":
        done = newswatch("match", "--", value)
        assert done.returncode == 2 and problem in done.stderr and "Traceback" not in done.stderr


@pytest.mark.one_backend
def test_run_once_fails_when_every_source_failed_with_one_line_each(newswatch):
    """An unreachable host: one line (not robots.txt's 60-line traceback), exit 1."""
    closed = free_port()
    newswatch.write_config({"sources": [{"name": "gone", "feed": f"http://127.0.0.1:{closed}/rss.xml"}]})
    done = newswatch("run", "--once")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if f"127.0.0.1:{closed}" in line]
    assert len(lines) == 2, lines  # the feed's failure, and the run's summary naming it
    assert "source gone: 0 new" in lines[1]


def test_the_metrics_server_closes_idle_connections_quietly(tmp_path, capfd, monkeypatch):
    """/metrics and /healthz (uvicorn on an event loop): a client that sends nothing is
    closed within the keep-alive timeout, one gone mid-request is no traceback, and the
    server goes on answering."""
    from newswatch.jobs.metrics import Metrics
    from newswatch.web.app import ops_app
    from newswatch.web import server
    from newswatch.web.server import Listener

    monkeypatch.setattr(server, "IDLE_TIMEOUT_S", 0.5)
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    listener = Listener(ops_app(Metrics(store).exposition, store), "127.0.0.1", free_port(), "metrics")
    asyncio.run_coroutine_threadsafe(listener.start(), loop).result(timeout=10)
    try:
        idle = socket.create_connection(listener.address)
        idle.settimeout(30)
        started = time.monotonic()
        assert idle.recv(1) == b""  # closed by the server
        assert time.monotonic() - started < 5
        reset = socket.create_connection(listener.address)  # gone mid-request, abruptly
        reset.sendall(b"GET /metr")
        reset.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        reset.close()
        with socket.create_connection(listener.address) as client:  # still serving
            client.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
            assert client.recv(100).startswith(b"HTTP/1.1 200")
    finally:
        asyncio.run_coroutine_threadsafe(listener.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        store.close()
    assert "Traceback" not in capfd.readouterr().err


def test_retention_takes_an_articles_terms_and_index_rows_too(database_url):
    store = open_store(database_url)
    corpus = Corpus(store, (Topic("korea", parse("South Korea Ukraine arms"), ()),))
    text_ = "South Korea approved its first package of arms for Ukraine on Monday, officials said."
    old = corpus.add(Article("https://a.example/old", "https://a.example/old", "Old", text_, None, "en", None), "a")
    new = corpus.add(Article("https://a.example/new", "https://a.example/new", "New",
                             "Wildfires forced evacuations in California on Monday.", None, "en", None), "a")
    with store.session() as session:
        session.execute(update(StoredArticle).where(StoredArticle.id == old.article_id)
                        .values(first_seen=utcnow() - timedelta(days=100)))

    assert forget_bodies(store, timedelta(days=90)) == 1
    with store.session() as session:
        for table in (ArticleTerms, StoryTerm):
            left = dict(session.execute(select(table.article_id, func.count()).group_by(table.article_id)).all())
            assert old.article_id not in left and new.article_id in left, table.__tablename__
        if store.engine.dialect.name == "sqlite":
            indexed = session.scalars(text("SELECT rowid FROM article_terms_fts")).all()
            assert indexed == [new.article_id]
    store.close()


PAGE = ("<html><head><title>Seoul weighs arms</title><link rel=canonical href='{}'></head><body><article>"
        "<h1>Seoul weighs arms for Kyiv</h1>"
        + "<p>South Korea is weighing arms shipments to Ukraine, officials said on Monday in Seoul.</p>" * 5
        + "</article></body></html>")


@pytest.mark.parametrize("fetched, canonical, kept", [
    ("https://attacker.example/a", "https://victim.example/world/scoop.html", False),
    ("https://news.attacker.example/a", "https://attacker.example.evil.co.uk/scoop.html", False),
    ("https://blog.github.io/a", "https://victim.github.io/scoop.html", False),  # a public suffix
    ("https://amp.example.co.uk/a", "https://www.example.co.uk/world/scoop.html", True),
    ("https://example.com/a?amp=1", "https://www.example.com/world/scoop.html", True),
])
def test_a_canonical_url_stays_on_its_site(fetched, canonical, kept):
    article = extract(PAGE.format(canonical).encode(), fetched)
    assert article.canonical_url == (canonical if kept else fetched.split("?")[0] + ("?amp=1" if "?" in fetched else ""))


def test_the_crawler_role_gets_the_configs_crawl_settings():
    from newswatch.crawler.distributed import Worker

    worker = Worker(None, "redis://127.0.0.1:6379/0", settings={"DOWNLOAD_MAXSIZE": 1234, "DOWNLOAD_TIMEOUT": 7.0})
    assert (worker.runner.settings.getint("DOWNLOAD_MAXSIZE"), worker.runner.settings.getfloat("DOWNLOAD_TIMEOUT")) == (1234, 7.0)
