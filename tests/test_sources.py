"""Source kinds and the faults real sites throw, end to end: `newswatch run --once`
against local news sites (tests/newssite.py), one site per source so each fault stays
in its own source, and `newswatch status --json` for what each run counted."""
from __future__ import annotations

import gzip
import json
import random
import sqlite3
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest

from support.newssite import manifest

pytestmark = pytest.mark.one_backend

PAGES = Path(__file__).resolve().parent / "pages"
ARTICLES = manifest()
WORLD = [a for a in ARTICLES if a["path"].startswith("/world/")]
FRESH = "/world/2026/11/fresh-article.html"
FRESH_HTML = (PAGES.parent / "site" / ARTICLES[0]["path"].lstrip("/")).read_text("utf-8")


def run_once(newswatch, sources: list[dict], **extra) -> tuple[dict, str]:
    newswatch.write_config({"database": "sqlite:///nw.db", "sources": sources,
                            "topics": [{"name": "korea-arms", "query": "South Korea Ukraine arms"}],
                            **extra})
    done = newswatch("run", "--once")
    assert done.returncode == 0, done.stderr
    status = newswatch("status", "--json")
    assert status.returncode == 0, status.stderr
    return {s["name"]: s for s in json.loads(status.stdout)["sources"]}, done.stderr


def got(run: dict) -> int:
    """Articles the run stored (the site has republished copies: they count as duplicates)."""
    return run["new"] + run["duplicate"]


def stored(newswatch, source: str) -> list[tuple[str, str]]:
    with sqlite3.connect(newswatch.workdir / "nw.db") as db:
        return db.execute("SELECT url, title FROM articles WHERE source = ?", (source,)).fetchall()


def atom_feed(paths: list[str]) -> str:
    """Atom with relative links (resolved against xml:base), plus an entry without one."""
    entries = "".join(f'<entry><title>t{i}</title><id>urn:x:{i}</id><link href="{p.lstrip("/")}"/>'
                      "<updated>2026-11-20T10:00:00Z</updated></entry>" for i, p in enumerate(paths))
    return ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" xml:base="/">'
            f"<title>x</title>{entries}<entry><title>no link</title><id>urn:x:none</id></entry></feed>")


def rdf_feed(urls: list[str]) -> str:
    items = "".join(f'<item rdf:about="{u}"><title>t</title><link>{u}</link></item>' for u in urls)
    return ('<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            f'xmlns="http://purl.org/rss/1.0/"><channel rdf:about="x"><title>x</title></channel>{items}</rdf:RDF>')


def test_every_source_kind_finds_its_articles(newswatch, sites):
    feed, sitemap, listing, section, old = sites(), sites(), sites(), sites(), sites()
    atom, rdf = sites(), sites()
    atom.add_page("/atom.xml", atom_feed([a["path"] for a in WORLD]), "application/atom+xml")
    rdf.add_page("/rdf.xml", rdf_feed([rdf.url(a["path"]) for a in WORLD]), "application/rdf+xml")
    # A sitemap index pointing at a gzipped Google News sitemap.
    with urllib.request.urlopen(sitemap.url("/news-sitemap.xml")) as response:
        sitemap.add_page("/news-sitemap.xml.gz", gzip.compress(response.read()), "application/x-gzip")
    sitemap.add_page("/sitemap-index.xml", (
        '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<sitemap><loc>/news-sitemap.xml.gz</loc></sitemap></sitemapindex>"), "application/xml")
    # max_age: only the item published now is young enough.
    old.add_page(FRESH, FRESH_HTML.replace(ARTICLES[0]["path"], FRESH))
    old.add_feed_item(FRESH, "Fresh", published=datetime.now(timezone.utc))

    runs, log = run_once(newswatch, [
        {"name": "feed", "feed": feed.feed_url},
        {"name": "sitemap", "sitemap": sitemap.url("/sitemap-index.xml")},
        {"name": "listing", "page": listing.url("/"), "links": "a.headline"},
        {"name": "section", "page": section.url("/world/")},
        {"name": "recent", "sitemap": old.url("/news-sitemap.xml"), "max_age": "1h"},
        {"name": "off", "feed": old.feed_url, "enabled": False},
        {"name": "atom", "feed": atom.url("/atom.xml")},
        {"name": "rdf", "feed": rdf.url("/rdf.xml")},
    ])

    for name in ("feed", "sitemap", "listing"):
        assert (got(runs[name]), runs[name]["failed"], runs[name]["last_error"]) == (len(ARTICLES), 0, None), name
    for name in ("section", "atom", "rdf"):
        assert (got(runs[name]), runs[name]["failed"]) == (len(WORLD), 0), name
    assert "source atom: " in log and "(1 without a link)" in log, log
    assert f"({len(ARTICLES)} too old)" in log
    assert sorted(url.split("/", 3)[3] for url, _ in stored(newswatch, "section")) == \
        sorted(a["path"].lstrip("/") for a in WORLD)
    assert [url for url, _ in stored(newswatch, "recent")] == [old.url(FRESH)]
    assert runs["off"]["last_run"] is None and runs["off"]["next_run"] is None
    assert runs["feed"]["next_run"] is not None

    # A disabled source is crawled when named; the output is plain lines off a terminal.
    # (Its site serves the same pages as the others: copies; its fresh page is known.)
    done = newswatch("crawl", "off")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"off: 0 new, {len(ARTICLES)} duplicate, 0 failed in ")
    assert "\r" not in done.stderr


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
]>
<rss version="2.0"><channel><title>&d;</title>
<item><title>&d;</title><link>/world/x.html</link></item></channel></rss>"""

VICTIM = ARTICLES[0]["path"]  # the page each fault hits


def fault_404(site):
    site.set_response(VICTIM, 404, b"<h1>gone</h1>")


def fault_500(site):
    site.set_response(VICTIM, 500, b"<h1>oops</h1>")


def fault_429_too_long(site):
    site.set_response(VICTIM, 429, b"", {"Retry-After": "3600"})


def fault_redirect_loop(site):
    site.set_response(VICTIM, 302, b"", {"Location": VICTIM})


def fault_slow(site):
    site.set_response(VICTIM, 200, FRESH_HTML.encode(), delay=4)


def fault_huge(site):
    site.set_response(VICTIM, 200, b"<p>" + b"x" * (50 * 1024 * 1024))


def fault_binary(site):
    site.set_response(VICTIM, 200, random.Random(4).randbytes(40_000), {"Content-Type": "text/html; charset=utf-8"})


def fault_robots(site):
    site.set_response("/robots.txt", 200, b"User-agent: *\nDisallow: " + VICTIM.encode() + b"\n",
                      {"Content-Type": "text/plain"})


FAULTS = [fault_404, fault_500, fault_429_too_long, fault_redirect_loop, fault_slow, fault_huge,
          fault_binary, fault_robots]


@pytest.mark.slow
def test_faults_are_skipped_counted_and_logged_once(newswatch, sites):
    healthy = sites()
    broken = {fault.__name__: sites() for fault in FAULTS}
    for fault in FAULTS:
        fault(broken[fault.__name__])
    bomb, oversized = sites(), sites()
    bomb.set_response("/rss.xml", 200, BOMB, {"Content-Type": "application/rss+xml"})
    oversized.set_response("/rss.xml", 200, b"<rss>" + b" " * (3 * 1024 * 1024), {"Content-Type": "application/rss+xml"})

    sources = [{"name": "healthy", "feed": healthy.feed_url}]
    sources += [{"name": name, "feed": site.feed_url} for name, site in broken.items()]
    sources += [{"name": "bomb", "feed": bomb.feed_url}, {"name": "oversized", "feed": oversized.feed_url}]
    runs, log = run_once(newswatch, sources, crawl={"timeout": "1s", "max_size_mb": 2, "retry_after_max": "5s"})

    assert got(runs["healthy"]) == len(ARTICLES) and runs["healthy"]["failed"] == 0
    for name, site in broken.items():
        assert (got(runs[name]), runs[name]["failed"]) == (len(ARTICLES) - 1, 1), (name, runs[name])
        assert runs[name]["last_error"] is None, name
        assert sum(site.url(VICTIM) in line for line in log.splitlines()) == 1, (name, [l for l in log.splitlines() if site.url(VICTIM) in l])
    for name in ("bomb", "oversized"):
        assert (got(runs[name]), runs[name]["failed"]) == (0, 1), (name, runs[name])
        assert runs[name]["last_error"], name
    assert "entity expansion refused" in runs["bomb"]["last_error"]
    assert broken["fault_robots"].count(VICTIM) == 0


def test_retry_after_is_honoured_then_the_page_arrives(newswatch, sites):
    site = sites()
    site.set_response(VICTIM, 429, b"", {"Retry-After": "2"}, times=1)
    runs, _ = run_once(newswatch, [{"name": "limited", "feed": site.feed_url}])

    assert (got(runs["limited"]), runs["limited"]["failed"]) == (len(ARTICLES), 0)
    tries = [r.time for r in site.requests if r.path == VICTIM]
    assert len(tries) == 2 and tries[1] - tries[0] >= 2


def test_latin1_page_declared_utf8_is_decoded(newswatch, sites):
    site = sites()
    path = "/world/2026/11/greve-des-bus.html"
    site.add_page(path, (PAGES / "latin1_fr.html").read_bytes(), "text/html; charset=utf-8")
    site.add_feed_item(path, "Grève")
    run_once(newswatch, [{"name": "fr", "feed": site.feed_url}])

    titles = [title for url, title in stored(newswatch, "fr") if url == site.url(path)]
    assert titles == [json.loads((PAGES / "latin1_fr.json").read_text("utf-8"))["title"]]


def test_unchanged_listings_cost_a_304_and_no_article_request(newswatch, sites):
    feed, section = sites(), sites()
    feed.set_response(VICTIM, 500, b"", times=3)  # the first run's three tries all fail
    sources = [{"name": "feed", "feed": feed.feed_url}, {"name": "section", "page": section.url("/world/")}]

    first, _ = run_once(newswatch, sources)
    assert first["feed"]["failed"] == 1
    # A page failed for a passing reason: the feed's validators were not kept, so the
    # next run reads the feed again and retries the page.
    second, _ = run_once(newswatch, sources)
    assert (got(second["feed"]), second["feed"]["failed"]) == (1, 0)
    assert "if-none-match" not in [r for r in feed.requests if r.path == "/rss.xml"][1].headers

    before = {site: len(site.requests) for site in (feed, section)}
    third, _ = run_once(newswatch, sources)
    for site, listing in ((feed, "/rss.xml"), (section, "/world/")):
        later = site.requests[before[site]:]
        assert [r.path for r in later if r.path != "/robots.txt"] == [listing]
        assert "if-none-match" in later[-1].headers
    assert got(third["feed"]) == got(third["section"]) == 0


@pytest.mark.slow
def test_broken_source_alerts_once_and_once_more_on_recovery(newswatch, sites, webhook_server):
    site = sites()
    site.set_response("/rss.xml", 500, b"down")
    newswatch.write_config({
        "database": "sqlite:///nw.db",
        "sources": [{"name": "flaky", "feed": site.feed_url}],
        "channels": {"ops": [webhook_server.apprise_url()]},
        "health": ["ops"],
    })

    def notices() -> list[str]:
        return [p.get("title", "") for _path, _headers, p in webhook_server.posts]

    for run in range(4):
        done = newswatch("run", "--once")
        assert done.returncode == 1, done.stderr  # its only source failed
        assert notices() == ([] if run < 2 else ["[newswatch] source broken: flaky"]), run
    status = json.loads(newswatch("status", "--json").stdout)["sources"][0]
    assert status["failures_in_row"] == 4 and status["broken_since"]

    site.clear_response("/rss.xml")
    assert newswatch("run", "--once").returncode == 0
    assert notices() == ["[newswatch] source broken: flaky", "[newswatch] source recovered: flaky"]
    assert newswatch("run", "--once").returncode == 0
    assert len(notices()) == 2
