"""Changing the config of a running daemon: `newswatch reload` (SIGHUP through the pid file
next to the database) takes a new topic at once; a config that does not validate is
refused, logged, and the running one stays. The daemon runs as a user runs it, in a
subprocess, against the local news site and webhook endpoint."""
from __future__ import annotations

import signal
import threading

import pytest
import yaml

from support.mailservers import wait_for
from support.newssite import TOPIC_QUERIES, NewsSite, manifest

pytestmark = pytest.mark.one_backend

ARTICLES = manifest()
KOREA = [a for a in ARTICLES if "korea-arms" in a["topics"]]


def alerted(webhook_server, topic: str) -> list[str]:
    """The article paths of `topic`'s alerts received so far."""
    texts = [f"{payload.get('title', '')}\n{payload.get('message', '')}" for _p, _h, payload in webhook_server.posts]
    return [a["path"] for text in texts if f"[newswatch] {topic}:" in text for a in ARTICLES if a["path"] in text]


class Lines:
    """A running process's stderr, read as it comes."""

    def __init__(self, stream):
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(iter(stream.readline, "")), daemon=True).start()

    def having(self, text: str) -> list[str]:
        return [line for line in self.lines if text in line]


def test_reload_takes_a_new_topic_and_refuses_a_broken_config(newswatch, webhook_server):
    site = NewsSite(articles=[a for a in ARTICLES if a not in KOREA]).start()
    config = {
        "crawl": {"allow_private": True},
        "sources": [{"name": "meridian", "feed": site.feed_url, "every": "1s"}],
        "topics": [{"name": "wildfire", "query": TOPIC_QUERIES["wildfire"], "notify": ["hook"]}],
        "channels": {"hook": [webhook_server.apprise_url()]},
    }
    newswatch.write_config(config)
    daemon = newswatch.start("run")
    log = Lines(daemon.stderr)
    try:
        wildfire = [a["path"] for a in ARTICLES if "wildfire" in a["topics"]]
        wait_for(lambda: set(alerted(webhook_server, "wildfire")) >= set(wildfire), timeout=60)

        config["topics"].append({"name": "korea-arms", "query": TOPIC_QUERIES["korea-arms"], "notify": ["hook"]})
        newswatch.write_config(config)
        done = newswatch("reload")
        assert done.returncode == 0, done.stderr
        wait_for(lambda: log.having("config reloaded: 1 sources, 2 topics"), timeout=30)
        site.add_feed_item(KOREA[0]["path"], KOREA[0]["title"])
        wait_for(lambda: alerted(webhook_server, "korea-arms") == [KOREA[0]["path"]], timeout=60)

        # A broken config: `reload` says why and sends nothing; SIGHUP itself is refused
        # in the log, and the daemon goes on with the config it has.
        config["topics"][1]["query"] = "South Korea AND (arms"
        newswatch.write_config(config)
        done = newswatch("reload")
        assert done.returncode == 2 and "topics[1]" in done.stderr, done.stderr
        daemon.send_signal(signal.SIGHUP)
        refused = wait_for(lambda: log.having("config not reloaded (the running one stays in force)"), timeout=30)
        assert len(refused) == 1
        wait_for(lambda: log.having("topics[1]"), timeout=5)
        site.add_feed_item(KOREA[1]["path"], KOREA[1]["title"])
        wait_for(lambda: alerted(webhook_server, "korea-arms") == [KOREA[0]["path"], KOREA[1]["path"]],
                 timeout=60)
        assert daemon.poll() is None

        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)
        assert daemon.returncode == 0, "".join(log.lines)
        assert not list(newswatch.workdir.glob("*.pid"))  # the pid file goes with the daemon
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        site.stop()


def test_reload_without_a_running_daemon_says_so(newswatch):
    newswatch.write_config({"sources": []})
    done = newswatch("reload")
    assert done.returncode == 1
    assert "no pid file (is `newswatch run` running with this config?)" in done.stderr
    assert yaml.safe_load(newswatch.config.read_text())["sources"] == []


SOURCES = """
sources:
  - {name: kept, feed: "https://kept.example/rss.xml", every: 15m}
  - {name: changed, feed: "https://changed.example/rss.xml", every: 15m}
  - {name: removed, feed: "https://removed.example/rss.xml"}
  - {name: disabled, feed: "https://disabled.example/rss.xml", enabled: false}
"""
RELOADED = """
sources:
  - {name: kept, feed: "https://kept.example/rss.xml", every: 15m}
  - {name: changed, feed: "https://changed.example/rss.xml", every: 5m}
  - {name: disabled, feed: "https://disabled.example/rss.xml"}
  - {name: added, sitemap: "https://added.example/news-sitemap.xml"}
"""


def test_reload_replaces_the_jobs_of_new_changed_and_removed_sources_only(tmp_path):
    import asyncio
    from types import SimpleNamespace

    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from newswatch.jobs.config import load_config
    from newswatch.jobs.roles import ALL

    def config(text: str):
        (tmp_path / "newswatch.yaml").write_text(f"database: sqlite:///{tmp_path / 'nw.db'}\n{text}")
        return load_config(tmp_path / "newswatch.yaml")

    async def main():
        async def job(*_args):  # never run: the scheduler stays paused
            raise AssertionError("ran")

        app = SimpleNamespace(config=config(SOURCES), role=ALL, deliver=job, digest=job, retain=job)
        scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop())
        ALL.start(app, scheduler, asyncio.Event())
        scheduler.start(paused=True)
        before = {job.id: job for job in scheduler.get_jobs()}
        old, app.config = app.config, config(RELOADED)
        ALL.reload(app, scheduler, old)
        after = {job.id: job for job in scheduler.get_jobs()}
        scheduler.shutdown(wait=False)
        return before, after

    before, after = asyncio.run(main())
    assert sorted(after) == ["crawl:added", "crawl:changed", "crawl:disabled", "crawl:kept", "outbox"]
    assert "crawl:removed" in before and "crawl:disabled" not in before
    assert after["crawl:kept"].next_run_time == before["crawl:kept"].next_run_time  # its rhythm kept
    assert after["crawl:kept"].args == before["crawl:kept"].args
    assert after["crawl:changed"].trigger.interval.total_seconds() == 300
    assert after["crawl:added"].args[0].kind == "sitemap"
