"""`path:` sources: a folder of `.html`/`.txt` files, each an article (read through
Scrapy's `file://` handler, so they take the same road as fetched pages)."""
from __future__ import annotations

from pathlib import Path

from newswatch.crawler.spiders.base import NewsSpider

SUFFIXES = {".html", ".htm", ".txt"}


class PathSpider(NewsSpider):
    async def start(self):
        folder = Path(self.source.location)
        if not folder.is_dir():
            self.error = f"{folder}: not a folder"
            self.logger.warning("source %s: %s", self.source.name, self.error)
            return
        for file in sorted(folder.rglob("*")):
            if file.is_file() and file.suffix.lower() in SUFFIXES:
                request = self.follow_article(file.resolve().as_uri())
                if request is not None:
                    yield request
