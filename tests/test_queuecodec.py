"""The crawl queue in Redis holds JSON, never pickles (issue 15): an entry someone pushed
there runs no code in a crawler worker; it is dropped with a log line."""
from __future__ import annotations

import logging
import pickle
import uuid
from types import SimpleNamespace

import pytest
import redis
import scrapy

from newswatch.crawler.distributed import LeasedQueue, queue_key
from newswatch.crawler.queuecodec import BadQueueEntry, decode, encode
from newswatch.crawler.sources import Source
from newswatch.crawler.spiders.feed import FeedSpider

REDIS = "redis://127.0.0.1:6379/0"


class Touch:
    """Unpickling this creates a file: code run by whoever unpickles it."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.fixture
def spider():
    source = Source(f"codec-{uuid.uuid4().hex[:8]}", "feed", "https://news.example/rss.xml")
    spider = FeedSpider(source=source, context=SimpleNamespace(corpus=SimpleNamespace(known=lambda url: False)))
    spider.crawler = SimpleNamespace(settings={"NEWSWATCH_WORKER": "w1"})
    return spider


@pytest.fixture
def server(spider):
    server = redis.Redis.from_url(REDIS)
    try:
        server.ping()
    except redis.ConnectionError as exc:
        pytest.skip(f"no Redis server answers at {REDIS}: {exc}")
    yield server
    keys = list(server.scan_iter(match=f"*{spider.source.name}*"))
    if keys:
        server.delete(*keys)


@pytest.mark.redis
def test_a_pickle_pushed_into_the_queue_runs_no_code_and_is_dropped(spider, server, tmp_path, caplog):
    queue = LeasedQueue(server, spider, queue_key("%(spider)s"))
    queue.push(scrapy.Request(
        "https://news.example/a.html", callback=spider.parse_article, errback=spider.article_failed,
        cb_kwargs={"via": "https://news.example/a.html"}))
    marker = tmp_path / "pwned"
    server.lpush(queue.key, pickle.dumps(Touch(marker)))  # newest: popped last (FIFO)
    server.rpush(queue.key, pickle.dumps(Touch(marker)))  # oldest: popped first

    with caplog.at_level(logging.WARNING, logger="newswatch.crawler.distributed"):
        first, second = queue.pop(), queue.pop()

    assert not marker.exists()
    assert (first.url, first.callback, first.errback, first.cb_kwargs) == (
        "https://news.example/a.html", spider.parse_article, spider.article_failed,
        {"via": "https://news.example/a.html"})
    assert second is None and len(queue) == 0
    dropped = [r.getMessage() for r in caplog.records if "dropped an entry" in r.getMessage()]
    assert len(dropped) == 2 and "not JSON" in dropped[0], dropped


def test_a_request_survives_the_queue(spider):
    request = scrapy.Request("https://news.example/feed.xml", callback=spider.parse_feed,
                             errback=spider.source_failed, headers={"If-None-Match": '"x1"'},
                             meta={"conditional": True, "handle_httpstatus_list": [304]},
                             dont_filter=True, priority=3)
    back = decode(encode(request, spider), spider)
    assert (back.url, back.callback, back.errback, back.headers.getlist("If-None-Match"), back.meta,
            back.dont_filter, back.priority) == (
        request.url, spider.parse_feed, spider.source_failed, [b'"x1"'], request.meta, True, 3)


@pytest.mark.parametrize("entry, problem", [
    (b"\x80\x04K\x01.", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"url": "gopher://x/"}', "not an http(s) URL"),
    (b'{"url": "https://x/", "callback": "close"}', "callback 'close' is not one of the spider's"),
    (b'{"url": "https://x/", "errback": "__init__"}', "errback '__init__' is not one of the spider's"),
    (b'{"url": "https://x/", "_class": "os.system", "callback": "_start_run"}', "callback '_start_run'"),
    (b'{"url": "https://x/", "method": "POST"}', "method 'POST'"),
    (b'{"url": "https://x/", "meta": {"a": {"b": [1, {"c": null}]}}, "headers": {"A": "b"}}', "headers"),
])
def test_entries_that_are_not_our_requests_are_refused(spider, entry, problem):
    with pytest.raises(BadQueueEntry, match=problem.replace("(", r"\(").replace(")", r"\)")):
        decode(entry, spider)
