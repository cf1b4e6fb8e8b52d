"""The outbox against real receivers on loopback: retries, Retry-After, dead letters,
per-URL tracking, digests, quiet hours, rate limits, length limits, Slack payloads."""
from __future__ import annotations

import json
import re
import threading
from dataclasses import replace
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from support.mailservers import wait_for
from newswatch.alerts.delivery import Channel, QuietHours, build_channel, parse_retry_after
from newswatch.alerts.notifier import RetryPolicy, drain
from newswatch.alerts.outbox import enqueue, release_digest, requeue
from newswatch.alerts.matcher import Topic, TopicMatch
from newswatch.alerts.query import parse
from newswatch.store.db import open_store
from newswatch.store.models import Article, ChannelSend, Match, OutboxRow, Story
from newswatch.store.models import OutboxStatus as Status

FAST = RetryPolicy(base=timedelta(milliseconds=50), max=timedelta(milliseconds=200), jitter=0.0)
HOSTILE = "<script>alert(1)</script> Seoul & Kyiv <!channel> *arms* `x` [a](http://evil.example)"


def add_story(store, topic: str, channels: list[str], title: str = "Seoul weighs arms for Kyiv",
              articles: int = 1, url: str | None = None) -> int:
    """A story of `articles` articles matching `topic`, queued for `channels`, as ingest
    stores it (article, match and outbox rows in one transaction)."""
    text = "South Korea is weighing arms shipments to Ukraine, officials said."
    with store.session() as session:
        story = Story(title=title)
        session.add(story)
        session.flush()
        for n in range(articles):
            article = Article(
                story_id=story.id, source=f"source-{n}", url=url or f"https://news.example.com/{story.id}/{n}?a=1&b=2",
                canonical_url=f"https://news.example.com/{story.id}/{n}", title=title if n == 0 else f"{title} ({n})",
                text=text, published=datetime(2026, 11, 23, 8, 30, tzinfo=timezone.utc),
                content_hash=f"{story.id}-{n}",
            )
            session.add(article)
            session.flush()
            session.add(Match(article_id=article.id, topic=topic, score=1.0,
                              snippets=[{"text": text, "marks": [[0, 11], [34, 38], [52, 59]]}]))
        # enqueue reads the topic's name and channels only.
        enqueue(session, story.id, [TopicMatch(Topic(topic, parse("arms"), tuple(channels)), None)])
        return story.id


def rows(store) -> list[OutboxRow]:
    with store.session() as session:
        return list(session.query(OutboxRow).order_by(OutboxRow.id))


def hook_channel(name, *servers, **rules) -> dict[str, Channel]:
    channel = build_channel(name, [s.apprise_url(f"/{name}/{i}") for i, s in enumerate(servers)])
    return {name: replace(channel, **rules)}


# --------------------------------------------------------------------------- retries


def test_webhook_500_then_429_retry_after_then_200_arrives_once_after_the_wait(store, webhook_server):
    webhook_server.responses[:] = [(500, {}), (429, {"Retry-After": "1"})]
    channels = hook_channel("hook", webhook_server)
    add_story(store, "korea-arms", ["hook"])

    first = drain(store, channels, retry=FAST)
    assert (first.sent, first.failed) == (0, 1)
    asked = []  # when each drain began: the 429 came after the last one began

    def drain_until_failed() -> int:
        asked.append(datetime.now(timezone.utc))
        return drain(store, channels, retry=FAST).failed

    wait_for(drain_until_failed)  # after the 50 ms backoff: the 429
    asked_at = asked[-1]
    assert webhook_server.statuses == [500, 429]
    (row,) = rows(store)
    # The 429's Retry-After (1 s) wins over the 100 ms exponential backoff.
    assert row.next_attempt_at >= asked_at + timedelta(seconds=0.9)
    assert "retry after 1s" in row.last_error

    while drain(store, channels, retry=FAST).sent == 0:  # polls: nothing is sent early
        assert datetime.now(timezone.utc) < asked_at + timedelta(seconds=10)
    assert datetime.now(timezone.utc) >= row.next_attempt_at
    assert webhook_server.statuses == [500, 429, 200]
    (row,) = rows(store)
    assert (row.status, row.attempts, row.last_error) == (Status.SENT, 3, None)
    assert drain(store, channels, retry=FAST, ignore_backoff=True).sent == 0
    assert len(webhook_server.posts) == 3


@pytest.mark.parametrize(("header", "expected"), [
    ("7", 7.0), (" 0 ", 0.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("soon", None), (None, None),
    ("99999999", 6 * 3600.0),
])
def test_parse_retry_after(header, expected):
    assert parse_retry_after(header) == expected


def test_retry_after_as_http_date():
    now = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
    assert parse_retry_after("Mon, 23 Nov 2026 12:00:30 GMT", now=now.timestamp()) == 30.0


def test_backoff_is_exponential_capped_and_jittered():
    policy = RetryPolicy(base=timedelta(seconds=30), max=timedelta(hours=1), jitter=0.5)
    waits = [policy.delay(n) for n in range(1, 12) for _ in range(20)]
    assert all(timedelta(seconds=15) <= w <= timedelta(hours=1) for w in waits)
    assert len(set(waits)) > 100  # jitter spreads retries of many rows
    assert policy.delay(1, retry_after=600) == timedelta(seconds=600)
    exact = replace(policy, jitter=0.0)
    assert [exact.delay(n).total_seconds() for n in (1, 2, 3, 4, 8, 20)] == [30, 60, 120, 240, 3600, 3600]


def test_smtp_down_then_up_arrives_once(store, smtp_server):
    channels = {"desk": build_channel("desk", [smtp_server.apprise_url()])}
    for n in range(3):
        add_story(store, "korea-arms", ["desk"], title=f"Story {n}")
    smtp_server.stop()
    for _ in range(3):
        result = drain(store, channels, retry=FAST, ignore_backoff=True)
        assert (result.sent, result.failed) == (0, 3)
    assert all(r.status == Status.PENDING and r.attempts == 3 for r in rows(store))

    smtp_server.start()
    assert drain(store, channels, retry=FAST, ignore_backoff=True).sent == 3
    assert drain(store, channels, retry=FAST, ignore_backoff=True).sent == 0
    subjects = sorted(m["Subject"] for m in wait_for(lambda: len(smtp_server.messages) == 3 and smtp_server.messages))
    assert subjects == [f"[newswatch] korea-arms: Story {n}" for n in range(3)]


def test_dead_letter_after_max_attempts_then_retry(store, webhook_server):
    channels = hook_channel("hook", webhook_server)
    add_story(store, "korea-arms", ["hook"])
    webhook_server.stop()
    policy = replace(FAST, max_attempts=3)
    results = [drain(store, channels, retry=policy, ignore_backoff=True) for _ in range(4)]
    assert [r.dead for r in results] == [0, 0, 1, 0]
    (row,) = rows(store)
    assert row.status == Status.DEAD and row.attempts == 3
    assert "json://127.0.0.1" in row.last_error

    webhook_server.start()
    assert drain(store, channels, retry=policy, ignore_backoff=True).sent == 0  # dead rows wait
    assert requeue(store) == [row.id]
    assert drain(store, channels, retry=policy).sent == 1
    assert len(webhook_server.posts) == 1


def test_two_drains_at_once_send_each_alert_once(store, webhook_server):
    """A second drain while the first is sending (slowly) takes none of its rows."""
    channels = hook_channel("hook", webhook_server)
    for n in range(6):
        add_story(store, "korea-arms", ["hook"], title=f"Seoul weighs arms for Kyiv, part {n}")
    webhook_server.delay = 0.3
    first: list = []
    thread = threading.Thread(target=lambda: first.append(drain(store, channels, retry=FAST)))
    thread.start()
    wait_for(lambda: webhook_server.posts)  # the first drain has claimed its rows
    second = drain(store, channels, retry=FAST)
    thread.join()

    assert (first[0].sent, second.sent) == (6, 0)
    assert len(webhook_server.posts) == 6
    assert {r.status for r in rows(store)} == {Status.SENT}


def test_daemon_and_alerts_retry_at_once_send_nothing_twice(newswatch, webhook_server, tmp_path):
    """`newswatch alerts retry --all-failed` beside a running daemon (which drains every
    few seconds): on SQLite each drain sends only the rows it claimed."""
    alerts = 20
    newswatch.write_config({
        "database": f"sqlite:///{tmp_path / 'nw.db'}",
        "topics": [{"name": "korea-arms", "query": "South Korea Ukraine arms", "notify": ["hook"]}],
        "channels": {"hook": [webhook_server.apprise_url("/hook")]},
    })
    store = open_store(f"sqlite:///{tmp_path / 'nw.db'}")
    for n in range(alerts):
        add_story(store, "korea-arms", ["hook"], title=f"Seoul weighs arms for Kyiv, part {n}")
    with store.session() as session:
        session.query(OutboxRow).update({"status": Status.DEAD, "attempts": 25})
    webhook_server.delay = 0.4  # the retry's drain lasts longer than the daemon's drain interval
    daemon = newswatch.start("run")
    try:
        started = [daemon.stderr.readline() for _ in range(1)]
        while "newswatch running" not in started[-1] and started[-1]:
            started.append(daemon.stderr.readline())
        retried = newswatch("alerts", "retry", "--all-failed")
        wait_for(lambda: all(r.status == Status.SENT for r in rows(store)), timeout=60)
    finally:
        daemon.terminate()
        _, rest = daemon.communicate(timeout=30)
        daemon_log = "".join(started) + rest
    store.close()

    titles = [post[2]["title"] for post in webhook_server.posts]
    assert sorted(titles) == sorted(set(titles)) and len(titles) == alerts, (retried.stdout, daemon_log)


def test_dead_letter_after_max_age(store, webhook_server):
    channels = hook_channel("hook", webhook_server)
    add_story(store, "korea-arms", ["hook"])
    with store.session() as session:
        session.query(OutboxRow).update({"queued_at": datetime.now(timezone.utc) - timedelta(days=3)})
    webhook_server.responses[:] = [(503, {})]
    assert drain(store, channels, retry=RetryPolicy(max_age=timedelta(days=2))).dead == 1
    assert rows(store)[0].status == Status.DEAD


def test_one_failing_url_neither_blocks_nor_resends_the_others(store, webhook_server):
    from support.mailservers import WebhookCatcher

    with WebhookCatcher() as other:
        channels = hook_channel("team", webhook_server, other)
        add_story(store, "korea-arms", ["team"])
        other.stop()
        assert drain(store, channels, retry=FAST).failed == 1
        assert len(webhook_server.posts) == 1
        (row,) = rows(store)
        assert row.delivered == [channels["team"].endpoints[0].key]

        other.start()
        assert drain(store, channels, retry=FAST, ignore_backoff=True).sent == 1
        assert len(webhook_server.posts) == 1 and len(other.posts) == 1


# --------------------------------------------------------------------------- digests, quiet hours, rate limits


def test_digest_waits_for_its_time_then_one_message_grouped_by_topic(store, webhook_server):
    channels = hook_channel("hook", webhook_server)
    digest_topics = {"korea-arms", "ecb-rates"}
    for n in range(3):
        add_story(store, "korea-arms", ["hook"], title=f"Korea {n}")
    add_story(store, "ecb-rates", ["hook"], title="ECB holds rates")
    add_story(store, "wildfire", ["hook"], title="Wildfire spreads")  # no digest: at once

    assert drain(store, channels, digest_topics=digest_topics).sent == 1
    assert len(webhook_server.posts) == 1
    assert "Wildfire spreads" in webhook_server.posts[0][2]["title"]

    assert release_digest(store, digest_topics) == 4
    result = drain(store, channels, digest_topics=digest_topics)
    assert (result.sent, result.messages) == (4, 1)
    digest = webhook_server.posts[1][2]
    assert digest["title"].startswith("[newswatch] digest: 4 stories (korea-arms, ecb-rates)")
    body = digest["message"]
    assert body.index("korea-arms") < body.index("Korea 0") < body.index("Korea 2") < body.index("ecb-rates") < body.index("ECB holds rates")

    # Nothing pending: the next digest sends nothing.
    assert release_digest(store, digest_topics) == 0
    assert drain(store, channels, digest_topics=digest_topics).messages == 0
    assert len(webhook_server.posts) == 2


def test_quiet_hours_hold_alerts_then_send_one_message(store, webhook_server):
    berlin = ZoneInfo("Europe/Berlin")
    channels = hook_channel("hook", webhook_server, quiet=QuietHours.parse("22:00-07:00"), timezone=berlin)
    # Tomorrow night and the morning after: after the rows were queued (now), whenever
    # the test runs.
    tomorrow = datetime.now(berlin).date() + timedelta(days=1)
    night = datetime.combine(tomorrow, time(23, 30), tzinfo=berlin)
    for n in range(3):
        add_story(store, "korea-arms", ["hook"], title=f"Night story {n}")
    result = drain(store, channels, now=night)
    assert (result.sent, result.held) == (0, 3)
    assert webhook_server.posts == []
    assert all(r.fold for r in rows(store))

    # Still quiet at 06:59 the next morning (local time, not UTC).
    after = tomorrow + timedelta(days=1)
    assert drain(store, channels, now=datetime.combine(after, time(6, 59), tzinfo=berlin)).sent == 0
    morning = datetime.combine(after, time(7, 0), tzinfo=berlin)
    result = drain(store, channels, now=morning)
    assert (result.sent, result.messages) == (3, 1)
    (post,) = webhook_server.posts
    assert post[2]["title"].startswith("[newswatch] digest: 3 stories")
    assert all(f"Night story {n}" in post[2]["message"] for n in range(3))


def test_quiet_hours_span():
    quiet = QuietHours.parse("22:00-07:00")
    assert [time(h) in quiet for h in (21, 22, 23, 0, 6, 7, 12)] == [False, True, True, True, True, False, False]
    day = QuietHours.parse("12:30-13:00")
    assert time(12, 45) in day and time(13, 0) not in day
    for bad in ("22-07", "25:00-07:00", "07:00-07:00", ""):
        with pytest.raises(ValueError):
            QuietHours.parse(bad)


def test_max_per_hour_folds_the_overflow_into_one_summary(store, webhook_server):
    channels = hook_channel("hook", webhook_server, max_per_hour=3)
    for n in range(10):
        add_story(store, "korea-arms", ["hook"], title=f"Story {n}")
    result = drain(store, channels)
    assert (result.sent, result.messages) == (10, 3)
    titles = [p[2]["title"] for p in webhook_server.posts]
    assert titles[:2] == ["[newswatch] korea-arms: Story 0", "[newswatch] korea-arms: Story 1"]
    assert titles[2].startswith("[newswatch] digest: 8 stories")

    # The hour is full: new alerts are held, then go out together when it has room.
    for n in range(10, 12):
        add_story(store, "korea-arms", ["hook"], title=f"Story {n}")
    now = datetime.now(timezone.utc)
    assert drain(store, channels, now=now).held == 2
    assert len(webhook_server.posts) == 3
    with store.session() as session:
        session.query(ChannelSend).update({"sent_at": now - timedelta(minutes=61)})
    assert drain(store, channels, now=now).messages == 1
    assert webhook_server.posts[3][2]["title"].startswith("[newswatch] digest: 2 stories")
    assert len(webhook_server.posts) == 4


def test_long_digest_is_cut_at_the_channel_limit_and_the_rest_follows(store, webhook_server):
    (endpoint,) = build_channel("hook", [webhook_server.apprise_url("/hook")]).endpoints
    channels = {"hook": Channel("hook", (replace(endpoint, max_chars=2_000),))}
    for n in range(25):
        add_story(store, "korea-arms", ["hook"], title=f"{HOSTILE} number {n:02d}", articles=2)
    release_digest(store, {"korea-arms"})
    for _ in range(25):
        if not drain(store, channels, digest_topics={"korea-arms"}).messages:
            break
    bodies = [p[2]["message"] for p in webhook_server.posts]
    assert len(bodies) > 2
    assert all(len(b) <= 2_000 for b in bodies)
    shown = [n for b in bodies for n in re.findall(r"number (\d\d)", b)]
    assert sorted(shown) == [f"{n:02d}" for n in range(25)]  # each story once, none lost
    assert all(r.status == Status.SENT for r in rows(store))


def test_endpoint_limit_comes_from_the_apprise_plugin():
    from apprise.plugins.custom_json import NotifyJSON

    limits = {e.masked.split(":")[0]: e.max_chars for e in build_channel("x", [
        "json://127.0.0.1/hook",
        "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/",
        "tgram://123456789:abcdefg_hijklmnop/12315544/",
    ]).endpoints}
    assert limits["slack"] == int(35_000 * 0.8)
    assert limits["tgram"] < 4_096  # Telegram takes 4096 characters, title included
    assert limits["json"] == int(NotifyJSON.body_maxlen * 0.8)


# --------------------------------------------------------------------------- Slack and hostile titles


@pytest.mark.parametrize("blocks", ["no", "yes"])
def test_slack_webhook_payload(store, webhook_server, monkeypatch, blocks):
    from apprise.plugins.slack import NotifySlack

    monkeypatch.setattr(NotifySlack, "webhook_url", f"http://127.0.0.1:{webhook_server.port}/services")
    webhook_server.reply_body = b"ok"
    url = "https://news.example.com/world/a?id=7&ref=rss"
    channels = {"team": build_channel("team", [f"slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/?blocks={blocks}"])}
    add_story(store, "korea-arms", ["team"], title=HOSTILE, articles=2, url=url)
    assert drain(store, channels).sent == 1

    ((path, _, payload),) = webhook_server.posts
    assert path == "/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
    if blocks == "yes":
        sections = [b["text"] for b in payload["attachments"][0]["blocks"] if b["type"] == "section"]
        assert sections and all(t["type"] == "mrkdwn" for t in sections)
        text = "\n".join(t["text"] for t in sections)
    else:
        assert payload["mrkdwn"] is True
        text = payload["attachments"][0]["text"]
    escaped_url = url.replace("&", "&amp;")
    # The headline links to the article as Slack's <url|title>, with the title's
    # control sequences and markup arriving as literal text (a mention defused).
    assert f"<{escaped_url}|&lt;script&gt;alert(1)&lt;/script&gt; Seoul &amp; Kyiv &lt;\u200b!channel&gt;" in text
    assert "<!channel>" not in text and "<script>" not in text and "<http://evil" not in text
    assert "*South Korea*" in text  # matched terms in mrkdwn bold
    assert f"<{escaped_url}>" in text
    assert "Also reported by" in text
    assert "<!channel>" not in json.dumps(payload)


MENTIONING = "Seoul @everyone @here <@&4567> <@U123ABC> <!channel> <#C0123> arms for Kyiv"
LIVE_MENTION = re.compile(r"@&?[A-Za-z0-9]|<[@!#]")


@pytest.mark.parametrize("service, fmt", [("slack", "markdown"), ("slack", "text"),
                                          ("discord", "markdown"), ("discord", "text")])
def test_article_text_never_pings_slack_or_discord(store, webhook_server, monkeypatch, service, fmt):
    """The payload as the service receives it (its API URL pointed at a local endpoint):
    no mention survives, and Apprise's Discord plugin adds no ping of its own."""
    from apprise.plugins.discord import NotifyDiscord
    from apprise.plugins.slack import NotifySlack

    if service == "slack":
        monkeypatch.setattr(NotifySlack, "webhook_url", f"http://127.0.0.1:{webhook_server.port}/services")
        webhook_server.reply_body = b"ok"
        url = f"slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/?format={fmt}"
    else:
        monkeypatch.setattr(NotifyDiscord, "notify_url", f"http://127.0.0.1:{webhook_server.port}/api/webhooks")
        url = f"discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js?format={fmt}"
    channels = {"team": build_channel("team", [url])}
    add_story(store, "korea-arms", ["team"], title=MENTIONING, articles=2,
              url="https://news.example.com/@everyone/a")
    assert drain(store, channels).sent == 1

    ((_, _, payload),) = webhook_server.posts
    sent = json.dumps(payload, ensure_ascii=False)
    assert "Seoul" in sent and "Kyiv" in sent
    assert not LIVE_MENTION.search(sent.replace("&lt;", "<").replace("&gt;", ">")), sent
    assert "allow_mentions" not in payload and "👉" not in sent


def test_hostile_title_by_email_and_json(store, smtp_server, webhook_server):
    channels = {"all": build_channel("all", [smtp_server.apprise_url(), webhook_server.apprise_url("/j"),
                                             webhook_server.apprise_url("/j") + "?format=markdown"])}
    add_story(store, "korea-arms", ["all"], title=HOSTILE + " " + "x" * 10_240)
    assert drain(store, channels).sent == 1
    (mail,) = wait_for(lambda: smtp_server.messages)
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert len(mail["Subject"]) < 400 and "\n" not in mail["Subject"]
    plain, markdown = (p[2]["message"] for p in webhook_server.posts)
    assert "<script>alert(1)</script>" in plain  # plain text is shown as text, verbatim
    assert "\\<script\\>" in markdown
    assert all(len(p[2]["message"]) < 5_000 for p in webhook_server.posts)


def test_a_user_template_that_fails_is_retried_then_dead_lettered_not_a_crash(store, webhook_server, tmp_path):
    from newswatch.alerts.render import Templates

    (tmp_path / "alert.text.j2").write_text("{{ items[0].no_such_field }}")
    channels = hook_channel("hook", webhook_server)
    add_story(store, "korea-arms", ["hook"])
    policy = replace(FAST, max_attempts=2)
    templates = Templates(tmp_path)
    assert drain(store, channels, retry=policy, templates=templates).failed == 1
    assert drain(store, channels, retry=policy, templates=templates, ignore_backoff=True).dead == 1
    (row,) = rows(store)
    assert row.last_error.startswith("template: alert.text.j2") and webhook_server.posts == []
