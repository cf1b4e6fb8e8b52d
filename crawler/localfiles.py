"""Scrapy's `file:` download handler, for `path:` sources only.

Only a `path:` source's own spider reads files, and only regular files inside its folder
(after every symlink is resolved), up to the download size limit: a feed entry linking
to `file:///etc/passwd`, a symlink out of the folder, a FIFO or `/dev/zero` named
`x.html` are refused. Other spiders never get here (they refuse `file:` links when they
find them, `NewsSpider.follow_article`); this handler is the second check.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from scrapy import Request
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.responsetypes import responsetypes
from scrapy.utils.asyncio import run_in_thread
from w3lib.url import file_uri_to_path

from newswatch.crawler.refusal import LocalFileRefused


def read_inside(path: str, folder: str, max_bytes: int) -> bytes:
    """The bytes of the regular file `path` if it lies inside `folder` (resolved);
    `LocalFileRefused` otherwise, `IgnoreRequest` if it is larger than `max_bytes`."""
    try:
        # O_NOFOLLOW: the path is the resolved one; a symlink put there since is refused.
        # O_NONBLOCK: opening a FIFO must not wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise LocalFileRefused(f"cannot open {path}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise LocalFileRefused(f"{path}: not a regular file")
        # Where the open file really is, whatever was swapped along the path meanwhile.
        proc = f"/proc/self/fd/{fd}"
        real = Path(os.readlink(proc) if os.path.exists(proc) else os.path.realpath(path))
        if not real.is_relative_to(Path(folder).resolve()):
            raise LocalFileRefused(f"{path}: outside the source's folder")
        if max_bytes and info.st_size > max_bytes:
            raise IgnoreRequest(f"larger than the download limit ({max_bytes} bytes)")
        with os.fdopen(os.dup(fd), "rb") as file:
            body = file.read(max_bytes + 1 if max_bytes else -1)
        if max_bytes and len(body) > max_bytes:
            raise IgnoreRequest(f"larger than the download limit ({max_bytes} bytes)")
        return body
    finally:
        os.close(fd)


class PathFileHandler(BaseDownloadHandler):
    async def download_request(self, request: Request) -> Response:
        spider = self.crawler.spider
        source = getattr(spider, "source", None)
        if source is None or source.kind != "path":
            raise LocalFileRefused(f"{request.url}: only path: sources read local files")
        filepath = file_uri_to_path(request.url)
        body = await run_in_thread(read_inside, filepath, source.location,
                                   self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        respcls = responsetypes.from_args(filename=filepath, body=body)
        return respcls(url=request.url, body=body)
