"""What a site offers to watch: its feeds and news sitemaps, found from one of its pages.

`discover(url, limits)` fetches the page and collects candidates: ``<link rel="alternate">``
feeds, feed-looking links on the page, the sitemaps robots.txt names, and a few common
paths (`COMMON_PATHS`). Each candidate is fetched and read (feedparser for feeds, lxml for
sitemaps); what is neither is dropped. A `Found` says its kind, title, number of entries
and newest entry date; `best()` picks the one to watch.

Fetching obeys the crawl's limits (`Limits`, from the config's `crawl:`): a timeout, a
maximum size, robots.txt, and no private address unless `allow_private` — checked on the
addresses each host resolves to, on every redirect hop. Plain HTTP (requests), not Scrapy:
a handful of sequential requests needs no reactor.
"""
from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import feedparser
import requests
from lxml import etree, html

from newswatch.crawler.addresses import is_private
from newswatch.crawler.safexml import UnsafeXML, check_xml

log = logging.getLogger(__name__)

USER_AGENT = "newswatch (sources discover)"
COMMON_PATHS = ("/feed", "/rss.xml", "/atom.xml", "/sitemap_news.xml", "/news-sitemap.xml")
FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json",
              "application/xml", "text/xml"}
FEED_WORDS = ("rss", "atom", "feed")
MAX_REDIRECTS = 5
MAX_LINKED = 20  # feed-looking links followed from one page
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


class FetchError(Exception):
    """A URL that could not be fetched (refused, failed, too large); `str()` says why."""


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 30.0
    max_bytes: int = 10 * 1024 * 1024
    allow_private: bool = False

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Limits:
        """From a config's `crawl_settings` (the Scrapy settings its `crawl:` makes)."""
        return cls(settings.get("DOWNLOAD_TIMEOUT", cls.timeout_s), settings.get("DOWNLOAD_MAXSIZE", cls.max_bytes),
                   bool(settings.get("NEWSWATCH_ALLOW_PRIVATE", False)))


@dataclass(frozen=True)
class Found:
    """A feed or sitemap found on a site. `kind` is the source kind that watches it (a key
    of crawler.sources.KINDS: ``feed`` or ``sitemap``); `news`: a Google News sitemap;
    `via`: how it was found (``link``, ``page``, ``robots.txt``, ``common path``)."""

    url: str
    kind: str
    title: str
    entries: int
    newest: datetime | None
    via: str
    news: bool = False

    @property
    def label(self) -> str:
        return "news sitemap" if self.news else self.kind

    def as_json(self) -> dict[str, Any]:
        return {"url": self.url, "kind": self.kind, "news": self.news, "title": self.title,
                "entries": self.entries, "newest": self.newest.isoformat() if self.newest else None,
                "via": self.via}


def best(found: list[Found]) -> Found | None:
    """The one to watch: something with entries, the most recently updated, then the most
    entries; a feed before a news sitemap before another sitemap when they tie."""
    rank = {"feed": 2, "sitemap": 0}
    usable = [f for f in found if f.entries]
    return max(usable, default=None, key=lambda f: (
        f.newest or datetime.min.replace(tzinfo=timezone.utc), f.entries, rank[f.kind] + f.news))


class Fetcher:
    """GETs within `Limits`. Redirects are followed here, each hop checked."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.trust_env = False  # no proxy from the environment, no ~/.netrc
        self.robots: dict[str, RobotFileParser | None] = {}

    def get(self, url: str, obey_robots: bool = True) -> tuple[bytes, str, str]:
        """(body, final URL, content type) of a 200 response; FetchError otherwise."""
        for _ in range(MAX_REDIRECTS + 1):
            self._check_address(url)
            if obey_robots and not self._allowed(url):
                raise FetchError(f"{url}: disallowed by robots.txt")
            try:
                with self.session.get(url, timeout=self.limits.timeout_s, stream=True,
                                      allow_redirects=False) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers["Location"])
                        continue
                    if response.status_code != 200:
                        raise FetchError(f"{url}: HTTP {response.status_code}")
                    return self._read(response, url), url, response.headers.get("Content-Type", "")
            except requests.RequestException as exc:
                raise FetchError(f"{url}: {type(exc).__name__}") from None
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _read(self, response: requests.Response, url: str) -> bytes:
        body = bytearray()
        for chunk in response.iter_content(64 * 1024):
            body += chunk
            if len(body) > self.limits.max_bytes:
                raise FetchError(f"{url}: larger than {self.limits.max_bytes} bytes")
        return bytes(body)

    def _check_address(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"{url}: not an http(s) URL")
        if self.limits.allow_private:
            return
        try:
            infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(f"{url}: cannot resolve {parts.hostname} ({exc})") from None
        for info in infos:
            address = info[4][0]
            if is_private(address):
                raise FetchError(f"{url}: {parts.hostname} resolves to the private address {address} "
                                 "(refused; crawl: {allow_private: true} admits it)")

    def _allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self.robots:
            self.robots[origin] = None
            try:
                body, _, _ = self.get(origin + "/robots.txt", obey_robots=False)
            except FetchError:
                pass  # none, or unreadable: everything allowed, as Scrapy's robots.txt handling does
            else:
                parser = RobotFileParser()
                parser.parse(body.decode("utf-8", "replace").splitlines())
                self.robots[origin] = parser
        parser = self.robots[origin]
        return parser is None or parser.can_fetch(USER_AGENT, url)

    def sitemaps(self, url: str) -> list[str]:
        """The sitemaps named in the robots.txt of `url`'s site."""
        self._allowed(url)
        parser = self.robots.get("{0.scheme}://{0.netloc}".format(urlsplit(url)))
        return list(parser.site_maps() or []) if parser else []


def discover(url: str, fetcher: Fetcher) -> list[Found]:
    """Everything watchable found from the page at `url`, best first. FetchError if the
    page itself cannot be fetched; a candidate that cannot be is skipped (logged)."""
    body, base, _ = fetcher.get(url)
    candidates: dict[str, str] = {}  # url -> via
    for link, via in _page_links(body, base):
        candidates.setdefault(link, via)
    for sitemap in fetcher.sitemaps(base):
        candidates.setdefault(sitemap, "robots.txt")
    for path in COMMON_PATHS:
        candidates.setdefault(urljoin(base, path), "common path")
    found: dict[str, Found] = {}
    for candidate, via in candidates.items():
        try:
            content, final, _ = fetcher.get(candidate)
        except FetchError as exc:
            log.debug("discover: %s", exc)
            continue
        item = read_candidate(content, final, via)
        if item is not None and item.url not in found:
            found[item.url] = item
    chosen = best(list(found.values()))
    return sorted(found.values(), key=lambda f: (f is not chosen, f.kind != "feed", not f.news, f.url))


def _page_links(body: bytes, base: str) -> list[tuple[str, str]]:
    """Feeds the page declares (`<link rel="alternate">`), then feed-looking `<a>` links."""
    try:
        document = html.fromstring(body, base_url=base)
    except (etree.ParserError, ValueError):
        return []
    links = []
    for link in document.xpath("//link[@href]"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        if "alternate" in rel and kind in FEED_TYPES:
            links.append((urljoin(base, link.get("href").strip()), "link"))
    linked = 0
    for anchor in document.xpath("//a[@href]"):
        href = urljoin(base, anchor.get("href").strip())
        path = urlsplit(href).path.lower()
        if href.startswith(("http://", "https://")) and any(word in path for word in FEED_WORDS):
            links.append((href, "page"))
            linked += 1
            if linked == MAX_LINKED:
                break
    return links


def read_candidate(body: bytes, url: str, via: str) -> Found | None:
    """A feed or a sitemap read from `body`, or None if it is neither."""
    try:
        check_xml(body)
    except UnsafeXML as exc:
        log.info("discover: %s: %s", url, exc)
        return None
    sitemap = _read_sitemap(body, url, via)
    if sitemap is not None:
        return sitemap
    parsed = feedparser.parse(body)  # bytes: never read as a file name or URL
    if not parsed.get("version"):
        return None
    dates = [e.get("published_parsed") or e.get("updated_parsed") for e in parsed.entries]
    dated = [datetime(*d[:6], tzinfo=timezone.utc) for d in dates if d]
    return Found(url, "feed", parsed.feed.get("title", ""), len(parsed.entries), max(dated, default=None), via)


def _read_sitemap(body: bytes, url: str, via: str) -> Found | None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        return None
    if root.tag == f"{{{SITEMAP_NS}}}sitemapindex":
        return Found(url, "sitemap", "sitemap index", len(root.findall(f"{{{SITEMAP_NS}}}sitemap")),
                     _newest(root.iterfind(f".//{{{SITEMAP_NS}}}lastmod")), via)
    if root.tag != f"{{{SITEMAP_NS}}}urlset":
        return None
    news = root.findall(f".//{{{NEWS_NS}}}news")
    dates = root.iterfind(f".//{{{NEWS_NS}}}publication_date") if news else \
        root.iterfind(f".//{{{SITEMAP_NS}}}lastmod")
    names = {n.text.strip() for n in root.iterfind(f".//{{{NEWS_NS}}}name") if n.text}
    return Found(url, "sitemap", ", ".join(sorted(names)), len(root.findall(f"{{{SITEMAP_NS}}}url")),
                 _newest(dates), via, news=bool(news))


def _newest(elements) -> datetime | None:
    dates = []
    for element in elements:
        try:
            when = datetime.fromisoformat((element.text or "").strip().replace("Z", "+00:00"))
        except ValueError:
            continue
        dates.append(when if when.tzinfo else when.replace(tzinfo=timezone.utc))
    return max(dates, default=None)
