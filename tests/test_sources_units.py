"""The pure parts of sources and health: link heuristics, Retry-After, hostile XML,
sitemap parsing, when a source counts as broken, and the config keys."""
from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone

import pytest

from newswatch.crawler.backoff import retry_after
from newswatch.crawler.safexml import UnsafeXML, check_xml
from newswatch.crawler.spiders.page import looks_like_article
from newswatch.crawler.spiders.sitemap import parse_sitemap
from newswatch.jobs.config import ConfigError, Schedule, load_config
from newswatch.jobs.health import assess
from newswatch.jobs.schedule import next_run
from newswatch.store.models import SourceState

ARTICLE_LINKS = [
    ("https://news.example/world/2026/11/seoul-approves-arms-package.html", True),
    ("https://news.example/2026/11/23/ecb-holds-rates/", True),
    ("https://news.example/business/eurozone-mortgage-borrowers-wait-for-relief", True),
    ("https://news.example/news/world-asia-67812345", True),
    ("https://news.example/world/", False),
    ("https://news.example/2026/11/", False),
    ("https://news.example/tag/ukraine-war-latest-news", False),
    ("https://news.example/authors/claire-dubois-paris-correspondent", False),
    ("https://news.example/video/seoul-approves-arms-package-explained", False),
    ("https://news.example/media/seoul-approves-arms-package-photo.jpg", False),
    ("https://news.example/", False),
]


@pytest.mark.parametrize("url, expected", ARTICLE_LINKS)
def test_article_link_heuristic(url, expected):
    assert looks_like_article(url) is expected


@pytest.mark.parametrize("value, expected", [
    (b"120", 120.0), ("0", 0.0), (None, None), (b"soon", None),
    ("Mon, 23 Nov 2026 10:00:30 GMT", 30.0), ("Mon, 23 Nov 2026 09:00:00 GMT", 0.0),
])
def test_retry_after(value, expected):
    now = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc).timestamp()
    assert retry_after(value, now=now) == expected


def test_entity_declarations_are_refused_before_the_root():
    with pytest.raises(UnsafeXML, match="lol"):
        check_xml(b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY lol "lol">]><r>&lol;</r>')
    check_xml(b'<?xml version="1.0"?><rss><channel><title>a &amp; b</title></channel></rss>')
    check_xml(b"<rss><unclosed>")  # malformed is the feed parser's business


def test_news_sitemap_dates_and_index():
    kind, entries = parse_sitemap(b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://n.example/a.html</loc><lastmod>2026-01-01</lastmod>
  <news:news><news:publication_date>2026-11-20T10:00:00Z</news:publication_date></news:news></url>
<url><loc>https://n.example/b.html</loc><lastmod>2026-11-21T08:00:00+01:00</lastmod></url>
<url><loc>https://n.example/c.html</loc></url>
<url><lastmod>2026-11-21</lastmod></url>
</urlset>""")
    assert kind == "urlset"
    assert [(e.loc, e.published) for e in entries] == [
        ("https://n.example/a.html", datetime(2026, 11, 20, 10, tzinfo=timezone.utc)),
        ("https://n.example/b.html", datetime(2026, 11, 21, 7, tzinfo=timezone.utc)),
        ("https://n.example/c.html", None),
    ]
    kind, entries = parse_sitemap(b"<sitemapindex><sitemap><loc>/s1.xml.gz</loc></sitemap></sitemapindex>")
    assert (kind, [e.loc for e in entries]) == ("sitemapindex", ["/s1.xml.gz"])
    with pytest.raises(ValueError):
        parse_sitemap(b"<html><body>not a sitemap</body></html>")


NOW = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
HEALTH = [
    ("healthy", dict(failures_in_row=0, last_new_at=NOW - timedelta(hours=1)), None),
    ("two failures", dict(failures_in_row=2, last_new_at=NOW - timedelta(hours=1)), None),
    ("three failures", dict(failures_in_row=3, last_error="HTTP 500"), "failed 3 runs in a row"),
    ("quiet within rhythm", dict(last_new_at=NOW - timedelta(hours=20), usual_gap_s=8 * 3600), None),
    ("silent past rhythm", dict(last_new_at=NOW - timedelta(hours=40), usual_gap_s=8 * 3600), "nothing new for 1.7d"),
    ("silent but never below the floor", dict(last_new_at=NOW - timedelta(hours=5), usual_gap_s=60), None),
    ("never found anything", dict(failures_in_row=0), None),
]


@pytest.mark.parametrize("state, expected", [h[1:] for h in HEALTH], ids=[h[0] for h in HEALTH])
def test_when_a_source_is_broken(state, expected):
    reason = assess(SourceState(name="s", **state), timedelta(minutes=15), NOW)
    assert (reason is None) if expected is None else (expected in reason)


def test_next_run():
    assert next_run(Schedule(seconds=900), None, NOW) == NOW
    assert next_run(Schedule(seconds=900), NOW - timedelta(minutes=5), NOW) == NOW + timedelta(minutes=10)
    assert next_run(Schedule(cron="0 */6 * * *"), NOW, NOW + timedelta(minutes=1)) == NOW + timedelta(hours=6)


SOURCES = """
sources:
  - name: news
    sitemap: https://n.example/news-sitemap.xml
    max_age: 2d
    headers: {User-Agent: "newswatch-test (+https://n.example/bot)"}
  - name: front
    page: https://n.example/
    links: "h2 a.headline"
    enabled: false
health: [ops]
crawl: {timeout: 5s, max_size_mb: 3}
channels:
  ops: ["console://"]
"""


def write(tmp_path, text):
    path = tmp_path / "newswatch.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_source_keys_build_sources(tmp_path):
    config = load_config(write(tmp_path, SOURCES))
    news, front = config.sources
    assert (news.kind, news.max_age, news.headers, news.enabled) == (
        "sitemap", timedelta(days=2), (("User-Agent", "newswatch-test (+https://n.example/bot)"),), True)
    assert (front.kind, front.links, front.enabled) == ("page", "h2 a.headline", False)
    assert config.health == ("ops",)
    assert config.crawl_settings["DOWNLOAD_TIMEOUT"] == 5
    assert config.crawl_settings["DOWNLOAD_MAXSIZE"] == 3 * 1024 * 1024


@pytest.mark.parametrize("old, new, expected", [
    ('links: "h2 a.headline"', 'links: "h2 a[["', "sources[1].links: not a CSS selector"),
    ("sitemap: https://n.example/news-sitemap.xml", "sitemap: n.example/news-sitemap.xml",
     "sources[0]: sitemap: expected an http:// or https:// URL"),
    ("    enabled: false\n", "    enabled: false\n  - name: f\n    feed: https://n.example/rss\n    links: a\n",
     "sources[2]: links: only a page source has a links selector"),
    ("max_age: 2d", "max_age: 2 weeks", "sources[0].max_age"),
    ("{User-Agent:", "{User Agent:", "sources[0].headers"),
    ("health: [ops]", "health: [pager]", "health[0]: unknown channel 'pager'"),
    ("timeout: 5s", "timeout: 5", "crawl.timeout"),
])
def test_bad_source_keys(tmp_path, old, new, expected):
    assert old in SOURCES
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, SOURCES.replace(old, new)))
    assert expected in str(caught.value)
