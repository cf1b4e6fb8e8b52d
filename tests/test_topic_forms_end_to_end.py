"""Names' forms and aliases, end to end: a local site's feed, `run --once`, a webhook.

The topic `South Korea Ukraine arms` with `aliases: {arms: [artillery shells]}` must
alert on "Seoul approves artillery shells for Kyiv" (none of the query's words) and not
on "North Korea sends troops to Russia" (Korea, troops, a war: another story).
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.newssite import NewsSite

pytestmark = [pytest.mark.slow, pytest.mark.one_backend]

# Test inputs for the local site (not the labelled set of bench/matching.py).
PAGES = {
    "/world/seoul-shells-kyiv.html": (
        "Seoul approves artillery shells for Kyiv",
        "The government in Seoul approved the transfer of 155mm artillery shells to Kyiv "
        "on Tuesday, officials said, after months of debate over direct support.\n"
        "The first shipment is expected within weeks, the defence ministry said.",
    ),
    "/world/pyongyang-troops-russia.html": (
        "North Korea sends troops to Russia",
        "Pyongyang has sent several thousand soldiers to Russia, intelligence officials "
        "said, in a deepening of military ties between the two countries.\n"
        "The troops are training at bases in the Russian far east, the officials said.",
    ),
}


def page(title: str, body: str) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n"))
    return (f"<!doctype html><html><head><title>{title}</title></head><body><article>"
            f"<h1>{title}</h1>{paragraphs}</article></body></html>")


@pytest.fixture
def forms_site() -> Iterator[NewsSite]:
    site = NewsSite(articles=[]).start()
    try:
        for i, (path, (title, body)) in enumerate(PAGES.items()):
            site.add_page(path, page(title, body))
            site.add_feed_item(path, title, published=f"2026-11-2{i}T08:00:00+00:00")
        yield site
    finally:
        site.stop()


def test_seoul_shells_for_kyiv_alerts_the_korea_ukraine_arms_topic(
        newswatch, forms_site, webhook_server):
    newswatch.write_config({
        "sources": [{"name": "localnews", "feed": forms_site.feed_url}],
        "topics": [{"name": "korea-arms", "query": "South Korea Ukraine arms",
                    "aliases": {"arms": ["artillery shells"]}, "notify": ["hook"]}],
        "channels": {"hook": [webhook_server.apprise_url()]},
    })
    done = newswatch("run", "--once")
    assert done.returncode == 0, done.stderr

    posts = [f"{p.get('title', '')}\n{p.get('message', '')}" for _, _, p in webhook_server.posts]
    assert len(posts) == 1, posts
    assert "/world/seoul-shells-kyiv.html" in posts[0]
    # The snippet marks the forms that stood in for the query's words.
    assert "«Seoul» (South Korea)" in posts[0] and "«Kyiv» (Ukraine)" in posts[0]
    assert "«artillery shells» (arms)" in posts[0]

    # The backtest says what the expansion added over the literal query.
    explained = newswatch("match", "--topic", "korea-arms", "--explain", "--since", "3650d")
    assert explained.returncode == 0, explained.stderr
    assert "South Korea (name): also " in explained.stdout
    assert "Seoul" in explained.stdout and "Kyiv" in explained.stdout
    assert "arms (alias): also artillery shells" in explained.stdout
    assert "Seoul approves artillery shells for Kyiv" in explained.stdout
    assert "North Korea sends troops" not in explained.stdout
