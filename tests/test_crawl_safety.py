"""Crawling safely (DESIGN "Crawling safely", issue 15): what a hostile feed, sitemap,
listing page or redirect asks for that newswatch must refuse, end to end through
`newswatch run --once` against local servers, and `newswatch status --json` for what
each run counted."""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from support.newssite import NewsSite, manifest

pytestmark = pytest.mark.one_backend

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


# --- private addresses ------------------------------------------------------------------


@pytest.mark.parametrize("address, private", [
    ("127.0.0.1", True), ("127.8.9.10", True), ("10.1.2.3", True), ("172.16.0.1", True),
    ("192.168.1.1", True), ("169.254.169.254", True), ("100.64.0.1", True), ("100.127.255.254", True),
    ("0.0.0.0", True), ("224.0.0.251", True), ("239.255.255.250", True), ("255.255.255.255", True),
    ("::1", True), ("::", True), ("fc00::1", True), ("fd12:3456::1", True), ("fe80::1%eth0", True),
    ("ff02::1", True), ("::ffff:127.0.0.1", True), ("::ffff:169.254.169.254", True),
    ("::127.0.0.1", True), ("2002:7f00:1::1", True), ("64:ff9b::a00:1", True),
    ("8.8.8.8", False), ("93.184.215.14", False), ("100.128.0.1", False), ("2606:4700:4700::1111", False),
    ("::ffff:8.8.8.8", False), ("2002:808:808::1", False), ("64:ff9b::808:808", False),
])
def test_private_addresses(address, private):
    from newswatch.crawler.guard import is_private

    assert is_private(address) is private


def test_the_resolver_checks_every_answer_so_rebinding_gets_nothing_through():
    """A name that answers public, then private (DNS rebinding): the guard filters the
    addresses each connection is made to, so the second connection gets none."""
    from twisted.internet.address import IPv4Address
    from newswatch.crawler.guard import GuardedResolver

    answers = iter(["93.184.215.14", "127.0.0.1"])

    class Rebinding:
        def resolveHostName(self, receiver, host, port=0, types=None, semantics="TCP"):
            receiver.resolutionBegan(None)
            receiver.addressResolved(IPv4Address("TCP", next(answers), port))
            receiver.resolutionComplete()

    class Receiver:
        def __init__(self):
            self.addresses = []

        def resolutionBegan(self, resolution):
            pass

        def addressResolved(self, address):
            self.addresses.append(address.host)

        def resolutionComplete(self):
            pass

    guard = GuardedResolver(Rebinding())
    first, second = Receiver(), Receiver()
    guard.resolveHostName(first, "rebind.example", 80)
    guard.resolveHostName(second, "rebind.example", 80)
    assert (first.addresses, second.addresses) == (["93.184.215.14"], [])
    assert guard.refusals == {("rebind.example", 80): ["127.0.0.1"]}


def test_private_addresses_are_refused_on_every_hop_unless_admitted(newswatch):
    """The feed's own host and port are admitted (`allow_private` on the source); every
    other private address it leads to is refused: a literal, a name resolving to
    loopback, an IPv4-mapped IPv6 form, a decimal IPv4, a redirect. The other server
    never sees a request, its robots.txt included."""
    newswatch.allow_private = False
    with NewsSite(articles=[]) as feed_site, NewsSite() as internal:
        port, plain_feed = urlsplit(internal.base_url).port, internal.feed_url
        article = KOREA[0]["path"]
        feed_site.add_page(article, PAGE)  # the source's own host: admitted
        feed_site.set_response("/go.html", 302, headers={"Location": internal.url(KOREA[1]["path"])})
        feed_site.add_page("/rss.xml", rss([
            feed_site.url(article),
            feed_site.url("/go.html"),
            internal.url(KOREA[1]["path"]),
            f"http://localhost:{port}{ARTICLES[2]['path']}",
            f"http://[::ffff:127.0.0.1]:{port}{ARTICLES[3]['path']}",
            f"http://2130706433:{port}{ARTICLES[4]['path']}",
        ]), "application/rss+xml")

        runs, log = run_once(newswatch, [
            {"name": "admitted", "feed": feed_site.feed_url, "allow_private": True},
            {"name": "plain", "feed": internal.feed_url},
        ])

        assert internal.requests == []
        assert stored(newswatch) == [feed_site.url(article)]
    admitted, plain = runs["admitted"], runs["plain"]
    assert (admitted["new"], admitted["refused_private"], admitted["failed"]) == (1, 5, 0), log
    assert (plain["refused_private"], plain["last_error"]) == (1, f"{plain_feed}: refused (private address)")
    refusals = [line for line in log.splitlines() if "refused (private address) http" in line]
    assert len(refusals) == 6, log
    assert "Traceback" not in log
    assert "5 refused (private address)" in newswatch("status").stdout


def test_allow_private_keys(newswatch, tmp_path):
    newswatch.allow_private = False
    newswatch.write_config({"sources": [{"name": "a", "feed": "http://10.0.0.5/rss.xml", "allow_private": "maybe"}]})
    done = newswatch("check")
    assert (done.returncode, done.stderr.strip()) == (
        2, "newswatch.yaml: sources[0].allow_private: Input should be a valid boolean, unable to interpret input")
    newswatch.write_config({"crawl": {"allow_private": True},
                            "sources": [{"name": "a", "feed": "http://10.0.0.5/rss.xml", "allow_private": True}]})
    assert newswatch("check").returncode == 0


def test_extract_of_a_url_refuses_private_addresses_unless_admitted(newswatch):
    """`newswatch extract URL` checks every hop as a crawl does: a private host is refused
    in one line, before any request, unless `--allow-private`."""
    with NewsSite() as internal:
        url = internal.url(KOREA[0]["path"])

        refused = newswatch("extract", url)
        assert refused.returncode == 1 and refused.stdout == ""
        assert refused.stderr.strip().startswith(f"{url}: 127.0.0.1 resolves to the private address 127.0.0.1")
        assert internal.requests == []

        admitted = newswatch("extract", "--allow-private", "--jsonl", url)
        assert admitted.returncode == 0, admitted.stderr
        assert json.loads(admitted.stdout)["title"] == KOREA[0]["title"]
