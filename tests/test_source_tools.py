"""Adding sources the way users have them: `sources import|export` (OPML) and
`sources discover`, against local news sites (tests/support/newssite.py), with the config
file edited round-trip (its comments and layout kept)."""
from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest

from support.newssite import NewsSite, manifest

ARTICLES = manifest()
# Crawling the local sites (127.0.0.1) is admitted explicitly, as a user's config must.
LOCAL = "crawl:\n  allow_private: true\n"


@pytest.fixture
def sites():
    started: list[NewsSite] = []

    def make() -> NewsSite:
        site = NewsSite().start()
        started.append(site)
        return site

    yield make
    for site in started:
        site.stop()


def opml(feeds: list[tuple[str, str]]) -> str:
    outlines = "".join(f"<outline type=\"rss\" text={quoteattr(title)} xmlUrl={quoteattr(url)}/>"
                       for title, url in feeds)
    return (f'<?xml version="1.0" encoding="UTF-8"?><opml version="2.0"><head><title>subs</title></head>'
            f'<body><outline text="News">{outlines}</outline></body></opml>')


def config_text(site: NewsSite) -> str:
    return (f"# my newswatch\ndatabase: sqlite:///nw.db   # local file\n{LOCAL}"
            "sources:\n"
            "  - name: meridian        # kept by hand\n"
            f"    feed: {site.feed_url}\n"
            "topics:\n"
            "  - name: korea-arms\n"
            "    query: \"South Korea Ukraine arms\"\n")


def statuses(newswatch) -> dict[str, dict]:
    status = newswatch("status", "--json")
    assert status.returncode == 0, status.stderr
    return {s["name"]: s for s in json.loads(status.stdout)["sources"]}


def test_import_opml_then_run_once_crawls_every_feed(newswatch, sites, tmp_path):
    known, first, second = sites(), sites(), sites()
    newswatch.write_config(config_text(known))
    before = newswatch.config.read_text()
    subscriptions = tmp_path / "subscriptions.opml"
    subscriptions.write_text(opml([
        ("The Meridian — World", first.feed_url),
        ("The Meridian — World", second.feed_url),  # same title: made unique
        ("Already here", known.feed_url),
    ]))

    done = newswatch("sources", "import", str(subscriptions))
    assert done.returncode == 0, done.stderr
    assert f"skipped (already a source): Already here: {known.feed_url}" in done.stdout
    assert done.stdout.rstrip().endswith("2 added, 1 skipped")
    text = newswatch.config.read_text()
    added = (f"  - name: the-meridian-world\n    feed: {first.feed_url}\n"
             f"  - name: the-meridian-world-2\n    feed: {second.feed_url}\n")
    # Appended to sources; everything else (comments, quotes, layout) as written.
    assert text.replace(added, "") == before

    assert newswatch("check").returncode == 0
    run = newswatch("run", "--once")
    assert run.returncode == 0, run.stderr
    runs = statuses(newswatch)
    for name in ("meridian", "the-meridian-world", "the-meridian-world-2"):
        assert runs[name]["last_run"] is not None and runs[name]["last_error"] is None, name
        assert runs[name]["new"] + runs[name]["duplicate"] == len(ARTICLES), name

    again = newswatch("sources", "import", str(subscriptions))
    assert again.returncode == 0, again.stderr
    assert again.stdout.rstrip().endswith("0 added, 3 skipped")
    assert newswatch.config.read_text() == text


@pytest.mark.parametrize("body, problem", [
    (b"", "not well-formed XML"),
    (b"<opml><body><outline xmlUrl='https://a.example/rss'>", "not well-formed XML"),
    (b"<html><body>subscriptions</body></html>", "the root element is <html>"),
    (b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaa">]><opml><body>&a;</body></opml>',
     "entity expansion refused"),
])
def test_a_malformed_opml_file_is_one_error_and_nothing_written(newswatch, tmp_path, body, problem):
    newswatch.write_config("# mine\nsources: []\n")
    before = newswatch.config.read_text()
    file = tmp_path / "subs.opml"
    file.write_bytes(body)
    done = newswatch("sources", "import", str(file))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"{file}: ") and problem in done.stderr
    assert newswatch.config.read_text() == before


def test_export_writes_the_configured_feeds_as_opml_that_imports_back(newswatch, tmp_path):
    newswatch.write_config({"sources": [
        {"name": "wnam", "feed": "https://wnam.example/rss.xml"},
        {"name": "viewus", "sitemap": "https://viewus.example/news-sitemap.xml"},
        {"name": "bits", "feed": "https://bits.example/atom.xml?x=1&y=2"},
    ]})
    done = newswatch("sources", "export", "-o", str(tmp_path / "out.opml"))
    assert done.returncode == 0, done.stderr

    other = tmp_path / "other"
    other.mkdir()
    (other / "newswatch.yaml").write_text("# a new config\n")
    imported = newswatch("--config", str(other / "newswatch.yaml"), "sources", "import", str(tmp_path / "out.opml"))
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.splitlines()[:2] == [
        "added wnam: https://wnam.example/rss.xml", "added bits: https://bits.example/atom.xml?x=1&y=2"]
