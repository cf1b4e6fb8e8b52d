"""`page:` sources: a listing page (a home page, a section front) whose article links are
fetched. The links are the `href`s of the elements the source's `links:` CSS selector
picks (or of the links inside them); without a selector, every same-site link whose path
looks like an article's (`looks_like_article`)."""
from __future__ import annotations

import asyncio
import re
from urllib.parse import urlsplit

from scrapy.http import TextResponse

from newswatch.crawler.spiders.base import NewsSpider

# Paths that are never one article: indexes, people, account and legal pages, media.
_NOT_ARTICLE = re.compile(
    r"/(tags?|topics?|category|categories|section|sections|authors?|profiles?|about|contact"
    r"|login|signin|sign-in|register|subscribe|subscription|newsletters?|search|privacy"
    r"|terms|cookies?|help|account|feeds?|rss|archive|page|video|videos|live|podcasts?"
    r"|gallery|galleries|puzzles|crosswords?)(/|$)",
    re.IGNORECASE,
)
_MEDIA = re.compile(r"\.(jpe?g|png|gif|webp|svg|pdf|mp[34]|zip|xml|rss|css|js|json)$", re.IGNORECASE)
_DATE_PATH = re.compile(r"/(19|20)\d\d/(0?[1-9]|1[0-2])(/|-)")
_SLUG_WORD = re.compile(r"[a-z0-9]+", re.IGNORECASE)
_LONG_ID = re.compile(r"\d{6,}")


def looks_like_article(url: str) -> bool:
    """True for URL paths shaped like a news article's: a dated path with a slug
    (`/2026/11/seoul-approves-arms`), a slug of four words or more
    (`/world/seoul-approves-arms-package.html`), or a long numeric id
    (`/news/world-asia-67812345`); never a section front, a tag or author index, or media."""
    path = urlsplit(url).path
    if _NOT_ARTICLE.search(path) or _MEDIA.search(path):
        return False
    segments = [s for s in path.split("/") if s]
    if not segments:
        return False
    last = re.sub(r"\.(s?html?|php|aspx?)$", "", segments[-1], flags=re.IGNORECASE)
    words = _SLUG_WORD.findall(last)
    if _DATE_PATH.search(path) and any(w.isalpha() for w in words):
        return True
    if len(words) >= 4 and sum(w.isalpha() for w in words) >= 3:
        return True
    return bool(_LONG_ID.search(last))


def _site(host: str) -> str:
    return host.lower().removeprefix("www.")


class PageSpider(NewsSpider):
    async def start(self):
        yield self.listing_request(self.source.location, self.parse_listing)

    async def parse_listing(self, response):
        if self.not_modified(response):
            return
        if not isinstance(response, TextResponse):
            self.refuse(response.url, "not an HTML page")
            return
        # Parsing a large page takes CPU: not on the reactor's thread.
        links = await asyncio.to_thread(self.article_links, response)
        for url in self.capped(links, response.url):
            request = self.follow_article(url)
            if request is not None:
                yield request

    def article_links(self, response: TextResponse) -> list[str]:
        """Absolute article URLs on the listing page, in page order, each once."""
        if self.source.links:
            hrefs = []
            for element in response.css(self.source.links):
                own = element.xpath("@href").get()
                hrefs.extend([own] if own else element.css("a::attr(href)").getall())
        else:
            hrefs = response.css("a::attr(href)").getall()
        here = _site(urlsplit(response.url).hostname or "")
        found: dict[str, None] = {}
        for href in hrefs:
            url = response.urljoin(href.strip()).split("#", 1)[0]
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or url == response.url:
                continue
            if not self.source.links and (_site(parts.hostname or "") != here or not looks_like_article(url)):
                continue
            found[url] = None
        return list(found)
