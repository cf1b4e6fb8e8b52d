"""What a second look at unchanged sources costs.

Workload: two local sites (tests/newssite.py): one with a 200-entry RSS feed of generated
article pages (about 20 KB each), one with a 1,000-URL Google News sitemap of short
article pages. `newswatch run --once` crawls both into a fresh SQLite store (the first
pass, the baseline), then runs again with nothing changed (the second pass). Bytes are
everything the sites sent (status lines, headers, bodies, robots.txt included).

Figures: `bytes_first`, `bytes_second`, `saved` = 1 - bytes_second / bytes_first (target
>= 0.95), and `article_requests_second` (target 0: every article URL is known, and the
feed and the sitemap answer 304 to the conditional GET).
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from html import escape
from pathlib import Path

import yaml

from bench.sitegen import NewsSite, build_site, headline, paragraph

FEED_ENTRIES = 200
SITEMAP_URLS = 1000
LISTINGS = {"/rss.xml", "/news-sitemap.xml", "/robots.txt"}


def short_site(root: Path, count: int) -> NewsSite:
    import random

    rng = random.Random(11)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    articles = []
    for i in range(count):
        title = headline(rng)
        path = f"/world/2026/11/short-{i}.html"
        file = root / path.lstrip("/")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(f"<!DOCTYPE html><html lang='en'><head><title>{escape(title)}</title></head>"
                        f"<body><article><h1>{escape(title)}</h1><p>{escape(paragraph(rng))}</p>"
                        f"<p>{escape(paragraph(rng))}</p></article></body></html>", encoding="utf-8")
        articles.append({"path": path, "title": title, "published": (now - timedelta(minutes=i)).isoformat()})
    return NewsSite(root=root, articles=articles)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        feed_site, _ = build_site(tmp / "feed", FEED_ENTRIES)
        map_site = short_site(tmp / "map", SITEMAP_URLS)
        sites = (feed_site.start(), map_site.start())
        try:
            config = tmp / "newswatch.yaml"
            config.write_text(yaml.safe_dump({
                "database": f"sqlite:///{tmp / 'newswatch.db'}",
                "sources": [{"name": "feed", "feed": feed_site.feed_url},
                            {"name": "sitemap", "sitemap": map_site.url("/news-sitemap.xml")}],
                "crawl": {"allow_private": True},  # the sites are on 127.0.0.1
            }))
            cli = [sys.executable, "-m", "newswatch.jobs.cli", "--config", str(config), "run", "--once"]
            passes = []
            for _ in range(2):
                requests_before = [len(s.requests) for s in sites]
                bytes_before = sum(s.bytes_sent for s in sites)
                started = time.perf_counter()
                run = subprocess.run(cli, capture_output=True, text=True, cwd=tmp)
                if run.returncode != 0:
                    sys.exit(f"run --once failed:\n{run.stderr[-3000:]}")
                passes.append({
                    "bytes": sum(s.bytes_sent for s in sites) - bytes_before,
                    "seconds": time.perf_counter() - started,
                    "article_requests": sum(1 for s, n in zip(sites, requests_before)
                                            for r in s.requests[n:] if r.path not in LISTINGS),
                    "statuses": [r.headers.get("if-none-match") is not None
                                 for s, n in zip(sites, requests_before) for r in s.requests[n:]
                                 if r.path in ("/rss.xml", "/news-sitemap.xml")],
                })
        finally:
            for site in sites:
                site.stop()

    first, second = passes
    if first["article_requests"] != FEED_ENTRIES + SITEMAP_URLS:
        sys.exit(f"first pass fetched {first['article_requests']} articles, expected "
                 f"{FEED_ENTRIES + SITEMAP_URLS}")
    saved = 1 - second["bytes"] / first["bytes"]
    print(f"first pass: {first['bytes']:,} bytes, {first['article_requests']} article requests, "
          f"{first['seconds']:.1f}s")
    print(f"second pass: {second['bytes']:,} bytes, {second['article_requests']} article requests, "
          f"{second['seconds']:.1f}s, conditional listing requests: {sum(second['statuses'])}/"
          f"{len(second['statuses'])}")
    print(f"saved: {saved:.4f} (target >= 0.95, and 0 article requests)")
    print(json.dumps({
        "bytes_first": first["bytes"],
        "bytes_second": second["bytes"],
        "saved": round(saved, 4),
        "article_requests_second": second["article_requests"],
    }))


if __name__ == "__main__":
    main()
