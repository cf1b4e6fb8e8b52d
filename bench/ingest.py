"""Ingest throughput: the whole daemon against bare extraction.

Workload: a local site (tests/newssite.py) of 320 generated article pages (about 20 KB
each: head metadata, JSON-LD, cookie banner, a mega-menu, related and most-read lists, a
footer, 8-14 paragraphs of prose) behind one RSS feed, crawled by `newswatch run --once`
into a fresh SQLite store with 20 topics whose alerts are queued to a console:// channel.
`ingest_pages_s` is pages stored over the source's crawl time as `newswatch status`
records it (fetch, extraction on the process pool, dedup, matching, storing and queuing
alerts; process start-up and alert delivery are outside it and printed separately).

Baseline, in the same run: bare `trafilatura.extract` over the same HTML bytes, one page
after another, in this one process (`extract_only_pages_s`). For context it also times
newswatch's own `extract` (metadata, canonical URL, cleaning) the same way
(`project_extract_pages_s`): the work the process pool spreads over the cores.

Also for context, fetching alone (`fetch_only_pages_s`): Scrapy with newswatch's own
settings (robots.txt, AutoThrottle, the per-host concurrency limit) and no pipeline at all,
reading the same feed and fetching the same pages in a process of its own. It is the
crawl's ceiling on this site: what the daemon would reach if extraction, dedup, matching
and storing cost nothing.

`ratio` = ingest_pages_s / extract_only_pages_s; the target is >= 1.0.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trafilatura
import yaml

from newswatch.corpus.extract import extract

from bench.sitegen import build_site

PAGES = 320
TOPICS = [
    '"interest rates" bank', 'wildfire "evacuation residents"', 'Seoul "minister said"',
    'Kyiv "officials said"', '"union strike"', '"election campaign" polls', '"vaccine study"',
    '"flood residents"', '"trade deal" tariffs', '"football match"', '"film director"',
    '"court appeal" OR "appeal ruling"', '"energy prices"', '"housing rents"',
    '"railway transport"', 'Brussels "budget talks"', '"drought heat"', '"inflation forecast"',
    '"hospital patients" doctors', 'Tokyo "markets shares"',
]


def fetch_only(feed_url: str) -> None:
    """In a process of its own: fetch the feed and its articles, keep nothing; print the
    pages fetched and the seconds it took as one JSON object."""
    import feedparser
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from newswatch.crawler.crawl import SETTINGS

    class FetchOnly(scrapy.Spider):
        name = "fetch-only"
        fetched = 0

        async def start(self):
            yield scrapy.Request(feed_url, callback=self.parse_feed)

        def parse_feed(self, response):
            for entry in feedparser.parse(response.body).entries:
                yield response.follow(entry.link, callback=self.parse_article)

        def parse_article(self, response):
            FetchOnly.fetched += 1

    process = CrawlerProcess({**SETTINGS, "ITEM_PIPELINES": {}, "NEWSWATCH_ALLOW_PRIVATE": True})
    process.crawl(FetchOnly)
    started = time.perf_counter()
    process.start()
    print(json.dumps({"pages": FetchOnly.fetched, "seconds": time.perf_counter() - started}))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        site, pages = build_site(tmp / "site", PAGES)
        site.start()
        try:
            config = tmp / "newswatch.yaml"
            config.write_text(yaml.safe_dump({
                "database": f"sqlite:///{tmp / 'newswatch.db'}",
                "sources": [{"name": "bench", "feed": site.feed_url}],
                "topics": [{"name": f"topic-{i}", "query": q, "notify": ["local"]}
                           for i, q in enumerate(TOPICS)],
                "channels": {"local": ["console://"]},
                "crawl": {"allow_private": True},  # the site is on 127.0.0.1
            }))
            cli = [sys.executable, "-m", "newswatch.jobs.cli", "--config", str(config)]
            started = time.perf_counter()
            run = subprocess.run([*cli, "run", "--once"], capture_output=True, text=True, cwd=tmp)
            wall_s = time.perf_counter() - started
            if run.returncode != 0:
                sys.exit(f"run --once failed:\n{run.stderr[-3000:]}")
            status = json.loads(subprocess.run([*cli, "status", "--json"], capture_output=True,
                                               text=True, cwd=tmp, check=True).stdout)
            fetched = json.loads(subprocess.run([sys.executable, "-m", "bench.ingest", "--fetch-only", site.feed_url],
                                                capture_output=True, text=True, check=True,
                                                cwd=Path(__file__).resolve().parent.parent).stdout)
        finally:
            site.stop()
    source = status["sources"][0]
    if source["new"] != PAGES:
        sys.exit(f"expected {PAGES} new articles, the run stored {source['new']}: {source}")
    ingest_pages_s = PAGES / source["duration_s"]

    started = time.perf_counter()
    for body in pages.values():
        trafilatura.extract(body)
    extract_only_s = time.perf_counter() - started
    extract_only_pages_s = PAGES / extract_only_s

    started = time.perf_counter()
    for path, body in pages.items():
        extract(body, f"http://127.0.0.1{path}", "text/html; charset=utf-8")
    project_extract_pages_s = PAGES / (time.perf_counter() - started)

    if fetched["pages"] != PAGES:
        sys.exit(f"fetching alone fetched {fetched['pages']} pages, not {PAGES}")
    fetch_only_pages_s = PAGES / fetched["seconds"]

    print(f"pages: {PAGES}, {sum(map(len, pages.values())) / PAGES / 1024:.1f} KB each on average")
    print(f"run --once: crawl {source['duration_s']:.2f}s ({ingest_pages_s:.1f} pages/s), "
          f"whole process with start-up and {status['outbox']['sent']} alerts delivered {wall_s:.2f}s")
    print(f"bare trafilatura.extract, one process: {extract_only_s:.2f}s ({extract_only_pages_s:.1f} pages/s)")
    print(f"Scrapy fetching alone, same settings, no pipeline: {fetch_only_pages_s:.1f} pages/s "
          f"(ingest / this: {ingest_pages_s / fetch_only_pages_s:.2f})")
    print(f"newswatch extract, one process: {project_extract_pages_s:.1f} pages/s "
          f"(ingest / this: {ingest_pages_s / project_extract_pages_s:.2f})")
    ratio = ingest_pages_s / extract_only_pages_s
    print(f"ratio: {ratio:.2f} (target >= 1.0)")
    print(json.dumps({
        "pages": PAGES,
        "ingest_pages_s": round(ingest_pages_s, 2),
        "extract_only_pages_s": round(extract_only_pages_s, 2),
        "ratio": round(ratio, 3),
        "project_extract_pages_s": round(project_extract_pages_s, 2),
        "fetch_only_pages_s": round(fetch_only_pages_s, 2),
    }))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--fetch-only"]:
        fetch_only(sys.argv[2])
    else:
        main()
