"""The local news site used by end-to-end tests: the server works, the manifest is honest.

The ground-truth tests re-derive every article's topics from its extracted text with a
deliberately simple matcher (regex, word boundaries, an optional plural "s"/"es"), and
cross-check with Snowball stems, so the manifest cannot drift from the prose.
"""
from __future__ import annotations

import http.client
import json
import re
import time
from collections import Counter
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import feedparser
import lxml.html
import pytest
import Stemmer
import trafilatura

from support.newssite import SITE_DIR, TOPIC_QUERIES, NewsSite, manifest, news_site  # noqa: F401

ARTICLES = manifest()
SEOUL = next(a for a in ARTICLES if a["slug"] == "seoul-approves-ukraine-arms-package")


def fetch(site: NewsSite, target: str, method: str = "GET", headers: dict | None = None,
          timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection: (status, lower-cased headers, body)."""
    port = urlsplit(site.base_url).port
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, target, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


# --------------------------------------------------------------------------- the server


def test_feed_lists_every_article_with_absolute_links(news_site: NewsSite) -> None:
    status, headers, body = fetch(news_site, "/rss.xml")
    assert status == 200
    assert headers["content-type"].startswith("application/rss+xml")
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "rss20"
    assert len(feed.entries) == len(ARTICLES) == 12
    for entry, article in zip(feed.entries, ARTICLES):
        assert entry.link == news_site.base_url + article["path"]
        assert entry.id == entry.link
        assert entry.title == article["title"]
        published = parsedate_to_datetime(entry.published)
        assert published == datetime.fromisoformat(article["published"])
        assert entry.summary == article["description"]
    assert [i.link for i in news_site.feed_items()] == [e.link for e in feed.entries]


def test_page_is_served_with_validators_and_revalidates_to_304(news_site: NewsSite) -> None:
    path = SEOUL["path"]
    status, headers, body = fetch(news_site, path)
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert body == (SITE_DIR / path.lstrip("/")).read_bytes()
    assert int(headers["content-length"]) == len(body)
    etag, last_modified = headers["etag"], headers["last-modified"]

    assert fetch(news_site, path, headers={"If-None-Match": etag})[:3:2] == (304, b"")
    assert fetch(news_site, path, headers={"If-Modified-Since": last_modified})[0] == 304
    # If-None-Match decides when both are sent; a stale tag means a full response.
    stale = {"If-None-Match": '"stale"', "If-Modified-Since": last_modified}
    assert fetch(news_site, path, headers=stale)[0] == 200

    status, head_headers, head_body = fetch(news_site, path, method="HEAD")
    assert (status, head_body) == (200, b"")
    assert head_headers["content-length"] == headers["content-length"]
    assert head_headers["etag"] == etag


def test_unknown_paths_get_a_404_html_page(news_site: NewsSite) -> None:
    for target in ("/no/such/page.html", "/manifest.json", "/world/2026/", "/../newssite.py"):
        status, headers, body = fetch(news_site, target)
        assert status == 404, target
        assert headers["content-type"].startswith("text/html")
        assert b"find that page" in body


def test_added_feed_item_is_on_top_and_changes_the_validators(news_site: NewsSite) -> None:
    _, headers, _ = fetch(news_site, "/rss.xml")
    etag, last_modified = headers["etag"], headers["last-modified"]
    assert fetch(news_site, "/rss.xml", headers={"If-None-Match": etag})[0] == 304

    tracked = SEOUL["path"] + "?utm_source=rss&utm_medium=feed"
    news_site.add_feed_item(SEOUL["path"], "Seoul arms package: what is in it", link=tracked,
                            published="2026-11-23T08:00:00+00:00")

    assert fetch(news_site, "/rss.xml", headers={"If-None-Match": etag})[0] == 200
    status, _, body = fetch(news_site, "/rss.xml", headers={"If-Modified-Since": last_modified})
    assert status == 200
    feed = feedparser.parse(body)
    assert len(feed.entries) == 13
    assert feed.entries[0].title == "Seoul arms package: what is in it"
    assert feed.entries[0].link == news_site.url(tracked)
    top = news_site.feed_items()[0]
    assert (top.path, top.link) == (SEOUL["path"], news_site.base_url + tracked)
    home = fetch(news_site, "/")[2].decode()
    assert home.index("what is in it") < home.index(ARTICLES[0]["title"])


def test_add_page_serves_and_replaces_content(news_site: NewsSite) -> None:
    news_site.add_page("/world/2026/11/extra.html", "<html><body><p>Première</p></body></html>")
    status, headers, body = fetch(news_site, "/world/2026/11/extra.html?ref=home")
    assert (status, body.decode()) == (200, "<html><body><p>Première</p></body></html>")
    news_site.add_page("/world/2026/11/extra.html", b"<html><body>v2</body></html>")
    status, headers2, body = fetch(news_site, "/world/2026/11/extra.html",
                                   headers={"If-None-Match": headers["etag"],
                                            "If-Modified-Since": headers["last-modified"]})
    assert (status, body) == (200, b"<html><body>v2</body></html>")
    assert parsedate_to_datetime(headers2["last-modified"]) > parsedate_to_datetime(headers["last-modified"])


def test_set_response_overrides_and_clears(news_site: NewsSite) -> None:
    path = SEOUL["path"]
    news_site.set_response(path, 500, b"<h1>Internal error</h1>")
    assert fetch(news_site, path)[::2] == (500, b"<h1>Internal error</h1>")
    assert fetch(news_site, path + "?page=2")[0] == 500  # a query-less override covers any query
    news_site.clear_response(path)
    assert fetch(news_site, path)[0] == 200

    news_site.set_response("/rss.xml", 429, headers={"Retry-After": "3"}, times=2)
    for _ in range(2):
        status, headers, _ = fetch(news_site, "/rss.xml")
        assert (status, headers["retry-after"]) == (429, "3")
    assert fetch(news_site, "/rss.xml")[0] == 200  # back to normal after `times`

    news_site.set_response("/old.html", 301, headers={"Location": path})
    status, headers, _ = fetch(news_site, "/old.html")
    assert (status, headers["location"]) == (301, path)


def test_slow_response_times_out_and_does_not_block_stop() -> None:
    site = NewsSite().start()
    try:
        site.set_response("/rss.xml", 200, b"late", delay=30)
        with pytest.raises(TimeoutError):
            fetch(site, "/rss.xml", timeout=0.3)
    finally:
        started = time.monotonic()
        site.stop()
    assert time.monotonic() - started < 3
    with pytest.raises(OSError):
        fetch(site, "/rss.xml", timeout=1)


def test_requests_are_recorded_and_counted(news_site: NewsSite) -> None:
    path = SEOUL["path"]
    fetch(news_site, path + "?utm_source=x", headers={"User-Agent": "newswatch-test"})
    fetch(news_site, path)
    fetch(news_site, path, method="HEAD")
    fetch(news_site, "/rss.xml")
    assert news_site.count(path) == 2  # GETs only, whatever the query string
    assert news_site.count(news_site.url(path)) == 2
    assert news_site.count("/rss.xml") == 1
    assert news_site.count("/nothing.html") == 0
    first = news_site.requests[0]
    assert (first.method, first.path) == ("GET", path + "?utm_source=x")
    assert first.headers["user-agent"] == "newswatch-test"
    assert [r.method for r in news_site.requests] == ["GET", "GET", "HEAD", "GET"]
    assert all(r.time <= time.time() for r in news_site.requests)


def test_front_pages_and_sitemap_list_the_feed(news_site: NewsSite) -> None:
    home = lxml.html.fromstring(fetch(news_site, "/")[2])
    assert home.xpath("//a[@class='headline']/@href") == [a["path"] for a in ARTICLES]
    sport = lxml.html.fromstring(fetch(news_site, "/sport/")[2])
    assert sport.xpath("//a[@class='headline']/@href") == [
        a["path"] for a in ARTICLES if a["path"].startswith("/sport/")]
    status, headers, body = fetch(news_site, "/news-sitemap.xml")
    assert status == 200 and headers["content-type"].startswith("application/xml")
    assert body.count(b"<url>") == 12


# --------------------------------------------------------------------------- the manifest


def _query_terms(query: str) -> list[str]:
    """Words and quoted phrases of a plain AND query."""
    return [phrase or word for phrase, word in re.findall(r'"([^"]+)"|(\S+)', query)]


def _term_regex(term: str) -> re.Pattern[str]:
    """A lower-case regex for a word or phrase: word boundaries, optional plural s/es."""
    parts = []
    for word in term.lower().split():
        base = word[:-1] if word.endswith("s") and not word.endswith("ss") else word
        parts.append(re.escape(base) + r"(?:s|es)?")
    return re.compile(r"\b" + r"\s+".join(parts) + r"\b")


def regex_topics(text: str) -> set[str]:
    """Topics whose every term occurs in `text` by the simple regex rule."""
    lowered = text.lower()
    return {name for name, query in TOPIC_QUERIES.items()
            if all(_term_regex(t).search(lowered) for t in _query_terms(query))}


_STEMMER = Stemmer.Stemmer("english")


def _stems(text: str) -> str:
    return " " + " ".join(_STEMMER.stemWords(re.findall(r"\w+", text.lower()))) + " "


def stem_topics(text: str) -> set[str]:
    """Topics whose every term occurs in `text` after Snowball stemming (phrases adjacent)."""
    stems = _stems(text)
    return {name for name, query in TOPIC_QUERIES.items()
            if all(_stems(t) in stems for t in _query_terms(query))}


def _page(article: dict) -> str:
    return (SITE_DIR / article["path"].lstrip("/")).read_text(encoding="utf-8")


def _visible_text(html: str) -> str:
    tree = lxml.html.fromstring(html)
    for node in tree.xpath("//script|//style"):
        node.drop_tree()
    return tree.text_content()


def test_manifest_has_the_promised_shape() -> None:
    assert len(ARTICLES) == 12
    assert len({a["slug"] for a in ARTICLES}) == len({a["path"] for a in ARTICLES}) == 12
    per_topic = Counter(t for a in ARTICLES for t in a["topics"])
    assert per_topic == {"korea-arms": 3, "ecb-rates": 2, "wildfire": 2}
    assert all(len(a["topics"]) <= 1 for a in ARTICLES)
    # Decoys: the page as a whole mentions South Korea, Ukraine and arms (sidebars), the
    # article does not. (Most pages' sidebars carry headlines for all three topics.)
    decoys = [a for a in ARTICLES if not a["topics"]
              and "korea-arms" in regex_topics(_visible_text(_page(a)))]
    assert len(decoys) >= 2
    assert {a["layout"] for a in ARTICLES} == {"A", "B", "C"}


@pytest.mark.parametrize("article", ARTICLES, ids=[a["slug"] for a in ARTICLES])
def test_manifest_topics_match_the_extracted_article(article: dict) -> None:
    html = _page(article)
    expected = set(article["topics"])
    for include_comments in (True, False):
        body = trafilatura.extract(html, include_comments=include_comments)
        assert body, "trafilatura found no article text"
        text = article["title"] + "\n" + body
        assert regex_topics(text) == expected, (include_comments, text)
        assert stem_topics(text) == expected, (include_comments, text)


@pytest.mark.parametrize("article", ARTICLES, ids=[a["slug"] for a in ARTICLES])
def test_page_metadata_agrees_with_the_manifest(article: dict) -> None:
    tree = lxml.html.fromstring(_page(article))
    path, title, published = article["path"], article["title"], article["published"]

    def meta(attr: str, name: str) -> str:
        (value,) = tree.xpath(f"//meta[@{attr}=$n]/@content", n=name)
        return value

    assert tree.get("lang") == "en-GB"
    assert tree.findtext(".//title").startswith(title + " | ")
    assert meta("name", "description") == article["description"]
    assert tree.xpath("//link[@rel='canonical']/@href") == [path]
    assert meta("property", "og:url") == path
    assert meta("property", "og:title") == title
    assert meta("property", "article:published_time") == published
    (ld,) = [json.loads(s) for s in tree.xpath("//script[@type='application/ld+json']/text()")]
    assert (ld["@type"], ld["headline"], ld["datePublished"]) == ("NewsArticle", title, published)
    authors = ld["author"] if isinstance(ld["author"], list) else [ld["author"]]
    assert ", ".join(a["name"] for a in authors) == article["author"]
    assert [h.text_content() for h in tree.xpath("//h1")] == [title]

    paragraphs = tree.xpath("//div[@class='article__body' or @class='story-text' or @id='articleText']/p")
    words = sum(len(p.text_content().split()) for p in paragraphs)
    assert 5 <= len(paragraphs) <= 9 and 300 <= words <= 700, (len(paragraphs), words)
    text = tree.text_content()
    for boilerplate in ("Related stories", "Most read", "Share on Facebook", "Tweet",
                        "cookies", "newsletter", "comments", "© 2026"):
        assert boilerplate.lower() in text.lower(), boilerplate
    assert len(tree.xpath("//nav//a | //ul[@id='nav']//a")) >= 15
