"""Benchmark: the outbox's cost per alert over a bare Apprise send.

Workload: 300 stories (2 articles each, one topic) queued for one channel of two json://
webhook URLs on a local HTTP server (tests/mailservers.py's WebhookCatcher), in a
SQLite store in a temporary folder. Measured in the same run:

- baseline: the 600 rendered messages sent with `deliver` alone (Apprise, no database);
- drain: `drain()` of the 300 rows (claim, render per URL, send, per-URL commit, finish);
- digest: the same 300 rows folded by `release_digest` and sent as digests
  (cut at the endpoint's length limit, so several messages).

Prints alerts per second for each, the ratio drain/baseline (time per alert), and as its
last line one JSON object of the figures.

    .venv/bin/python -m bench.outbox_drain
"""
from __future__ import annotations

import json
import tempfile
import time
from datetime import datetime, timezone


from tests.support.mailservers import WebhookCatcher

from newswatch.alerts.delivery import build_channel, deliver  # noqa: E402
from newswatch.alerts.matcher import Topic, TopicMatch  # noqa: E402
from newswatch.alerts.notifier import drain, story_items  # noqa: E402
from newswatch.alerts.outbox import enqueue, release_digest  # noqa: E402
from newswatch.alerts.query import parse  # noqa: E402
from newswatch.alerts.render import render  # noqa: E402
from newswatch.store.db import open_store  # noqa: E402
from newswatch.store.models import Article, Match, OutboxRow, Story  # noqa: E402

STORIES = 300
TEXT = "South Korea is weighing arms shipments to Ukraine, officials in Seoul said on Monday."


def fill(store) -> None:
    topic = Topic("korea-arms", parse("arms"), ("hook",))
    with store.session() as session:
        for n in range(STORIES):
            story = Story(title=f"Story {n}")
            session.add(story)
            session.flush()
            for a in range(2):
                article = Article(story_id=story.id, source=f"src-{a}", url=f"https://e.com/{n}/{a}",
                                  canonical_url=f"https://e.com/{n}/{a}", title=f"Story {n} report {a}",
                                  text=TEXT, published=datetime.now(timezone.utc), content_hash=f"{n}-{a}")
                session.add(article)
                session.flush()
                session.add(Match(article_id=article.id, topic=topic.name, score=1.0,
                                  snippets=[{"text": TEXT, "marks": [[0, 11], [34, 38]]}]))
            enqueue(session, story.id, [TopicMatch(topic, None)])


def main() -> None:
    with WebhookCatcher() as hook, tempfile.TemporaryDirectory() as tmp:
        channel = build_channel("hook", [hook.apprise_url("/a"), hook.apprise_url("/b")])
        channels = {"hook": channel}

        store = open_store(f"sqlite:///{tmp}/bench.db")
        fill(store)
        with store.session() as session:
            stories = [story_items(session, r.story_id, r.topic) for r in session.query(OutboxRow)]
        messages = [(e, render("korea-arms", items, e.format)) for items in stories for e in channel.endpoints]
        start = time.perf_counter()
        for endpoint, message in messages:
            assert deliver(endpoint, message).ok
        baseline_s = time.perf_counter() - start

        start = time.perf_counter()
        result = drain(store, channels)
        drain_s = time.perf_counter() - start
        assert result.sent == STORIES, result
        store.close()

        store = open_store(f"sqlite:///{tmp}/digest.db")
        fill(store)
        release_digest(store, {"korea-arms"})
        posts_before = len(hook.posts)
        start = time.perf_counter()
        sent = 0
        while True:
            result = drain(store, channels, digest_topics={"korea-arms"})
            sent += result.sent
            if not result.messages:
                break
        digest_s = time.perf_counter() - start
        digest_messages = (len(hook.posts) - posts_before) // 2
        assert sent == STORIES
        store.close()

    sends = STORIES * 2
    figures = {
        "stories": STORIES,
        "urls": 2,
        "baseline_sends_per_s": round(sends / baseline_s, 1),
        "drain_sends_per_s": round(sends / drain_s, 1),
        "drain_ms_per_alert_url": round(drain_s / sends * 1000, 2),
        "baseline_ms_per_send": round(baseline_s / sends * 1000, 2),
        "drain_over_baseline": round(drain_s / baseline_s, 2),
        "digest_s": round(digest_s, 2),
        "digest_messages_per_url": digest_messages,
    }
    print(f"baseline (deliver only): {figures['baseline_sends_per_s']} sends/s "
          f"({figures['baseline_ms_per_send']} ms each)")
    print(f"drain (outbox):          {figures['drain_sends_per_s']} sends/s "
          f"({figures['drain_ms_per_alert_url']} ms each), {figures['drain_over_baseline']}x the baseline")
    print(f"digest of {STORIES} stories: {figures['digest_s']} s, "
          f"{digest_messages} message(s) per URL")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
