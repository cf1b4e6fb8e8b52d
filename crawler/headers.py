"""A source's `headers:` (a cookie, a token) go to its own origin only.

`SourceHeadersMiddleware` sets them on each request to the scheme, host and port of the
source's URL, and takes them off any other request, a redirect's copy included: a feed's
links to other sites, or a redirect elsewhere, never carry them. (No `Referer` leaves at
all either: the crawler's `REFERRER_POLICY` is no-referrer.)
"""
from __future__ import annotations

from urllib.parse import urlsplit

from newswatch.crawler.sources import KINDS

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(parts.scheme.lower())


class SourceHeadersMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        source = getattr(self.crawler.spider, "source", None)
        if source is None or not source.headers:
            return None
        if KINDS[source.kind].remote and origin(request.url) == origin(source.location):
            for name, value in source.headers:
                request.headers[name] = value
        else:
            for name, _ in source.headers:
                request.headers.pop(name, None)
        return None
