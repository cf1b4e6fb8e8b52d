"""`sitemap:` sources: a sitemap index leads to sitemaps, a sitemap to article URLs.

Sitemaps may be gzipped (by file, not only by Content-Encoding). Google News sitemaps
(`news:` tags) give each URL a publication date, used with `lastmod` as a fallback to
skip entries older than the source's `max_age`. Every sitemap, index or not, is fetched
conditionally, so an unchanged one costs a 304.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import Iterator

import lxml.etree
from scrapy.utils.gz import gunzip, gzip_magic_number

from newswatch.crawler.safexml import UnsafeXML, check_xml
from newswatch.crawler.spiders.base import NewsSpider

#: Uncompressed ceiling for a gzipped sitemap (the sitemap protocol's own limit is 50 MB).
MAX_SITEMAP_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class SitemapEntry:
    loc: str
    published: datetime | None  # news:publication_date, else lastmod


class SitemapSpider(NewsSpider):
    async def start(self):
        yield self.listing_request(self.source.location, self.parse_sitemap)

    async def parse_sitemap(self, response):
        if self.not_modified(response):
            return
        try:
            # Seconds of CPU for a large sitemap: not on the reactor's thread.
            kind, entries = await asyncio.to_thread(_unpack_and_parse, response)
        except (OSError, UnsafeXML, lxml.etree.XMLSyntaxError, ValueError) as exc:
            reason = f"not a sitemap ({exc})"
            if response.request.url == self.source.location:
                self.refuse(response.url, reason)
            else:
                self.count_failure(response.url, reason)
            return
        for entry in self.capped(entries, response.url):
            url = response.urljoin(entry.loc)
            if kind == "sitemapindex":
                if url.startswith(("http://", "https://")):
                    yield self.listing_request(url, self.parse_sitemap)
            elif not self.too_old(entry.published):
                request = self.follow_article(url)
                if request is not None:
                    yield request


def _unpack_and_parse(response) -> tuple[str, list[SitemapEntry]]:
    body = gunzip(response.body, max_size=MAX_SITEMAP_BYTES) if gzip_magic_number(response) else response.body
    check_xml(body)
    return parse_sitemap(body)


def parse_sitemap(body: bytes) -> tuple[str, list[SitemapEntry]]:
    """("urlset" or "sitemapindex", its entries). Entities are never resolved."""
    root_tag = None
    entries = []
    for element in _elements(body):
        tag = _local(element.tag)
        if root_tag is None:
            root_tag = tag
            if tag not in ("urlset", "sitemapindex"):
                raise ValueError(f"root element is <{tag}>")
            continue
        fields = {_local(e.tag): (e.text or "").strip() for e in element.iter() if isinstance(e.tag, str)}
        if fields.get("loc"):
            published = _date(fields.get("publication_date")) or _date(fields.get("lastmod"))
            entries.append(SitemapEntry(fields["loc"], published))
        element.clear()
    if root_tag is None:
        raise ValueError("empty document")
    return root_tag, entries


def _elements(body: bytes) -> Iterator[lxml.etree._Element]:
    """The root element (at its start), then each <url>/<sitemap> (at its end)."""
    events = lxml.etree.iterparse(
        BytesIO(body), events=("start", "end"), resolve_entities=False, no_network=True,
        remove_comments=True, remove_pis=True, huge_tree=False, recover=True,
    )
    started = False
    for event, element in events:
        if not started and event == "start":
            started = True
            yield element
        elif event == "end" and _local(element.tag) in ("url", "sitemap"):
            yield element


def _local(tag) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
