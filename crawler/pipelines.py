"""Item pipelines: extract, then ingest (dedup, store, match, queue alerts). The work
runs in the processes of `processes.py`, off the reactor thread."""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures.process import BrokenProcessPool

from scrapy.exceptions import DropItem
from scrapy.logformatter import LogFormatter

from newswatch.corpus.analysis import extract_and_analyse
from newswatch.corpus.article import ExtractionError
from newswatch.corpus.ingest import Addition, IngestError
from newswatch.crawler.items import Page
from newswatch.corpus.processes import run_with_deadline
from newswatch.crawler.spiders.base import FAILED

log = logging.getLogger(__name__)

NEW = "newswatch/new"
DUPLICATE = "newswatch/duplicate"


class QuietLogFormatter(LogFormatter):
    """A dropped page is one line naming its URL and why, not a dump of its bytes."""

    def dropped(self, item, exception, response, spider=None):
        return {"level": logging.WARNING, "msg": "skipped %(exception)s", "args": {"exception": exception}}


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
    """`Page` → `Addition`. Extraction and analysis are CPU work: they run on the
    context's executor, off the reactor thread, each page within its deadline
    (`NEWSWATCH_EXTRACT_TIMEOUT`, `crawl: {extract_timeout}`). A page with no article
    in it, or whose extraction takes too long, is dropped and counted."""

    async def process_item(self, item: Page, spider=None) -> Addition:
        loop = asyncio.get_running_loop()
        deadline = self.crawler.settings.getfloat("NEWSWATCH_EXTRACT_TIMEOUT", 20.0)
        try:
            article, analysis = await loop.run_in_executor(
                self.context.executor, run_with_deadline, deadline, extract_and_analyse,
                item.body, item.url, item.content_type, item.source,
            )
        except ExtractionError as exc:
            self.crawler.stats.inc_value(FAILED)
            raise DropItem(f"{item.url}: no article ({exc})") from None
        except BrokenProcessPool:
            self.crawler.stats.inc_value(FAILED)
            raise DropItem(f"{item.url}: extraction crashed or overran its worker") from None
        return Addition(article, item.source, (item.via,), analysis)


class IngestPipeline(_Stage):
    """`Addition` → the same, stored: counted as new or duplicate (or dropped and
    counted as failed if it could not be stored). Storing runs in the context's
    `IngestWriter`, so the reactor keeps fetching meanwhile."""

    async def process_item(self, item: Addition, spider=None) -> Addition:
        try:
            ingested = await asyncio.wrap_future(self.context.writer.submit(item))
        except IngestError as exc:
            self.crawler.stats.inc_value(FAILED)
            raise DropItem(f"not stored: {exc}") from None
        self.crawler.stats.inc_value(NEW if ingested.outcome == "new" else DUPLICATE)
        log.info(
            "%s %s %s: %s%s", item.source, ingested.outcome, item.article.url, ingested.describe(),
            f" (topics: {', '.join(ingested.topics)})" if ingested.topics else "",
            extra={"source": item.source, "url": item.article.url, "topics": list(ingested.topics),
                   "story": ingested.story_id, "role": ingested.role},
        )
        return item
