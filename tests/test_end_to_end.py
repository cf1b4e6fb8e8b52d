"""newswatch end to end: a local news site behind an RSS feed, a real SMTP server and a
webhook endpoint; `run --once` and the daemon as a user runs them."""
from __future__ import annotations

import signal
from collections import Counter

import pytest

from support.mailservers import wait_for
from support.newssite import manifest

TOPICS = {
    "korea-arms": "South Korea Ukraine arms",
    "ecb-rates": '"interest rates" ECB',
    "wildfire": "wildfire California evacuation",
}


def expected_alerts() -> Counter:
    """(topic, article path) pairs the manifest says must alert."""
    return Counter((topic, a["path"]) for a in manifest() for topic in a["topics"])


def site_config(news_site, smtp_server, webhook_server, every="15m") -> dict:
    return {
        "sources": [{"name": "localnews", "feed": news_site.feed_url, "every": every}],
        "topics": [
            {"name": "korea-arms", "query": TOPICS["korea-arms"], "notify": ["desk", "hook"]},
            {"name": "ecb-rates", "query": TOPICS["ecb-rates"], "notify": ["hook"]},
            {"name": "wildfire", "query": TOPICS["wildfire"], "notify": ["hook"]},
        ],
        "channels": {
            "desk": [smtp_server.apprise_url()],
            "hook": [webhook_server.apprise_url()],
        },
    }


def hook_alerts(webhook_server) -> Counter:
    """(topic, article path) for every webhook post received."""
    seen = Counter()
    for _path, _headers, payload in webhook_server.posts:
        text = f"{payload.get('title', '')}\n{payload.get('message', '')}"
        for article in manifest():
            for topic in TOPICS:
                if f"[newswatch] {topic}:" in text and article["path"] in text:
                    seen[(topic, article["path"])] += 1
    return seen


def mail_text(message) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    return f"{message['subject']}\n{part.get_content() if part else ''}"


def test_run_once_delivers_exactly_the_expected_alerts(newswatch, news_site, smtp_server, webhook_server):
    newswatch.write_config(site_config(news_site, smtp_server, webhook_server))

    first = newswatch("run", "--once")
    assert first.returncode == 0, first.stderr

    expected = expected_alerts()
    assert sum(expected.values()) >= 7
    assert hook_alerts(webhook_server) == expected
    assert len(webhook_server.posts) == len(expected)

    korea = sorted(path for topic, path in expected if topic == "korea-arms")
    assert len(smtp_server.messages) == len(korea)
    for path in korea:
        mails = [m for m in smtp_server.messages if path in mail_text(m)]
        assert len(mails) == 1, path
        assert "korea-arms" in mail_text(mails[0])

    # Nothing new on the site: nothing is fetched again and nothing alerts again.
    article_gets = {a["path"]: news_site.count(a["path"]) for a in manifest()}
    second = newswatch("run", "--once")
    assert second.returncode == 0, second.stderr
    assert len(webhook_server.posts) == len(expected)
    assert len(smtp_server.messages) == len(korea)
    assert {a["path"]: news_site.count(a["path"]) for a in manifest()} == article_gets

    # The same article under a tracking URL is known: not fetched, not alerted.
    path = korea[0]
    news_site.add_feed_item(path, "Same story, shared link", link=news_site.url(path) + "?utm_source=twitter&utm_medium=social")
    third = newswatch("run", "--once")
    assert third.returncode == 0, third.stderr
    assert news_site.count(path) == article_gets[path]
    assert len(webhook_server.posts) == len(expected)
    assert len(smtp_server.messages) == len(korea)


def test_alert_waits_while_smtp_is_down_then_arrives_once(newswatch, news_site, smtp_server, webhook_server):
    newswatch.write_config(site_config(news_site, smtp_server, webhook_server))
    korea = sorted(path for topic, path in expected_alerts() if topic == "korea-arms")

    smtp_server.stop()
    down = newswatch("run", "--once")
    assert down.returncode == 0, down.stderr
    assert smtp_server.messages == []
    # The webhook half of the same channel set was delivered; only e-mail waits.
    assert len(webhook_server.posts) == sum(expected_alerts().values())

    status = newswatch("status", "--json")
    assert status.returncode == 0, status.stderr
    assert '"pending": %d' % len(korea) in status.stdout

    smtp_server.start()
    up = newswatch("run", "--once")
    assert up.returncode == 0, up.stderr
    assert sorted(p for p in korea for m in smtp_server.messages if p in mail_text(m)) == korea
    assert len(smtp_server.messages) == len(korea)

    again = newswatch("run", "--once")
    assert again.returncode == 0
    assert len(smtp_server.messages) == len(korea)
    assert len(webhook_server.posts) == sum(expected_alerts().values())


NEW_ARTICLE = """<!doctype html><html lang="en"><head><title>Seoul weighs arms for Kyiv</title>
<link rel="canonical" href="/world/2026/11/seoul-weighs-arms.html"></head><body>
<nav><a href="/">Home</a> <a href="/world/">World</a></nav>
<article><h1>Seoul weighs direct arms shipments to Ukraine</h1>
<p>South Korea is weighing direct shipments of arms to Ukraine for the first time, officials in
Seoul said on Monday, after months of supplying only humanitarian aid and non-lethal equipment.</p>
<p>The change would mark a turn in policy for South Korea, which has long refused to send weapons
into active conflicts, and follows reports of North Korean troops fighting alongside Russia.</p>
<p>Officials said a decision on the package, which could include artillery shells and air defence
systems, would be taken after consultations with allies in the coming weeks.</p>
</article><footer>© Local News</footer></body></html>"""


@pytest.mark.slow
def test_daemon_picks_up_a_new_feed_item_and_stops_on_sigterm(newswatch, news_site, smtp_server, webhook_server):
    newswatch.write_config(site_config(news_site, smtp_server, webhook_server, every="1s"))
    expected = sum(expected_alerts().values())

    daemon = newswatch.start("run")
    try:
        wait_for(lambda: len(webhook_server.posts) >= expected, timeout=60)
        path = "/world/2026/11/seoul-weighs-arms.html"
        news_site.add_page(path, NEW_ARTICLE)
        news_site.add_feed_item(path, "Seoul weighs direct arms shipments to Ukraine")
        wait_for(lambda: (("korea-arms", path) in hook_alerts_for(webhook_server, path)), timeout=60)
        assert len(webhook_server.posts) == expected + 1
        daemon.send_signal(signal.SIGTERM)
        stdout, stderr = daemon.communicate(timeout=30)
        assert daemon.returncode == 0, stderr
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.communicate()


def hook_alerts_for(webhook_server, path: str) -> set:
    found = set()
    for _p, _h, payload in webhook_server.posts:
        text = f"{payload.get('title', '')}\n{payload.get('message', '')}"
        if path in text:
            found |= {(topic, path) for topic in TOPICS if f"[newswatch] {topic}:" in text}
    return found
