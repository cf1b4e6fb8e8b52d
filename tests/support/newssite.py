"""A local news site for end-to-end tests: article pages, an RSS feed, faults on demand.

`NewsSite` serves the static pages under ``tests/site/`` (twelve article pages with real
page boilerplate, see ``tests/site/manifest.json``) from a standard-library HTTP server on
127.0.0.1, on a port picked by the OS, plus a few generated resources:

==========================  ============================================================
``/rss.xml``                RSS 2.0 feed: the current feed items, newest-added first
``/``                       home page: one ``<a class="headline">`` per feed item
``/<section>/``             section front (``SECTIONS``): the feed items under that path
``/news-sitemap.xml``       Google News sitemap of the feed items
``/robots.txt``             allows everything
==========================  ============================================================

Every 200 response carries Content-Type, Content-Length, ETag and Last-Modified; GET and
HEAD honour If-None-Match / If-Modified-Since with 304. Unknown paths get a 404 HTML page.
Tests change the site while it runs: `add_feed_item`, `add_page`, `set_response` (status
codes, Retry-After, slow responses, redirects) and read what clients did through
`requests`, `count` and `bytes_sent`. Nothing here reaches the internet.

The manifest is the ground truth the end-to-end tests assert: for each article its slug,
path, title, published time and the topics (names in `TOPIC_QUERIES`) whose query matches
the article's title and body. The page boilerplate ("Related stories", "Most read")
deliberately carries headlines that match the topics (all three on eleven pages, two on
the twelfth), so a matcher that reads boilerplate fails visibly.

Use the fixture in a test module with ``from newssite import news_site`` (``tests/`` is on
``sys.path`` under pytest's default import mode) or ``from tests.newssite import
news_site`` when the repository root is importable.
"""
from __future__ import annotations

import hashlib
import json
import mimetypes
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from html import escape as html_escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape as xml_escape

import pytest

HOST = "127.0.0.1"
SITE_DIR = Path(__file__).resolve().parent.parent / "site"
MANIFEST_NAME = "manifest.json"
SITE_NAME = "The Meridian"

#: The topics the manifest refers to, by name, with their newswatch queries.
TOPIC_QUERIES: dict[str, str] = {
    "korea-arms": "South Korea Ukraine arms",
    "ecb-rates": '"interest rates" ECB',
    "wildfire": "wildfire California evacuation",
}

#: Section fronts served at ``/<name>/`` (the pages' navigation links to all of them).
SECTIONS: tuple[str, ...] = (
    "world", "uk", "us", "politics", "business", "markets", "technology", "science",
    "climate", "sport", "football", "culture", "food", "travel", "opinion", "video",
    "podcasts", "puzzles",
)

HTML_TYPE = "text/html; charset=utf-8"
FEED_TYPE = "application/rss+xml; charset=utf-8"
XML_TYPE = "application/xml; charset=utf-8"
_CONTENT_TYPES = {
    ".html": HTML_TYPE,
    ".htm": HTML_TYPE,
    ".xml": XML_TYPE,
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
}


def manifest(root: Path = SITE_DIR) -> list[dict[str, Any]]:
    """The site's articles, in manifest order, as freshly loaded dicts.

    Each has at least ``slug``, ``path`` (root-relative URL path, the page's canonical
    and og:url), ``title`` (the headline: h1, og:title, JSON-LD headline), ``published``
    (ISO 8601 with offset, as in the page's article:published_time and datePublished) and
    ``topics`` (names from `TOPIC_QUERIES` whose query matches title + body, sorted);
    also ``section``, ``author``, ``description`` (the meta description) and ``layout``
    (which of the three page templates, "A", "B" or "C"). Returns [] when `root` has no
    manifest.
    """
    path = Path(root) / MANIFEST_NAME
    if not path.is_file():
        return []
    return json.loads(path.read_text(encoding="utf-8"))


def topic_articles(topic: str, root: Path = SITE_DIR) -> list[dict[str, Any]]:
    """The manifest articles that `topic` (a key of `TOPIC_QUERIES`) must match."""
    if topic not in TOPIC_QUERIES:
        raise KeyError(f"unknown topic {topic!r}; known: {sorted(TOPIC_QUERIES)}")
    return [a for a in manifest(root) if topic in a["topics"]]


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server received it, recorded before it is answered.

    `path` is the request target as sent (path plus query string); `headers` has
    lower-cased names (repeated headers joined with ", "); `time` is `time.time()`.
    """

    method: str
    path: str
    headers: dict[str, str]
    time: float


@dataclass(frozen=True)
class FeedItem:
    """One item of the feed; `link` and `guid` are absolute URLs."""

    path: str
    title: str
    link: str
    guid: str
    published: datetime
    description: str = ""
    author: str = ""
    category: str = ""


@dataclass
class _ItemSpec:
    """A feed item as stored: `link` is None (the page's own URL), a path or a URL."""

    path: str
    title: str
    link: str | None
    published: datetime
    description: str
    author: str
    category: str


@dataclass
class _Override:
    status: int
    body: bytes
    headers: dict[str, str]
    delay: float
    remaining: int | None


@dataclass(frozen=True)
class _Resource:
    body: bytes
    content_type: str
    last_modified: int  # epoch seconds

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:20] + '"'


def _to_datetime(value: datetime | str | None) -> datetime:
    """An aware datetime from a datetime, an ISO 8601 string or None (now, whole seconds)."""
    if value is None:
        return datetime.now(timezone.utc).replace(microsecond=0)
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def _http_date(epoch: int) -> str:
    return format_datetime(datetime.fromtimestamp(epoch, timezone.utc), usegmt=True)


class NewsSite:
    """A local news site: serves tests/site/ pages and an RSS 2.0 feed at /rss.xml.

    The feed starts with one item per entry of `articles` (default: every manifest
    article of `root`, in manifest order); `add_feed_item` puts new items on top. All
    files under `root` are served whatever the feed lists, except the manifest itself.
    Pages added with `add_page` take precedence over generated resources and files;
    responses set with `set_response` take precedence over everything.

    The server runs in daemon threads on 127.0.0.1 with HTTP/1.1 keep-alive; `stop()`
    closes open connections too, so a stopped site answers nothing. The object may be
    configured before `start()`; `base_url`, `feed_url`, `url()` and `feed_items()` need
    a started site. Usable as a context manager.
    """

    base_url: str
    feed_url: str
    requests: list[RequestRecord]

    def __init__(self, root: Path = SITE_DIR, articles: list | None = None) -> None:
        self.root = Path(root).resolve()
        self.requests = []
        self.bytes_sent = 0  # status lines, headers and bodies of every response so far
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._clock = int(time.time())
        self._feed_modified = self._clock
        self._pages: dict[str, _Resource] = {}
        self._overrides: dict[str, _Override] = {}
        if articles is None:
            articles = manifest(self.root)
        self._items: list[_ItemSpec] = [
            _ItemSpec(
                path=a["path"],
                title=a["title"],
                link=None,
                published=_to_datetime(a["published"]),
                description=a.get("description", ""),
                author=a.get("author", ""),
                category=a.get("section", ""),
            )
            for a in articles
        ]

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> NewsSite:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread; returns self."""
        if self._server is not None:
            raise RuntimeError("NewsSite already started")
        self._stopping.clear()
        server = _Server((HOST, 0), _Handler, self)
        port = server.server_address[1]
        self.base_url = f"http://{HOST}:{port}"
        self.feed_url = self.base_url + "/rss.xml"
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"newssite-{port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections (and pending slow responses); idempotent."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> NewsSite:
        return self.start() if self._server is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ URLs and the feed

    def url(self, path: str) -> str:
        """The absolute URL of `path` on this site (a URL with a scheme is returned as is)."""
        if "://" in path:
            return path
        if self._server is None:
            raise RuntimeError("NewsSite is not started: no base_url yet")
        return self.base_url + "/" + path.lstrip("/")

    def feed_items(self) -> list[FeedItem]:
        """What /rss.xml lists now, top (most recently added) first."""
        with self._lock:
            specs = list(self._items)
        return [self._feed_item(spec) for spec in specs]

    def add_feed_item(
        self,
        path: str,
        title: str,
        link: str | None = None,
        published: datetime | str | None = None,
        description: str = "",
    ) -> None:
        """Put an item on top of the feed, for `path` (served or not: see `add_page`).

        `link` defaults to the page's own URL; it may be any URL or root-relative path,
        e.g. ``"/world/x.html?utm_source=rss"``, to exercise URL canonicalisation. The
        item's guid is its absolute link. `published` is a datetime (naive = UTC), an ISO
        8601 string or None for now. The feed's ETag and Last-Modified change at once.
        """
        spec = _ItemSpec(
            path="/" + path.lstrip("/"),
            title=title,
            link=link,
            published=_to_datetime(published),
            description=description,
            author="",
            category="",
        )
        with self._lock:
            self._items.insert(0, spec)
            self._feed_modified = self._tick()

    def add_page(self, path: str, html: str | bytes, content_type: str = HTML_TYPE) -> None:
        """Serve `html` at `path` (query string ignored), replacing any file or earlier page.

        The page gets its own ETag and a Last-Modified later than anything served before,
        so a replaced page never revalidates as unchanged.
        """
        body = html.encode("utf-8") if isinstance(html, str) else bytes(html)
        key = urlsplit("/" + path.lstrip("/")).path
        with self._lock:
            self._pages[key] = _Resource(body, content_type, self._tick())

    def set_response(
        self,
        path: str,
        status: int,
        body: bytes = b"",
        headers: dict | None = None,
        delay: float = 0.0,
        times: int | None = None,
    ) -> None:
        """Answer requests for `path` with this response instead of the real resource.

        `path` with a query string matches only that exact request target; without one
        it matches the path whatever the query. `headers` are sent as given (e.g.
        ``{"Retry-After": "2"}`` or ``{"Location": "/elsewhere.html"}``); Content-Length
        is added, and Content-Type (HTML) when `body` is not empty and none is given.
        The response is sent after `delay` seconds (the connection is dropped instead if
        the site stops meanwhile). `times` limits the override to the next N requests,
        after which the path is served normally again; None means until
        `clear_response`. No conditional handling: the status is always `status`.
        """
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 or None")
        hdrs = dict(headers or {})
        if body and not any(k.lower() == "content-type" for k in hdrs):
            hdrs["Content-Type"] = HTML_TYPE
        with self._lock:
            self._overrides["/" + path.lstrip("/")] = _Override(status, bytes(body), hdrs, delay, times)

    def clear_response(self, path: str) -> None:
        """Undo `set_response` for exactly this `path`; no error if there was none."""
        with self._lock:
            self._overrides.pop("/" + path.lstrip("/"), None)

    # ------------------------------------------------------------------ what clients did

    def count(self, path: str) -> int:
        """How many GET requests arrived for `path`, ignoring query strings (HEAD excluded).

        `path` may also be an absolute URL of this site.
        """
        wanted = urlsplit(path).path or "/"
        with self._lock:
            records = list(self.requests)
        return sum(1 for r in records if r.method == "GET" and urlsplit(r.path).path == wanted)

    # ------------------------------------------------------------------ internals

    def _tick(self) -> int:
        """A Last-Modified second strictly later than any handed out before (lock held)."""
        self._clock = max(int(time.time()), self._clock + 1)
        return self._clock

    def _record(self, method: str, target: str, headers: Mapping[str, str]) -> None:
        joined: dict[str, str] = {}
        for name, value in headers.items():
            key = name.lower()
            joined[key] = f"{joined[key]}, {value}" if key in joined else value
        record = RequestRecord(method, target, joined, time.time())
        with self._lock:
            self.requests.append(record)

    def _take_override(self, target: str) -> _Override | None:
        with self._lock:
            for key in (target, urlsplit(target).path):
                override = self._overrides.get(key)
                if override is None:
                    continue
                if override.remaining is not None:
                    override.remaining -= 1
                    if override.remaining <= 0:
                        del self._overrides[key]
                return override
        return None

    def _feed_item(self, spec: _ItemSpec) -> FeedItem:
        link = self.url(spec.link if spec.link is not None else spec.path)
        return FeedItem(
            path=spec.path,
            title=spec.title,
            link=link,
            guid=link,
            published=spec.published,
            description=spec.description,
            author=spec.author,
            category=spec.category,
        )

    def _resolve(self, path: str) -> _Resource | None:
        """The resource at URL path `path` (no query), or None for a 404."""
        with self._lock:
            page = self._pages.get(path)
            items = list(self._items)
            modified = self._feed_modified
        if page is not None:
            return page
        if path == "/rss.xml":
            return _Resource(self._render_feed(items, modified), FEED_TYPE, modified)
        if path == "/":
            return _Resource(self._render_front(SITE_NAME, items), HTML_TYPE, modified)
        if path.startswith("/") and path.endswith("/") and path.strip("/") in SECTIONS:
            section = path.strip("/")
            chosen = [s for s in items if s.path.startswith(path)]
            title = f"{section.capitalize()} | {SITE_NAME}"
            return _Resource(self._render_front(title, chosen), HTML_TYPE, modified)
        if path == "/news-sitemap.xml":
            return _Resource(self._render_sitemap(items), XML_TYPE, modified)
        if path == "/robots.txt":
            body = f"User-agent: *\nAllow: /\nSitemap: {self.url('/news-sitemap.xml')}\n".encode()
            return _Resource(body, "text/plain; charset=utf-8", self._clock)
        return self._static(path)

    def _static(self, path: str) -> _Resource | None:
        relative = unquote(path).lstrip("/")
        if not relative or relative == MANIFEST_NAME:
            return None
        file = (self.root / relative).resolve()
        if not file.is_relative_to(self.root) or not file.is_file():
            return None
        content_type = _CONTENT_TYPES.get(file.suffix.lower())
        if content_type is None:
            content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        stat = file.stat()
        return _Resource(file.read_bytes(), content_type, int(stat.st_mtime))

    def _render_feed(self, items: list[_ItemSpec], modified: int) -> bytes:
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/">',
            "<channel>",
            f"<title>{SITE_NAME}</title>",
            f"<link>{xml_escape(self.url('/'))}</link>",
            f"<description>News, analysis and opinion from {SITE_NAME}</description>",
            "<language>en-gb</language>",
            f"<lastBuildDate>{_http_date(modified)}</lastBuildDate>",
            f'<atom:link href="{xml_escape(self.feed_url, {chr(34): "&quot;"})}"'
            ' rel="self" type="application/rss+xml"/>',
        ]
        for spec in items:
            item = self._feed_item(spec)
            out.append("<item>")
            out.append(f"<title>{xml_escape(item.title)}</title>")
            out.append(f"<link>{xml_escape(item.link)}</link>")
            out.append(f'<guid isPermaLink="true">{xml_escape(item.guid)}</guid>')
            out.append(f"<pubDate>{format_datetime(item.published)}</pubDate>")
            if item.description:
                out.append(f"<description>{xml_escape(item.description)}</description>")
            if item.author:
                out.append(f"<dc:creator>{xml_escape(item.author)}</dc:creator>")
            if item.category:
                out.append(f"<category>{xml_escape(item.category)}</category>")
            out.append("</item>")
        out += ["</channel>", "</rss>", ""]
        return "\n".join(out).encode("utf-8")

    def _render_front(self, title: str, items: list[_ItemSpec]) -> bytes:
        nav = "\n".join(f'<li><a href="/{s}/">{s.capitalize()}</a></li>' for s in SECTIONS)
        teasers = "\n".join(
            '<article class="teaser">'
            f'<h2><a class="headline" href="{html_escape(s.link or s.path)}">{html_escape(s.title)}</a></h2>'
            f'<p class="teaser__standfirst">{html_escape(s.description)}</p>'
            f'<time datetime="{s.published.isoformat()}">{s.published:%d %b %Y}</time>'
            "</article>"
            for s in items
        )
        html = f"""<!DOCTYPE html>
<html lang="en-GB">
<head><meta charset="utf-8"><title>{html_escape(title)}</title>
<link rel="alternate" type="application/rss+xml" title="{SITE_NAME}" href="/rss.xml"></head>
<body>
<header><a href="/" class="logo">{SITE_NAME}</a><nav><ul>
{nav}
</ul></nav></header>
<main class="front">
{teasers}
</main>
<footer><p>© 2026 {SITE_NAME}</p></footer>
</body>
</html>
"""
        return html.encode("utf-8")

    def _render_sitemap(self, items: list[_ItemSpec]) -> bytes:
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
            ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">',
        ]
        for spec in items:
            item = self._feed_item(spec)
            out.append(
                f"<url><loc>{xml_escape(item.link)}</loc><news:news><news:publication>"
                f"<news:name>{SITE_NAME}</news:name><news:language>en</news:language>"
                f"</news:publication><news:publication_date>{item.published.isoformat()}"
                f"</news:publication_date><news:title>{xml_escape(item.title)}</news:title>"
                "</news:news></url>"
            )
        out += ["</urlset>", ""]
        return "\n".join(out).encode("utf-8")


_NOT_FOUND = f"""<!DOCTYPE html>
<html lang="en-GB">
<head><meta charset="utf-8"><title>Page not found | {SITE_NAME}</title></head>
<body><h1>Sorry, we couldn’t find that page</h1>
<p>The page may have been moved or deleted. Try the <a href="/">home page</a>.</p></body>
</html>
""".encode()


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its NewsSite and can drop open keep-alive connections."""

    daemon_threads = True
    block_on_close = False  # stop() must not wait for idle keep-alive connections

    def __init__(self, address: tuple[str, int], handler: type, site: NewsSite) -> None:
        self.site = site
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request, client_address) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address) -> None:
        """Clients that hang up (timeouts, cancelled requests) are normal here: stay quiet."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MeridianHTTP/1.0"
    sys_version = ""
    timeout = 30  # idle keep-alive connections are closed after this many seconds
    # Headers and body go out in two writes: with Nagle's algorithm on, the body waits for
    # the client's delayed ACK, ~40 ms a response on a keep-alive connection that no real
    # server adds. Slow responses are what `set_response(..., delay=)` is for.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        """Silence the default per-request stderr line; see NewsSite.requests instead."""

    def do_GET(self) -> None:  # noqa: N802 (stdlib hook name)
        self._serve(head_only=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head_only=True)

    def _not_allowed(self) -> None:
        site = self.server.site
        site._record(self.command, self.path, self.headers)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.close_connection = True
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, {"Allow": "GET, HEAD"}, b"", head_only=False)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed  # noqa: N815

    def _serve(self, head_only: bool) -> None:
        site = self.server.site
        site._record(self.command, self.path, self.headers)
        override = site._take_override(self.path)
        if override is not None:
            if override.delay > 0 and site._stopping.wait(override.delay):
                self.close_connection = True
                return
            self._send(override.status, override.headers, override.body, head_only)
            return
        resource = site._resolve(urlsplit(self.path).path or "/")
        if resource is None:
            self._send(HTTPStatus.NOT_FOUND, {"Content-Type": HTML_TYPE}, _NOT_FOUND, head_only)
            return
        validators = {
            "ETag": resource.etag,
            "Last-Modified": _http_date(resource.last_modified),
            "Cache-Control": "no-cache",
        }
        if self._not_modified(resource):
            self._send(HTTPStatus.NOT_MODIFIED, validators, b"", head_only=True, length=False)
            return
        headers = {"Content-Type": resource.content_type, **validators}
        self._send(HTTPStatus.OK, headers, resource.body, head_only)

    def _not_modified(self, resource: _Resource) -> bool:
        """RFC 9110: If-None-Match decides when present, else If-Modified-Since."""
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or resource.etag in tags
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since:
            try:
                since = parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError, IndexError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=timezone.utc)
            return resource.last_modified <= since.timestamp()
        return False

    def _send(
        self,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        head_only: bool,
        length: bool = True,
    ) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, str(value))
        if length and not any(name.lower() == "content-length" for name in headers):
            self.send_header("Content-Length", str(len(body)))
        sent = len(b"".join(getattr(self, "_headers_buffer", []))) + 2  # + the blank line
        self.end_headers()
        if body and not head_only:
            self.wfile.write(body)
            sent += len(body)
        with self.server.site._lock:
            self.server.site.bytes_sent += sent


@pytest.fixture
def news_site() -> Iterator[NewsSite]:
    """A started `NewsSite` serving tests/site/ with all manifest articles in its feed.

    Function scope: every test gets a fresh site on a new port (new feed, no overrides,
    empty `requests`); it is stopped after the test.
    """
    site = NewsSite().start()
    try:
        yield site
    finally:
        site.stop()


@pytest.fixture
def sites() -> Iterator[Callable[[], NewsSite]]:
    """`sites()` starts one more `NewsSite` (each on a port of its own); all are stopped
    after the test."""
    started: list[NewsSite] = []

    def make() -> NewsSite:
        site = NewsSite().start()
        started.append(site)
        return site

    yield make
    for site in started:
        site.stop()
