"""Backing off when a site says so: 429 Too Many Requests and 503 Service Unavailable.

`BackoffRetryMiddleware` is Scrapy's `RetryMiddleware` with one change for those two
statuses: the retry waits for the response's `Retry-After` (seconds or an HTTP date;
without one, `RETRY_BACKOFF_BASE` doubled per attempt), and so does every other request
to the same host meanwhile. A site asking for a longer wait than `RETRY_AFTER_MAX` is not
retried in this run: the request fails and is counted, and the next run tries again.
"""
from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.response import response_status_message

from newswatch.alerts.retry_after import parse_retry_after as retry_after

log = logging.getLogger(__name__)

BACKOFF_STATUSES = (429, 503)


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings):
        super().__init__(settings)
        self.max_wait = settings.getfloat("RETRY_AFTER_MAX", 120.0)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", 2.0)
        self.hosts_resume_at: dict[str, float] = {}  # host -> monotonic time

    async def process_request(self, request, spider=None):
        resume_at = self.hosts_resume_at.get(urlsplit(request.url).netloc)
        if resume_at is not None and resume_at > time.monotonic():
            await asyncio.sleep(resume_at - time.monotonic())
        return None

    async def process_response(self, request, response, spider=None):
        if response.status not in BACKOFF_STATUSES or request.meta.get("dont_retry", False):
            return super().process_response(request, response)
        attempt = request.meta.get("retry_times", 0)
        wait = retry_after(response.headers.get("Retry-After"))
        if wait is None:
            wait = self.base * 2 ** attempt
        if wait > self.max_wait:
            log.debug("%s asks to wait %.0fs (more than %.0fs): not retried in this run",
                     request.url, wait, self.max_wait)
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        host = urlsplit(request.url).netloc
        self.hosts_resume_at[host] = max(self.hosts_resume_at.get(host, 0.0), time.monotonic() + wait)
        return retry
