"""Updates for new developments (alerts/notifier.py, corpus/developments.py) through
`Corpus.add` and `drain` on a real database, against a local webhook endpoint, with the
delivery clock set: a story alerts once; a development sends one `Update:`; a further
report of the same news sends nothing; updates wait `update_every` and go out together;
`updates: none`, `every_article` and digests."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from newswatch.alerts.delivery import build_channel
from newswatch.alerts.matcher import Topic, TopicMatch
from newswatch.alerts.notifier import drain
from newswatch.alerts.outbox import UPDATE, enqueue, release_digest
from newswatch.alerts.query import parse
from newswatch.corpus.ingest import Corpus
from newswatch.store import dialects
from newswatch.store.db import open_store
from newswatch.store.models import Article, OutboxRow, OutboxStatus
from support.plantstory import CONTRACT, COURIER_VOTE, GAZETTE_VOTE, HERALD_VOTE, PERMIT, PROTEST, QUERY

TOPIC = "millbrook-plant"


def topic(**options) -> Topic:
    return Topic(name=TOPIC, query=parse(QUERY), channels=("hook",), **options)


class Desk:
    """A corpus with one topic, and its deliveries to the webhook at a set clock."""

    def __init__(self, store, webhook_server, **options):
        self.store, self.hook = store, webhook_server
        self.topic = topic(**options)
        self.corpus = Corpus(store, [self.topic])
        self.channels = {"hook": build_channel("hook", [webhook_server.apprise_url()])}
        # The delivery clock's zero: a minute ahead, so that rows queued while the test
        # runs (seconds) are due at it.
        self.start = datetime.now(timezone.utc) + timedelta(minutes=1)

    def add(self, *reports):
        return [self.corpus.add(r.article(), r.source) for r in reports]

    def deliver(self, after: timedelta, **options):
        """Drain at `start + after`; returns the messages that arrived, as text."""
        before = len(self.hook.posts)
        result = drain(self.store, self.channels, now=self.start + after,
                       update_every={TOPIC: self.topic.update_every}, **options)
        return result, [f"{p['title']}\n{p['message']}" for _, _, p in self.hook.posts[before:]]


def url(report) -> str:
    return report.article().url


def test_vote_alerts_once_a_development_sends_one_update_a_repeat_nothing(store, webhook_server):
    desk = Desk(store, webhook_server)
    first, second = desk.add(GAZETTE_VOTE, HERALD_VOTE)
    assert (first.role, second.role) == ("first", "also")
    assert first.story_id == second.story_id

    _, messages = desk.deliver(timedelta(0))
    assert len(messages) == 1
    assert url(GAZETTE_VOTE) in messages[0] and url(HERALD_VOTE) in messages[0]
    assert "Update:" not in messages[0]

    (contract,) = desk.add(CONTRACT)
    assert (contract.story_id, contract.role, contract.updates) == (first.story_id, "update", (TOPIC,))
    assert "update queued" in contract.describe()
    # Within update_every (1h by default) of the story's alert, the update waits.
    result, messages = desk.deliver(timedelta(minutes=59))
    assert (messages, result.held) == ([], 1)

    result, messages = desk.deliver(timedelta(minutes=61))
    assert result.sent == 1 and len(messages) == 1
    update = messages[0]
    assert f"[newswatch] {TOPIC}: Update: {GAZETTE_VOTE.title}" in update
    assert url(CONTRACT) in update and "Harlan" in update  # the new article, with its snippet
    assert "2 earlier reports" in update
    assert update.index(url(CONTRACT)) < update.index(url(GAZETTE_VOTE))
    assert url(HERALD_VOTE) in update

    (repeat,) = desk.add(COURIER_VOTE)
    assert (repeat.story_id, repeat.role, repeat.updates) == (first.story_id, "also", ())
    assert "silently" in repeat.describe()
    _, messages = desk.deliver(timedelta(hours=5))
    assert messages == []
    with store.session() as session:
        roles = dict(session.execute(select(Article.url, Article.story_role)).all())
    assert roles == {url(GAZETTE_VOTE): "first", url(HERALD_VOTE): "also",
                     url(CONTRACT): "update", url(COURIER_VOTE): "also"}


def test_updates_wait_update_every_from_the_last_message_and_go_out_together(store, webhook_server):
    desk = Desk(store, webhook_server, update_every=timedelta(hours=2))
    desk.add(GAZETTE_VOTE, HERALD_VOTE)
    assert len(desk.deliver(timedelta(0))[1]) == 1

    desk.add(CONTRACT)
    assert desk.deliver(timedelta(minutes=30))[1] == []
    desk.add(PROTEST)
    assert desk.deliver(timedelta(minutes=119))[1] == []
    with store.session() as session:
        waiting = session.scalars(select(OutboxRow.next_attempt_at).where(OutboxRow.kind == UPDATE)).all()
    assert waiting == [desk.start + timedelta(hours=2)] * 2  # not claimed again until then

    _, messages = desk.deliver(timedelta(hours=2))
    assert len(messages) == 1
    assert url(CONTRACT) in messages[0] and url(PROTEST) in messages[0]
    assert "2 earlier reports" in messages[0]

    # The next update counts from this message, not from the story's first alert.
    (later,) = desk.add(PERMIT)
    assert later.role == "update"
    assert desk.deliver(timedelta(hours=3, minutes=59))[1] == []
    assert len(desk.deliver(timedelta(hours=4))[1]) == 1


def test_while_another_notifier_decides_a_storys_updates_this_one_sends_none(store, webhook_server):
    """Several notifiers: the one that claimed some of a story's updates also holds the
    story's first alert row until its drain ends; another drain sends none of the story's
    updates meanwhile (both would find `update_every` passed, and send two updates)."""
    desk = Desk(store, webhook_server)
    desk.add(GAZETTE_VOTE, HERALD_VOTE)
    assert len(desk.deliver(timedelta(0))[1]) == 1
    desk.add(CONTRACT, PROTEST)
    with store.session() as session:
        anchor = session.scalar(select(OutboxRow.id).where(OutboxRow.article_id.is_(None)))
        _, protest = session.scalars(select(OutboxRow.id).where(OutboxRow.kind == UPDATE)
                                     .order_by(OutboxRow.id)).all()
    with store.engine.connect() as other:  # the other notifier, mid-drain
        dialect = dialects.of(other)
        dialect.claim_outbox_rows(other, select(OutboxRow).where(OutboxRow.id.in_([anchor, protest])))
        result, messages = desk.deliver(timedelta(hours=2))
        assert (messages, result.sent) == ([], 0)
        dialect.release_outbox_rows(other)

    _, messages = desk.deliver(timedelta(hours=2))
    assert len(messages) == 1
    assert url(CONTRACT) in messages[0] and url(PROTEST) in messages[0]


def test_a_development_before_the_first_alert_is_in_it_and_sends_no_update(store, webhook_server):
    desk = Desk(store, webhook_server)
    desk.add(GAZETTE_VOTE, HERALD_VOTE, CONTRACT)
    _, messages = desk.deliver(timedelta(0))
    assert len(messages) == 1 and url(CONTRACT) in messages[0]
    assert "Update:" not in messages[0]

    result, messages = desk.deliver(timedelta(hours=2))
    assert messages == [] and result.settled == 1
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxRow)
                              .where(OutboxRow.status == OutboxStatus.PENDING)) == 0


def test_updates_none_never_sends_updates(store, webhook_server):
    desk = Desk(store, webhook_server, updates="none")
    desk.add(GAZETTE_VOTE, HERALD_VOTE)
    assert len(desk.deliver(timedelta(0))[1]) == 1
    (contract,) = desk.add(CONTRACT)
    assert (contract.role, contract.updates) == ("update", ())
    assert "update queued" not in contract.describe()
    assert desk.deliver(timedelta(days=1))[1] == []


@pytest.mark.parametrize("options", [{"updates": "every_article"}, {"every_article": True}])
def test_every_article_alerts_each_report_with_no_update_message(store, webhook_server, options):
    desk = Desk(store, webhook_server, **options)
    assert desk.topic.updates == "every_article" and desk.topic.every_article
    reports = (GAZETTE_VOTE, HERALD_VOTE, CONTRACT, COURIER_VOTE)
    desk.add(*reports)
    _, messages = desk.deliver(timedelta(0))
    assert len(messages) == 4
    assert [sum(url(r) in m for m in messages) for r in reports] == [1, 1, 1, 1]
    assert not any("Update:" in m for m in messages)


def test_digest_lists_what_a_story_gained_since_the_previous_digest(store, webhook_server):
    desk = Desk(store, webhook_server, digest=True)
    desk.add(GAZETTE_VOTE)
    release_digest(store, [TOPIC], now=desk.start)
    _, messages = desk.deliver(timedelta(0), digest_topics=[TOPIC])
    assert len(messages) == 1

    # Between digests, a further report (not a development) and a development arrive:
    # nothing goes out until the next digest, which lists both and only them.
    desk.add(HERALD_VOTE, CONTRACT)
    assert desk.deliver(timedelta(hours=2), digest_topics=[TOPIC])[1] == []
    release_digest(store, [TOPIC], now=desk.start + timedelta(days=1))
    _, messages = desk.deliver(timedelta(days=1), digest_topics=[TOPIC])
    assert len(messages) == 1
    assert url(HERALD_VOTE) in messages[0] and url(CONTRACT) in messages[0]
    assert "1 earlier report" in messages[0]


def test_an_update_row_is_queued_once_per_article_and_channel(store, webhook_server):
    desk = Desk(store, webhook_server)
    desk.add(GAZETTE_VOTE)
    desk.deliver(timedelta(0))
    (contract,) = desk.add(CONTRACT)
    assert desk.add(CONTRACT)[0].outcome == "duplicate"
    with store.session() as session:
        # As a crashed and restarted ingest would: the unique key keeps one row.
        enqueue(session, contract.story_id, [TopicMatch(desk.topic, None)],
                article_id=contract.article_id, role="update")
    with store.session() as session:
        rows = session.execute(select(OutboxRow.kind, OutboxRow.article_id, OutboxRow.status)
                               .order_by(OutboxRow.id)).all()
    assert rows == [("alert", None, OutboxStatus.SENT), ("update", contract.article_id, OutboxStatus.PENDING)]
    _, messages = desk.deliver(timedelta(hours=1))
    assert len(messages) == 1
    assert desk.deliver(timedelta(hours=3))[1] == []


def test_an_update_message_escapes_what_articles_say(store, webhook_server):
    desk = Desk(store, webhook_server)
    desk.add(replace(GAZETTE_VOTE, title="<b>Millbrook</b> council & plant"))
    desk.deliver(timedelta(0))
    desk.add(CONTRACT)
    channel = build_channel("mail", [webhook_server.apprise_url() + "?format=html"])
    drain(store, {"hook": channel}, now=desk.start + timedelta(hours=1))
    payload = webhook_server.posts[-1][2]
    assert "&lt;b&gt;Millbrook&lt;/b&gt; council &amp; plant" in json.dumps(payload)


# --------------------------------------------------------------------------- end to end


@pytest.fixture
def outlets():
    """Three local news sites, each with its own feed (starting empty)."""
    from support.newssite import NewsSite
    sites = {name: NewsSite(articles=[]).start() for name in ("gazette", "herald", "courier")}
    try:
        yield sites
    finally:
        for site in sites.values():
            site.stop()


def publish(site, report) -> None:
    site.add_page(report.path, report.html(report.source.title()))
    site.add_feed_item(report.path, report.title, published=report.published)


def test_on_the_local_news_site_a_vote_alerts_once_the_contract_updates_a_repeat_is_silent(
        newswatch, outlets, webhook_server):
    from newswatch.jobs.config import load_config
    config = newswatch.write_config({
        "sources": [{"name": name, "feed": site.feed_url} for name, site in outlets.items()],
        "topics": [{"name": TOPIC, "query": QUERY, "notify": ["hook"]}],
        "channels": {"hook": [webhook_server.apprise_url()]},
    })

    def posted():
        return [f"{p['title']}\n{p['message']}" for _, _, p in webhook_server.posts]

    # The vote, reported by two outlets: one alert, listing both.
    publish(outlets["gazette"], GAZETTE_VOTE)
    publish(outlets["herald"], HERALD_VOTE)
    run = newswatch("run", "--once")
    assert run.returncode == 0, run.stderr
    assert len(posted()) == 1
    alert = posted()[0]
    gazette_url, herald_url = (outlets[r.source].url(r.path) for r in (GAZETTE_VOTE, HERALD_VOTE))
    assert gazette_url in alert and herald_url in alert
    assert "started story" in run.stderr and "joined story" in run.stderr

    # A day later, the contract award: queued as an update, sent once update_every (1h)
    # has passed since the alert (the delivery clock set to then).
    publish(outlets["gazette"], CONTRACT)
    run = newswatch("run", "--once")
    assert run.returncode == 0, run.stderr
    assert "with a new development: update queued" in run.stderr
    assert len(posted()) == 1
    loaded = load_config(config)
    store = open_store(loaded.database)
    try:
        later = datetime.now(timezone.utc) + timedelta(hours=1, minutes=1)
        drain(store, loaded.channels, now=later, update_every=loaded.update_every)
    finally:
        store.close()
    assert len(posted()) == 2
    update = posted()[1]
    # The story is titled after its first stored report (the two feeds are read at once).
    assert any(f"[newswatch] {TOPIC}: Update: {r.title}\n" in update for r in (GAZETTE_VOTE, HERALD_VOTE))
    assert outlets["gazette"].url(CONTRACT.path) in update and "2 earlier reports" in update

    # A third outlet repeats the vote: nothing is sent; `stories` shows it.
    publish(outlets["courier"], COURIER_VOTE)
    run = newswatch("run", "--once")
    assert run.returncode == 0, run.stderr
    assert "silently (same news)" in run.stderr
    assert len(posted()) == 2
    listed = newswatch("stories", "--json")
    assert listed.returncode == 0, listed.stderr
    (story,) = json.loads(listed.stdout)
    roles = {a["url"]: a["role"] for a in story["articles"]}
    # the two first reports are crawled at once: either may be the story's first
    assert {roles.pop(gazette_url), roles.pop(herald_url)} == {"first", "also"}
    assert roles == {outlets["gazette"].url(CONTRACT.path): "update",
                     outlets["courier"].url(COURIER_VOTE.path): "also"}
