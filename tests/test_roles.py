"""`newswatch run --role`: one scheduler, two crawler workers and two notifiers, each a
real process, sharing PostgreSQL and Redis, crawl a site of 200 articles:
every article is stored once, every alert is sent once, and a crawler worker killed
mid-run loses nothing: the other takes back what it had taken, within the run. A reload
brings a running worker's spiders in line with the config's sources."""
from __future__ import annotations

import json
import signal
import subprocess
import uuid

import pytest
import redis
from sqlalchemy import func, select

from support.bigsite import KOREA_QUERY, article, big_site
from support.mailservers import wait_for
from support.newssite import NewsSite
from newswatch.store.db import open_store
from newswatch.store.models import Article, OutboxRow, SourceState

pytestmark = [pytest.mark.redis, pytest.mark.slow]

REDIS = "redis://127.0.0.1:6379"
ARTICLES = 200


@pytest.fixture
def source_name():
    """A source name no other run uses: its Redis keys (queue, seen set, due flag) are this
    test's own, on a Redis server that other test runs and `bench/scale.py` share."""
    return f"bignews-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def redis_url(source_name):
    """The shared Redis server; this test's keys are deleted afterwards (not the database:
    another run may be using it)."""
    url = f"{REDIS}/0"
    server = redis.Redis.from_url(url)
    try:
        server.ping()
    except redis.ConnectionError as exc:
        pytest.skip(f"no Redis server answers at {REDIS}: {exc}")
    yield url
    keys = list(server.scan_iter(match=f"*{source_name}*"))
    if keys:
        server.delete(*keys)
    server.close()


def test_scheduler_two_workers_two_notifiers(newswatch, webhook_server, redis_url, source_name, postgres_url):
    site, korea = big_site(ARTICLES, delay=0.5)
    site_urls = {path: site.url(path) for path in korea}
    newswatch.write_config({
        "database": postgres_url,  # several notifiers: PostgreSQL (a SQLite file has one)
        "redis": redis_url,
        # One run in the test's time: what the killed worker had taken is crawled within
        # it, not by a later run.
        "sources": [{"name": source_name, "feed": site.feed_url, "every": "1h"}],
        "topics": [{"name": "korea-arms", "query": KOREA_QUERY, "notify": ["hook"]}],
        "channels": {"hook": [webhook_server.apprise_url()]},
    })
    store = open_store(postgres_url)

    def stored() -> int:
        with store.session() as session:
            return session.scalar(select(func.count()).select_from(Article))

    def pending() -> int:
        with store.session() as session:
            return session.scalar(select(func.count()).where(OutboxRow.status == "pending"))

    def recorded() -> int | None:
        """The articles of the source's last recorded run (originals and copies)."""
        with store.session() as session:
            state = session.get(SourceState, source_name)
            return state.new_count + state.duplicate_count if state else None

    roles = ["crawler", "crawler", "notifier", "notifier", "scheduler"]
    logs = [newswatch.workdir / f"{i}-{role}.log" for i, role in enumerate(roles)]

    def start(i: int) -> subprocess.Popen:  # logs to files: 200 articles' lines would fill a pipe
        return subprocess.Popen(
            newswatch.command("run", "--role", roles[i]), cwd=newswatch.workdir,
            env=newswatch.env, stdout=subprocess.DEVNULL, stderr=logs[i].open("w"))

    def crawled(i: int) -> int:
        return logs[i].read_text().count(f"crawler.pipelines: {source_name} ")  # new or duplicate

    processes = [start(0), start(1)]
    try:
        # Both workers are up before the scheduler says the source is due.
        wait_for(lambda: all("newswatch running" in logs[i].read_text() for i in (0, 1)), timeout=60)
        processes += [start(i) for i in (2, 3, 4)]
        wait_for(lambda: crawled(0) >= 3, timeout=90)
        killed = processes[0]
        killed.kill()  # kill -9 a crawler worker in the middle of the run
        killed.wait()
        assert stored() < ARTICLES, "the crawl ended before the worker was killed"

        # The surviving worker finishes the run alone, against a deliberately slow site, on
        # a shared 2-core machine: the deadline is generous, the check exact.
        try:
            wait_for(lambda: stored() == ARTICLES and pending() == 0 and webhook_server.posts,
                     timeout=300)
        except AssertionError:
            raise AssertionError(
                f"{stored()} of {ARTICLES} articles stored, {pending()} alerts pending, "
                f"{len(webhook_server.posts)} posts; logs: "
                f"{[log.read_text()[-1500:] for log in logs]}"
            ) from None
        assert "go back to the queue (it stopped answering)" in logs[1].read_text()
        # The run is over: an idle worker records it (for `newswatch status`).
        wait_for(lambda: recorded() == ARTICLES, timeout=30)
        for process in processes[1:]:
            process.send_signal(signal.SIGTERM)
        for process in processes[1:]:
            process.wait(timeout=30)
        assert [p.returncode for p in processes[1:]] == [0] * 4, [log.read_text()[-2000:] for log in logs]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        site.stop()

    # The run's record, for `newswatch status`: every article it stored (the site's
    # templated pages are mostly near-copies of each other: new or duplicate).
    status = json.loads(newswatch("status", "--json").stdout)
    (row,) = [s for s in status["sources"] if s["name"] == source_name]
    assert row["new"] + row["duplicate"] == ARTICLES and row["failed"] == 0, row
    assert row["last_run"] is not None and row["last_error"] is None, row

    with store.session() as session:
        urls = session.scalars(select(Article.url)).all()
        alerts = session.scalars(select(OutboxRow.status)).all()
        korea_stories = set(session.scalars(select(Article.story_id).where(
            Article.url.in_([site_urls[path] for path in korea]))))
    store.close()
    assert len(urls) == len(set(urls)) == ARTICLES  # every article stored once
    # Every alert sent once: one per story of the Korea articles (stories group reports of
    # one event), each row sent, one post each.
    assert set(alerts) == {"sent"} and len(alerts) == len(korea_stories)
    assert len(webhook_server.posts) == len(alerts)
    # Both workers crawled: the killed one before it died, the other to the end.
    assert crawled(1) > 0  # the other worker crawled too


def test_a_source_broken_under_crawler_workers_is_reported_once(newswatch, webhook_server, redis_url,
                                                                source_name, postgres_url):
    site, _ = big_site(3)
    site.set_response("/rss.xml", 404, b"gone")
    newswatch.write_config({
        "database": postgres_url,
        "redis": redis_url,
        "sources": [{"name": source_name, "feed": site.feed_url, "every": "2s"}],
        "channels": {"ops": [webhook_server.apprise_url()]},
        "health": ["ops"],
    })
    processes = [newswatch.start("run", "--role", role) for role in ("crawler", "notifier", "scheduler")]
    notice = f"[newswatch] source broken: {source_name}"
    try:
        # Each run is recorded by the worker that finds it over; the third failure in a
        # row makes the source broken, and the notifier sends the one notice.
        wait_for(lambda: any(p.get("title") == notice for _, _, p in webhook_server.posts), timeout=120)
        status = json.loads(newswatch("status", "--json").stdout)
        (row,) = [s for s in status["sources"] if s["name"] == source_name]
        assert row["failures_in_row"] >= 3 and row["broken_since"] and "404" in row["last_error"], row
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.communicate(timeout=30)
        site.stop()
    assert [p.get("title") for _, _, p in webhook_server.posts] == [notice]


@pytest.mark.one_backend  # one process writes: SQLite; the subject is the crawler worker's spiders
def test_a_crawler_worker_follows_the_sources_of_a_reloaded_config(newswatch, webhook_server, redis_url,
                                                                   source_name):
    """Sources added, changed and removed by `newswatch reload` (SIGHUP) reach a running
    scheduler and crawler worker: an added source's articles are stored and alert; a
    changed source's spider restarts mid-run with its new definition and the run loses
    nothing; a removed source's spider is gone."""
    a, b = f"{source_name}-a", f"{source_name}-b"
    site_a, _ = big_site(3)
    site_b = NewsSite(articles=[]).start()
    b_paths = []
    for n in range(101, 111):  # 110 is about Korea; pages slow enough to reload mid-run
        path, title, html, _ = article(n)
        site_b.set_response(path, 200, html.encode(), delay=0.5)
        site_b.add_feed_item(path, title)
        b_paths.append(path)
    config = {
        "redis": redis_url,
        "sources": [{"name": a, "feed": site_a.feed_url, "every": "1h"}],
        "topics": [{"name": "korea-arms", "query": KOREA_QUERY, "notify": ["hook"]}],
        "channels": {"hook": [webhook_server.apprise_url()]},
    }
    newswatch.write_config(config)
    store = open_store(newswatch.database_url)
    server = redis.Redis.from_url(redis_url)
    logs = {role: newswatch.workdir / f"{role}.log" for role in ("crawler", "scheduler")}
    processes = {}

    def start(role: str) -> None:
        processes[role] = subprocess.Popen(
            newswatch.command("run", "--role", role), cwd=newswatch.workdir, env=newswatch.env,
            stdout=subprocess.DEVNULL, stderr=logs[role].open("w"))
        wait_for(lambda: "newswatch running" in logs[role].read_text(), timeout=60)

    def reload(sources: list[dict]) -> None:
        newswatch.write_config({**config, "sources": sources})
        for process in processes.values():
            process.send_signal(signal.SIGHUP)

    def worker_log(text: str) -> int:
        return logs["crawler"].read_text().count(text)

    def stored(source: str) -> list[str]:
        with store.session() as session:
            return session.scalars(select(Article.url).where(Article.source == source)).all()

    def b_alerted() -> bool:
        with store.session() as session:
            return bool(session.scalar(select(func.count()).select_from(OutboxRow).join(
                Article, OutboxRow.story_id == Article.story_id).where(
                Article.url == site_b.url(b_paths[-1]), OutboxRow.topic == "korea-arms")))

    def settle(condition, timeout: float):
        try:
            return wait_for(condition, timeout=timeout)
        except AssertionError:
            raise AssertionError({role: log.read_text()[-3000:] for role, log in logs.items()}) from None

    try:
        start("crawler")  # one at a time: each migrates the SQLite database when it opens it
        start("scheduler")
        settle(lambda: len(stored(a)) == 3, timeout=20)

        # B added: the scheduler marks it due, and the worker has a spider to take it.
        reload([*config["sources"], {"name": b, "feed": site_b.feed_url, "every": "2s"}])
        settle(lambda: worker_log(f"source {b}: spider started") == 1, timeout=10)
        settle(lambda: len(stored(b)) >= 2, timeout=20)
        assert len(stored(b)) < len(b_paths), "B's run ended before it changed"

        # B changed in the middle of its run (a header for its site), A removed: B's
        # spider restarts with its new definition, what it had taken goes back and the
        # run loses nothing; A's spider stops.
        reload([{"name": b, "feed": site_b.feed_url, "every": "2s", "headers": {"X-Reloaded": "yes"}}])
        settle(lambda: worker_log(f"source {b}: spider started") == 2, timeout=15)
        assert worker_log(f"source {a}: spider stopped (its source is gone") == 1
        assert worker_log(f"source {b}: spider stopped (its source changed") == 1
        settle(lambda: sorted(stored(b)) == sorted(site_b.url(p) for p in b_paths) and b_alerted(),
               timeout=30)
        assert any(r.headers.get("x-reloaded") == "yes" for r in site_b.requests)

        # A's spider is gone: its due key stays untaken while B's spider runs twice more.
        server.set(f"newswatch:due:feed:{a}", "1")
        runs = worker_log(f"source {b}: run over")
        settle(lambda: worker_log(f"source {b}: run over") >= runs + 2, timeout=15)
        assert server.exists(f"newswatch:due:feed:{a}")

        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for process in processes.values():
            process.wait(timeout=20)
        assert [p.returncode for p in processes.values()] == [0, 0], {r: l.read_text()[-2000:] for r, l in logs.items()}
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
        store.close()
        server.close()
        site_a.stop()
        site_b.stop()
