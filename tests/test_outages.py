"""PostgreSQL and Redis going away (issue 21), on a PostgreSQL cluster and a Redis server
of the test's own (tests/support/ownservers.py).

Under a distributed run (one scheduler, one crawler worker and one notifier, each a
process), each stopped and started again while articles arrive through a feed: every
article is alerted once, no process exits, and each process that met an outage logged it
as one pair of lines (no tracebacks). And a message a service accepted just as the
database went away is recorded when it is back: sent once."""
from __future__ import annotations

import logging
import re
import signal
import subprocess
import threading
import urllib.error
import urllib.request

import pytest
from sqlalchemy import func, select

from support.bigsite import KOREA_QUERY, article
from support.mailservers import free_port, wait_for
from support.newssite import NewsSite
from support.ownservers import postgres, redis_server  # noqa: F401  (fixtures)
from newswatch.alerts.delivery import build_channel
from newswatch.alerts.health import enqueue_notice
from newswatch.alerts.notifier import drain
from newswatch.store.db import open_store
from newswatch.store.models import Article, OutboxRow

pytestmark = pytest.mark.slow

BATCH = 10  # articles added to the feed before and during each outage


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _healthz(port: int) -> tuple[int, str]:
    return _get(port, "/healthz")


def test_roles_ride_out_database_and_redis_outages(newswatch, webhook_server, postgres, redis_server):  # noqa: F811
    site = NewsSite(articles=[]).start()
    added: list[str] = []

    def add_articles(count: int, delay: float) -> list[str]:
        """`count` new articles in the feed, each page served after `delay` seconds."""
        paths = []
        for n in range(len(added) + 1, len(added) + count + 1):
            path, title, html, _ = article(n)
            site.set_response(path, 200, html.encode(), delay=delay)
            site.add_feed_item(path, title)
            paths.append(path)
        added.extend(paths)
        return paths

    def requested(paths: list[str]) -> int:
        return sum(site.count(path) > 0 for path in paths)

    config = {
        "database": postgres.url,
        "redis": redis_server.url,
        "sources": [{"name": "bignews", "feed": site.feed_url, "every": "3s"}],
        "topics": [{"name": "korea-arms", "query": KOREA_QUERY, "notify": ["hook"]}],
        "channels": {"hook": [webhook_server.apprise_url()]},
    }
    roles = ["crawler", "notifier", "scheduler"]
    ports = {role: free_port() for role in roles}  # each role's /healthz
    logs = {role: newswatch.workdir / f"{role}.log" for role in roles}
    processes = {}
    for role in roles:
        newswatch.config = newswatch.workdir / f"{role}.yaml"
        newswatch.write_config({**config, "metrics": {"port": ports[role]}})
        processes[role] = subprocess.Popen(
            newswatch.command("run", "--role", role, "--config", str(newswatch.config)),
            cwd=newswatch.workdir, env=newswatch.env, stdout=subprocess.DEVNULL,
            stderr=logs[role].open("w"))
    store = None

    def text(role: str) -> str:
        return logs[role].read_text()

    def unhealthy(role: str, server: str) -> bool:
        status, body = _healthz(ports[role])
        return status == 503 and f"{server} unreachable" in body

    def all_alerted() -> bool:
        """Every article added is stored, and every alert sent."""
        with store.session() as session:
            stored = session.scalar(select(func.count()).select_from(Article))
            pending = session.scalar(select(func.count()).where(OutboxRow.status != "sent"))
        return stored == len(added) and pending == 0

    def settle(timeout: float) -> None:
        try:
            wait_for(all_alerted, timeout=timeout)
        except AssertionError:
            raise AssertionError({role: text(role)[-2500:] for role in roles}) from None

    try:
        add_articles(BATCH, delay=0)
        wait_for(lambda: all("newswatch running" in text(r) for r in roles), timeout=60)
        store = open_store(postgres.url, migrate=False)
        settle(60)
        assert all(_healthz(ports[role]) == (200, "ok\n") for role in roles)

        # The database goes away while articles are being fetched: they are stored when
        # it is back. Meanwhile /healthz names it.
        batch = add_articles(BATCH, delay=1.5)
        wait_for(lambda: requested(batch) >= 2, timeout=30)
        postgres.stop()
        wait_for(lambda: unhealthy("notifier", "database") and unhealthy("crawler", "database")
                 and requested(batch) == len(batch), timeout=30)
        assert 'newswatch_server_unreachable{server="database"} 1.0' in _get(ports["notifier"], "/metrics")[1]
        postgres.start()
        settle(60)
        assert "not stored" not in text("crawler")

        # Then Redis, while articles are being fetched, and more arrive meanwhile; it
        # comes back empty (no persistence): the source's next run queues what it lost.
        batch = add_articles(BATCH // 2, delay=1.5)
        wait_for(lambda: requested(batch) >= 2, timeout=30)
        redis_server.stop()
        add_articles(BATCH // 2, delay=0)
        wait_for(lambda: unhealthy("crawler", "redis") and unhealthy("scheduler", "redis"), timeout=30)
        redis_server.start()
        settle(60)
        wait_for(lambda: all(_healthz(ports[role]) == (200, "ok\n") for role in roles), timeout=30)

        assert {role: p.poll() for role, p in processes.items()} == dict.fromkeys(roles)
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for process in processes.values():
            process.wait(timeout=30)
        assert [p.returncode for p in processes.values()] == [0, 0, 0]
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
        site.stop()

    with store.session() as session:
        urls = session.scalars(select(Article.url)).all()
        korea_stories = set(session.scalars(select(Article.story_id).where(
            Article.title.contains("South Korea"))))
        alerts = session.scalars(select(OutboxRow.status)).all()
    store.close()
    assert len(urls) == len(set(urls)) == len(added)  # every article stored once
    # Every alert sent once: one per story of the Korea articles, one post each.
    assert set(alerts) == {"sent"} and len(alerts) == len(korea_stories)
    assert len(webhook_server.posts) == len(alerts)

    # Each outage a process met: one WARNING when it started, one INFO when it ended.
    met = {"crawler": ("database", "redis"), "notifier": ("database",), "scheduler": ("redis",)}
    for role in roles:
        log = text(role)
        assert "Traceback" not in log, (role, log[-3000:])
        for server in ("database", "redis"):
            started = re.findall(rf"WARNING \S+: {server} unreachable: .*; retrying", log)
            ended = re.findall(rf"INFO \S+: {server} reachable again after [\d.]+s", log)
            assert len(started) == len(ended) == 1 if server in met[role] else len(started) == len(ended) <= 1, (
                role, server, started, ended)


def test_a_send_that_straddles_a_database_outage_is_recorded_once_it_is_back(
        postgres, webhook_server, caplog):  # noqa: F811  (fixture)
    store = open_store(postgres.url)
    with store.session() as session:
        enqueue_notice(session, ["hook"], "source broken: bignews", "three failed runs")
    channels = {"hook": build_channel("hook", [webhook_server.apprise_url()])}
    webhook_server.delay = 2.0  # the service answers after the database went away
    caplog.set_level(logging.INFO, logger="newswatch.store.availability")

    def database_away_then_back() -> None:
        wait_for(lambda: webhook_server.posts, timeout=30)
        postgres.stop()
        wait_for(lambda: "database unreachable" in caplog.text, timeout=30)
        postgres.start()

    outage = threading.Thread(target=database_away_then_back)
    outage.start()
    try:
        result = drain(store, channels)
    finally:
        outage.join()
    assert (result.sent, result.failed) == (1, 0)
    webhook_server.delay = 0.0
    assert drain(store, channels).sent == 0  # nothing left to send: it went out once
    assert len(webhook_server.posts) == 1
    with store.session() as session:
        assert session.scalars(select(OutboxRow.status)).all() == ["sent"]
    store.close()
    assert "database reachable again" in caplog.text
