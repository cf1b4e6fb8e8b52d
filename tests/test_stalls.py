"""Stalls (issue 15): a page whose extraction never ends, a huge feed, a listing of
endless entries. None of them holds up the daemon: each page has an extraction
deadline, listings are parsed off the reactor's thread, and a listing's entries are
capped."""
from __future__ import annotations

import re
import signal
import sqlite3
import time
import urllib.error
import urllib.request
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from support.mailservers import free_port, wait_for
from support.newssite import NewsSite, manifest
from newswatch.corpus.processes import ExtractionPool, ExtractionTimeout, run_with_deadline

pytestmark = pytest.mark.one_backend

SITE = Path(__file__).resolve().parent / "site"
ARTICLES = manifest()


def rss(entries: list[str]) -> str:
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{"".join(entries)}</channel></rss>'


def statuses(newswatch) -> dict:
    import json

    done = newswatch("status", "--json")
    assert done.returncode == 0, done.stderr
    return {s["name"]: s for s in json.loads(done.stdout)["sources"]}


def test_a_page_past_its_extraction_deadline_is_counted_failed(newswatch):
    """A real-looking article drowned in 20,000 links (seconds of extraction here) with
    a 2 s deadline: counted failed with one line; the other article is stored."""
    slow = "<html><body><article><h1>Seoul weighs arms for Kyiv</h1>" + "".join(
        f'<p><a href="/a{i}">South Korea arms report {i}</a></p>' for i in range(20_000)) + "</article></body></html>"
    with NewsSite(articles=[]) as site:
        site.add_page("/slow.html", slow)
        site.add_page(ARTICLES[0]["path"], (SITE / ARTICLES[0]["path"].lstrip("/")).read_bytes())
        site.add_page("/rss.xml", rss([f"<item><link>{site.url(p)}</link></item>"
                                       for p in ("/slow.html", ARTICLES[0]["path"])]), "application/rss+xml")
        newswatch.write_config({"database": "sqlite:///nw.db", "sources": [{"name": "news", "feed": site.feed_url}],
                                "crawl": {"extract_timeout": "2s", "allow_private": True}})
        done = newswatch("run", "--once")
    assert done.returncode == 0, done.stderr
    run = statuses(newswatch)["news"]
    assert (run["new"], run["failed"]) == (1, 1), done.stderr
    assert len(re.findall(r"slow\.html: no article \(extraction took longer than 2s\)", done.stderr)) == 1, done.stderr


def test_a_worker_stuck_in_c_code_is_replaced():
    """A worker blocked in C (here `sigwait` for a signal that never comes: the deadline's
    SIGALRM handler cannot run meanwhile) is ended after the deadline and its grace, and
    the pool goes on with a new one."""
    pool = ExtractionPool(workers=1)
    try:
        pool.started.result(timeout=60)
        assert pool.submit(run_with_deadline, 5, len, "fast").result(timeout=30) == 4
        with pytest.raises(ExtractionTimeout):
            pool.submit(run_with_deadline, 0.2, time.sleep, 30).result(timeout=30)  # Python: interrupted
        stuck = pool.submit(run_with_deadline, 0.5, signal.sigwait, {signal.SIGUSR2})
        with pytest.raises(BrokenProcessPool):
            stuck.result(timeout=30)
        assert pool.submit(run_with_deadline, 5, len, "again").result(timeout=60) == 5
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def test_a_huge_feed_is_parsed_off_the_event_loop(newswatch):
    """A 10 MB feed of 30,000 entries takes feedparser about 10 s here. Parsed on the
    reactor's thread it stalled the daemon (/healthz answered 503); now /healthz answers
    200 throughout, and the entries past the cap are counted."""
    body = rss([f"<item><title>Entry {i} about arms and Seoul</title><description>"
                f"{'Some text about the news of the day. ' * 6}</description><guid>urn:x:{i}</guid></item>"
                for i in range(30_000)])
    port = free_port()
    with NewsSite(articles=[]) as site:
        site.add_page("/rss.xml", body, "application/rss+xml")
        newswatch.write_config({"database": "sqlite:///nw.db", "metrics": {"port": port},
                                "sources": [{"name": "huge", "feed": site.feed_url, "every": "1h"}],
                                "crawl": {"max_size_mb": 20, "allow_private": True}})
        daemon = newswatch.start("run")
        answers: list[int] = []

        def run_recorded() -> bool:
            answers.append(_health(port))
            with sqlite3.connect(newswatch.workdir / "nw.db") as db:
                row = db.execute("SELECT last_run_at FROM sources WHERE name = 'huge'").fetchone()
            return row is not None and row[0] is not None

        try:
            wait_for(lambda: _health(port) == 200, timeout=60)
            answers.clear()
            wait_for(run_recorded, timeout=120, interval=0.25)
        finally:
            daemon.terminate()
            _, log = daemon.communicate(timeout=30)
    assert answers and set(answers) == {200}, (answers, log)
    assert "10000 without a link, 20000 over the listing cap" in log, log


def _health(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0
