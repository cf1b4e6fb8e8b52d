"""Adding sources the way users have them: `sources import|export` (OPML) and
`sources discover`, against local news sites (tests/support/newssite.py), with the config
file edited round-trip (its comments and layout kept)."""
from __future__ import annotations

import json
from datetime import datetime
from xml.sax.saxutils import quoteattr

import pytest

from newswatch.crawler.addresses import is_private
from support.newssite import NewsSite, manifest

pytestmark = pytest.mark.one_backend

ARTICLES = manifest()
# Crawling the local sites (127.0.0.1) is admitted explicitly, as a user's config must.
LOCAL = "crawl:\n  allow_private: true\n"


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


def test_discover_lists_the_feed_and_news_sitemap_and_add_makes_a_source_that_runs(newswatch, news_site):
    # A feed-looking link that is too large to read (the crawl's max_size_mb) is left out.
    news_site.add_page("/feed", "<rss>" + "x" * (1024 * 1024 + 1) + "</rss>", "application/rss+xml")
    newswatch.write_config(f"# watching the Meridian\ndatabase: sqlite:///nw.db\n{LOCAL}  max_size_mb: 1\n")

    done = newswatch("sources", "discover", news_site.url("/"), "--json")
    assert done.returncode == 0, done.stderr
    [report] = json.loads(done.stdout)
    newest = max(datetime.fromisoformat(a["published"]) for a in ARTICLES)
    assert [(f["url"], f["kind"], f["news"], f["entries"], f["via"]) for f in report["found"]] == [
        (news_site.feed_url, "feed", False, len(ARTICLES), "link"),
        (news_site.url("/news-sitemap.xml"), "sitemap", True, len(ARTICLES), "robots.txt"),
    ]
    for found in report["found"]:
        assert found["title"] == "The Meridian"
        assert datetime.fromisoformat(found["newest"]) == newest

    added = newswatch("sources", "discover", news_site.url("/"), "--add", "meridian")
    assert added.returncode == 0, added.stderr
    assert "added meridian to newswatch.yaml" in added.stdout
    assert newswatch.config.read_text().endswith(f"sources:\n- name: meridian\n  feed: {news_site.feed_url}\n")
    assert newswatch.config.read_text().startswith("# watching the Meridian\n")
    assert newswatch("check").returncode == 0
    run = newswatch("run", "--once")
    assert run.returncode == 0, run.stderr
    meridian = statuses(newswatch)["meridian"]
    assert (meridian["new"] + meridian["duplicate"], meridian["last_error"]) == (len(ARTICLES), None)

    again = newswatch("sources", "discover", news_site.url("/"), "--add", "meridian")
    assert again.returncode == 2 and "a source named 'meridian' exists" in again.stderr


def test_discover_refuses_a_private_address_unless_the_config_admits_it(newswatch, news_site):
    newswatch.allow_private = False
    newswatch.write_config("database: sqlite:///nw.db\n")
    done = newswatch("sources", "discover", news_site.url("/"))
    assert done.returncode == 1
    assert "resolves to the private address 127.0.0.1" in done.stderr
    assert news_site.requests == []


@pytest.mark.parametrize("address, public", [
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False),
    ("::1", False), ("fc00::1", False), ("fe80::1", False), ("ff02::1", False), ("::", False),
    ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False),
    ("93.184.216.34", True), ("2606:4700::1111", True), ("::ffff:93.184.216.34", True),
])
def test_only_public_addresses_are_fetched_by_default(address, public):
    assert is_private(address) is not public


def test_init_systemd_writes_a_hardened_unit_for_the_config(newswatch, tmp_path):
    import configparser

    folder = tmp_path / "etc"
    done = newswatch("init", "--systemd", str(folder))
    assert done.returncode == 0, done.stderr
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str
    unit.read(folder / "newswatch.service")
    service = unit["Service"]
    assert service["ExecStart"].endswith(f" run --config {folder / 'newswatch.yaml'}")
    assert (service["User"], service["Restart"], service["ExecReload"]) == (
        "newswatch", "on-failure", "/bin/kill -HUP $MAINPID")
    assert (service["ProtectSystem"], service["NoNewPrivileges"]) == ("strict", "yes")
    # The starter's relative SQLite file lives in the working directory, which stays writable.
    assert service["WorkingDirectory"] in service["ReadWritePaths"].split()
    assert unit["Install"]["WantedBy"] == "multi-user.target"

    # An existing config is kept; its database folder is writable too.
    config = folder / "newswatch.yaml"
    config.write_text(config.read_text().replace("sqlite:///newswatch.db", "sqlite:////srv/news/nw.db"))
    (folder / "newswatch.service").unlink()
    assert newswatch("init", "--systemd", str(folder)).returncode == 0
    assert "ReadWritePaths=/var/lib/newswatch /srv/news\n" in (folder / "newswatch.service").read_text()


def test_discover_follows_feed_links_on_a_page_and_tries_common_paths(newswatch, news_site):
    world = [a for a in ARTICLES if a["path"].startswith("/world/")]
    entries = "".join(f"<entry><title>{a['title']}</title><id>{news_site.url(a['path'])}</id>"
                      f"<link href=\"{news_site.url(a['path'])}\"/><updated>{a['published']}</updated></entry>"
                      for a in world)
    news_site.add_page("/world/feed.atom", '<?xml version="1.0" encoding="utf-8"?>'
                       f'<feed xmlns="http://www.w3.org/2005/Atom"><title>World</title>{entries}</feed>',
                       "application/atom+xml")
    # A page without <link rel="alternate">: the feed is only linked from its text.
    news_site.add_page("/subscribe.html", '<html><head><title>Subscribe</title></head><body>'
                       '<p><a href="/world/feed.atom">World news feed</a> <a href="/about.html">About</a></p>'
                       '</body></html>')
    newswatch.write_config(f"database: sqlite:///nw.db\n{LOCAL}")

    done = newswatch("sources", "discover", news_site.url("/subscribe.html"), "--json")
    assert done.returncode == 0, done.stderr
    [report] = json.loads(done.stdout)
    found = {f["url"]: (f["kind"], f["via"], f["entries"], f["title"]) for f in report["found"]}
    assert found == {
        news_site.url("/world/feed.atom"): ("feed", "page", len(world), "World"),
        news_site.feed_url: ("feed", "common path", len(ARTICLES), "The Meridian"),
        news_site.url("/news-sitemap.xml"): ("sitemap", "robots.txt", len(ARTICLES), "The Meridian"),
    }
    # Best first: the site feed has the newest entry (it has them all) and the most entries.
    assert report["found"][0]["url"] == news_site.feed_url
