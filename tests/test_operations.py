"""Running newswatch in production: JSON logs, /metrics and /healthz, SIGTERM in the
middle of work, and retention. The daemon runs as a user runs it, in a subprocess, against
the local news site and webhook endpoint."""
from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update

from support.mailservers import free_port, wait_for
from support.newssite import manifest
from newswatch.alerts.matcher import Topic
from newswatch.alerts.query import parse
from newswatch.corpus.extract import Article
from newswatch.corpus.ingest import Corpus
from newswatch.jobs.config import ConfigError, load_config
from newswatch.jobs.daemon import STOP_TIMEOUT_S
from newswatch.jobs.metrics import Metrics
from newswatch.jobs.retention import forget_bodies
from newswatch.store.db import open_store
from newswatch.store.models import Article as StoredArticle
from newswatch.store.models import utcnow

TOPICS = {
    "korea-arms": "South Korea Ukraine arms",
    "ecb-rates": '"interest rates" ECB',
    "wildfire": "wildfire California evacuation",
}
SECRET = "s3cr3t-Pa55word"
MISSING = "/world/2026/11/page-that-is-gone.html"


def config(news_site, webhook_server, **extra) -> dict:
    return {
        "sources": [{"name": "localnews", "feed": news_site.feed_url, "every": "1h"}],
        "topics": [{"name": name, "query": query, "notify": ["hook"]} for name, query in TOPICS.items()],
        "channels": {"hook": [webhook_server.apprise_url()]},
        **extra,
    }


def expected_matches() -> Counter:
    return Counter(topic for a in manifest() for topic in a["topics"])


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


def samples(text: str) -> dict[tuple, float]:
    """{(sample name, sorted label items): value} of a Prometheus exposition."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.mark.one_backend
def test_json_logs_have_fields_and_no_secrets(newswatch, news_site, webhook_server):
    # A second URL on the channel holds a password and refuses connections: its failure is
    # logged, masked.
    cfg = config(news_site, webhook_server)
    cfg["channels"]["hook"].append(f"json://newswatch:{SECRET}@127.0.0.1:{free_port()}/hook")
    newswatch.write_config(cfg)

    done = newswatch("--log-format", "json", "run", "--once")

    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stderr
    records = [json.loads(line) for line in done.stderr.splitlines()]  # every line is JSON
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    stored = {r["url"] for r in records if r.get("source") == "localnews" and "url" in r}
    assert stored == {news_site.url(a["path"]) for a in manifest()}
    retried = {r["topic"] for r in records if r["level"] == "WARNING" and "topic" in r}
    assert retried == set(expected_matches())


@pytest.mark.one_backend
def test_text_logs_by_default(newswatch, news_site, webhook_server):
    newswatch.write_config(config(news_site, webhook_server))
    done = newswatch("run", "--once")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines and not any(line.startswith("{") for line in lines)
    assert any(" INFO newswatch.crawler.crawl: source localnews: 12 new" in line for line in lines)


@pytest.mark.slow
def test_metrics_and_health_of_a_running_daemon(newswatch, news_site, webhook_server):
    port = free_port()
    newswatch.write_config(config(news_site, webhook_server, metrics={"port": port}))
    news_site.add_feed_item(MISSING, "A page that is gone")  # a 404 among the articles
    expected = sum(expected_matches().values())
    base = f"http://127.0.0.1:{port}"

    daemon = newswatch.start("run")
    try:
        wait_for(lambda: get(f"{base}/healthz") == (200, "ok\n"), timeout=60)
        wait_for(lambda: len(webhook_server.posts) >= expected, timeout=60)
        sent = ("newswatch_outbox_rows", (("status", "sent"),))
        wait_for(lambda: samples(get(f"{base}/metrics")[1]).get(sent) == expected, timeout=30)
        figures = samples(get(f"{base}/metrics")[1])
        source = (("source", "localnews"),)

        assert figures[("newswatch_articles_total", (("outcome", "new"), *source))] == 12
        assert figures[("newswatch_articles_total", (("outcome", "duplicate"), *source))] == 0
        assert figures[("newswatch_pages_fetched_total", source)] >= 14  # feed, robots, 12 pages, the 404
        assert figures[("newswatch_fetch_errors_total", (("kind", "http_404"), *source))] >= 1
        assert figures[("newswatch_source_last_success_timestamp_seconds", source)] > time.time() - 120
        assert figures[("newswatch_outbox_rows", (("status", "pending"),))] == 0
        assert figures[("newswatch_outbox_rows", (("status", "dead"),))] == 0
        assert figures[("newswatch_alerts_total", (("outcome", "sent"),))] == expected
        assert figures[("newswatch_delivery_latency_seconds_count", ())] == expected
        for topic, count in expected_matches().items():
            assert figures[("newswatch_matches_total", (("topic", topic),))] == count
        assert get(f"{base}/nothing")[0] == 404

        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=STOP_TIMEOUT_S + 10)
        assert daemon.returncode == 0, stderr
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.communicate()
    assert get(f"{base}/healthz")[0] == 0  # the port is closed


@pytest.mark.slow
@pytest.mark.one_backend
def test_sigterm_mid_crawl_exits_in_time_and_loses_nothing(newswatch, news_site, webhook_server):
    newswatch.write_config(config(news_site, webhook_server))
    slow = [a["path"] for a in manifest()][-3:]
    for path in slow:
        news_site.set_response(path, 200, b"<html><body>late</body></html>", delay=120, times=1)

    daemon = newswatch.start("run")
    try:
        wait_for(lambda: all(news_site.count(path) for path in slow), timeout=60)
        stopped = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=STOP_TIMEOUT_S + 15)
        assert daemon.returncode == 0, stderr
        assert time.monotonic() - stopped < STOP_TIMEOUT_S + 10
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.communicate()

    # What was in flight is crawled on the next run; every alert arrives exactly once.
    again = newswatch("run", "--once")
    assert again.returncode == 0, again.stderr
    topics = Counter()
    for _path, _headers, payload in webhook_server.posts:
        topics.update(t for t in TOPICS if f"[newswatch] {t}:" in payload.get("title", "") + payload.get("message", ""))
    assert topics == expected_matches()


# --------------------------------------------------------------------------- retention


def test_retention_deletes_old_bodies_and_keeps_them_deduplicated(database_url):
    store = open_store(database_url)
    corpus = Corpus(store, (Topic("korea", parse("South Korea Ukraine arms"), ()),))
    text = "South Korea approved its first package of arms for Ukraine on Monday, officials said."
    old = corpus.add(Article("https://a.example/old", "https://a.example/old", "Old", text, None, "en", None), "a")
    new = corpus.add(Article("https://a.example/new", "https://a.example/new", "New", "Something else today.", None, "en", None), "a")
    with store.session() as session:
        session.execute(update(StoredArticle).where(StoredArticle.id == old.article_id)
                        .values(first_seen=utcnow() - timedelta(days=100)))

    assert forget_bodies(store, timedelta(days=90)) == 1
    assert forget_bodies(store, timedelta(days=90)) == 0

    with store.session() as session:
        texts = dict(session.execute(select(StoredArticle.id, StoredArticle.text)).all())
    assert texts == {old.article_id: None, new.article_id: "Something else today."}
    assert corpus.known("https://a.example/old")
    republished = corpus.add(Article("https://b.example/copy", "https://b.example/copy", "Copy", text, None, "en", None), "b")
    assert (republished.outcome, republished.story_id) == ("duplicate", old.story_id)
    store.close()


@pytest.mark.parametrize("value, problem", [
    ("90d", None),
    ("12h", "retention: retention must be at least 1d"),
    ("forever", "retention: 'forever' is not a duration"),
])
def test_retention_config(tmp_path, value, problem):
    file = tmp_path / "newswatch.yaml"
    file.write_text(f"retention: {value}\nmetrics: {{port: 9108}}\n")
    if problem is None:
        loaded = load_config(file)
        assert (loaded.retention, loaded.metrics.port, loaded.metrics.host) == (timedelta(days=90), 9108, "127.0.0.1")
    else:
        with pytest.raises(ConfigError, match=problem):
            load_config(file)


def test_a_workers_growing_stats_are_counted_once(database_url):
    # A crawler worker's spiders stay open: their stats are counted as they grow.
    store = open_store(database_url)
    metrics = Metrics(store)
    first = {"downloader/response_count": 5, "newswatch/new": 3,
             "downloader/exception_type_count/twisted.internet.error.TimeoutError": 1}
    later = {**first, "downloader/response_count": 9, "newswatch/new": 6, "newswatch/duplicate": 1,
             "downloader/response_status_count/200": 8, "downloader/response_status_count/503": 1}
    metrics.observe_crawl("wire", first)
    metrics.observe_crawl("wire", later, before=first)
    figures = samples(metrics.exposition().decode())
    store.close()
    source = (("source", "wire"),)
    assert figures[("newswatch_pages_fetched_total", source)] == 9
    assert figures[("newswatch_articles_total", (("outcome", "new"), *source))] == 6
    assert figures[("newswatch_articles_total", (("outcome", "duplicate"), *source))] == 1
    assert figures[("newswatch_fetch_errors_total", (("kind", "TimeoutError"), *source))] == 1
    assert figures[("newswatch_fetch_errors_total", (("kind", "http_503"), *source))] == 1
    assert ("newswatch_fetch_errors_total", (("kind", "http_200"), *source)) not in figures
