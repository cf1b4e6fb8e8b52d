"""`path:` sources: a folder of `.html`/`.txt` files, each an article (read through
newswatch's `file://` handler, `localfiles.py`, so they take the same road as fetched
pages). Only regular files inside the folder are read: a symlink that leads out of it,
or anything not a regular file, is refused and counted."""
from __future__ import annotations

import stat
from pathlib import Path

from newswatch.crawler.refusal import REFUSED_FILE
from newswatch.crawler.spiders.base import NewsSpider

SUFFIXES = {".html", ".htm", ".txt"}


class PathSpider(NewsSpider):
    async def start(self):
        folder = Path(self.source.location).resolve()
        if not folder.is_dir():
            self.error = f"{folder}: not a folder"
            self.logger.warning("source %s: %s", self.source.name, self.error)
            return
        for file in sorted(folder.rglob("*")):
            if file.suffix.lower() not in SUFFIXES or file.is_dir():
                continue
            real = file.resolve()
            if not real.is_relative_to(folder):
                self.count_refusal(file.as_uri(), REFUSED_FILE, f"leads out of the folder (to {real})")
                continue
            try:
                regular = stat.S_ISREG(real.stat().st_mode)
            except OSError as exc:  # a dangling symlink
                self.count_failure(file.as_uri(), exc.strerror or str(exc))
                continue
            if not regular:
                self.count_refusal(file.as_uri(), REFUSED_FILE, "not a regular file")
                continue
            request = self.follow_article(real.as_uri())
            if request is not None:
                yield request
