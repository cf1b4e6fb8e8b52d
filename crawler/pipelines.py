"""Item pipelines: extract, then ingest (dedup, store, match, queue alerts)."""
from __future__ import annotations

import asyncio
import logging

from scrapy.exceptions import DropItem

from newswatch.crawler.extract import ExtractionError, extract
from newswatch.crawler.items import ExtractedPage, Page
from newswatch.crawler.spiders.base import FAILED

log = logging.getLogger(__name__)

NEW = "newswatch/new"
DUPLICATE = "newswatch/duplicate"


class _Stage:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @property
    def context(self):
        return self.crawler.spider.context


class ExtractPipeline(_Stage):
    """`Page` → `ExtractedPage`. Extraction is CPU work: it runs on the context's
    executor, off the reactor thread. A page with no article in it is dropped and counted."""

    async def process_item(self, item: Page, spider=None) -> ExtractedPage:
        loop = asyncio.get_running_loop()
        try:
            article = await loop.run_in_executor(
                self.context.executor, extract, item.body, item.url, item.content_type
            )
        except ExtractionError as exc:
            self.crawler.stats.inc_value(FAILED)
            raise DropItem(f"no article in {item.url}: {exc}") from None
        return ExtractedPage(source=item.source, via=item.via, article=article)


class IngestPipeline(_Stage):
    """`ExtractedPage` → the same, stored: counted as new or duplicate."""

    def process_item(self, item: ExtractedPage, spider=None) -> ExtractedPage:
        ingested = self.context.corpus.add(item.article, item.source, via=(item.via,))
        self.crawler.stats.inc_value(NEW if ingested.outcome == "new" else DUPLICATE)
        log.info(
            "%s %s %s%s", item.source, ingested.outcome, item.article.url,
            f" (topics: {', '.join(ingested.topics)})" if ingested.topics else "",
            extra={"source": item.source, "url": item.article.url, "topics": list(ingested.topics)},
        )
        return item
