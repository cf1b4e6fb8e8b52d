"""Crawling safely (DESIGN "Crawling safely", issue 15): what a hostile feed, sitemap,
listing page or redirect asks for that newswatch must refuse, end to end through
`newswatch run --once` against local servers, and `newswatch status --json` for what
each run counted."""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from newssite import NewsSite, manifest

SITE = Path(__file__).resolve().parent / "site"
ARTICLES = manifest()
#: A real article page of the local news site, and one more (both match korea-arms).
KOREA = [a for a in ARTICLES if "korea-arms" in a["topics"]]
PAGE = (SITE / KOREA[0]["path"].lstrip("/")).read_bytes()
OTHER_PAGE = (SITE / KOREA[1]["path"].lstrip("/")).read_bytes()


@pytest.fixture
def site():
    with NewsSite(articles=[]) as started:
        yield started


def run_once(newswatch, sources: list[dict], **extra) -> tuple[dict, str]:
    newswatch.write_config({"database": "sqlite:///nw.db", "sources": sources,
                            "topics": [{"name": "korea-arms", "query": "South Korea Ukraine arms"}],
                            **extra})
    done = newswatch("run", "--once")
    status = newswatch("status", "--json")
    assert status.returncode == 0, status.stderr
    return {s["name"]: s for s in json.loads(status.stdout)["sources"]}, done.stderr


def stored(newswatch) -> list[str]:
    with sqlite3.connect(newswatch.workdir / "nw.db") as db:
        return [url for (url,) in db.execute("SELECT url FROM articles")]


def rss(links: list[str]) -> str:
    items = "".join(f"<item><title>Seoul approves arms</title><link>{link}</link></item>" for link in links)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{items}</channel></rss>'


# --- local files ------------------------------------------------------------------------


def test_file_links_in_a_feed_are_refused_and_counted(newswatch, site, tmp_path):
    secret = tmp_path / "secret" / "credentials.html"
    secret.parent.mkdir()
    secret.write_bytes(PAGE)
    site.add_page("/rss.xml", rss([secret.as_uri(), f"file:{secret}", f"file://localhost{secret}",
                                   "file:///dev/zero"]), "application/rss+xml")

    runs, log = run_once(newswatch, [{"name": "hostile", "feed": site.feed_url}])

    assert stored(newswatch) == []
    assert (runs["hostile"]["refused_file"], runs["hostile"]["failed"]) == (4, 0)
    assert log.count("refused (local file)") == 4 + 1, log  # a line each, and the run's line
    assert "credentials" not in newswatch("status").stdout
    status = newswatch("status").stdout
    assert "4 refused (local file)" in status, status


def test_a_path_source_reads_only_regular_files_inside_its_folder(newswatch, tmp_path):
    inbox, outside = tmp_path / "inbox", tmp_path / "outside"
    inbox.mkdir()
    outside.mkdir()
    (inbox / "article.html").write_bytes(PAGE)
    (outside / "secret.html").write_bytes(OTHER_PAGE)
    (inbox / "leak.html").symlink_to(outside / "secret.html")  # a symlink out
    (inbox / "zero.html").symlink_to("/dev/zero")  # would grow the daemon until killed
    os.mkfifo(inbox / "pipe.html")  # would block a reader for ever
    (inbox / "huge.txt").write_bytes(b"South Korea Ukraine arms. " * 50_000)  # 1.3 MB

    runs, log = run_once(newswatch, [{"name": "inbox", "path": str(inbox)}],
                         crawl={"max_size_mb": 1})

    assert stored(newswatch) == [(inbox / "article.html").as_uri()]
    assert (runs["inbox"]["new"], runs["inbox"]["refused_file"], runs["inbox"]["failed"]) == (1, 3, 1), log
    assert "leads out of the folder" in log and "not a regular file" in log and "huge.txt" in log


def test_no_data_ftp_or_s3_handlers():
    from newswatch.crawler.crawl import SETTINGS

    handlers = SETTINGS["DOWNLOAD_HANDLERS"]
    assert {scheme: handlers[scheme] for scheme in ("data", "ftp", "s3")} == dict.fromkeys(("data", "ftp", "s3"))
    assert handlers["file"] == "newswatch.crawler.localfiles.PathFileHandler"
