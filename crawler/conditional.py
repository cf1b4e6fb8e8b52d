"""Conditional GET for listings: feeds, sitemaps and listing pages.

A listing request carries `meta["conditional"]`. `ConditionalGetMiddleware` sends the
`ETag` / `Last-Modified` its URL last answered with as `If-None-Match` /
`If-Modified-Since`; an unchanged listing answers 304 and nothing is parsed.

New validators are collected during the run (`spider.validators`) and stored by
`save_validators` only when the run went well: had an article failed for a reason that
may pass (a 5xx, a timeout), an unchanged listing would answer 304 next time and the
article would never be tried again.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Mapping

from scrapy import Request
from scrapy.http import Response
from sqlalchemy.exc import SQLAlchemyError

from newswatch.corpus.dedup import url_hash
from newswatch.store.availability import DATABASE, SERVERS, outage_of
from newswatch.store.db import Store
from newswatch.store.models import Validator


def _key(request: Request) -> str:
    """The URL as the spider asked for it (before redirects): the one asked for next time."""
    return request.meta.get("redirect_urls", [request.url])[0]


class ConditionalGetMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request: Request, spider=None):
        if not request.meta.get("conditional") or "redirect_urls" in request.meta:
            return None
        store = self.crawler.spider.context.corpus.store
        try:
            with store.session() as session:
                known = session.get(Validator, url_hash(request.url))
        except SQLAlchemyError as exc:
            if outage_of(exc) is None:
                raise
            SERVERS.failed(DATABASE, exc)  # the database is away: an unconditional request
            return None
        if known is not None:
            if known.etag:
                request.headers.setdefault("If-None-Match", known.etag)
            if known.last_modified:
                request.headers.setdefault("If-Modified-Since", known.last_modified)
        return None

    def process_response(self, request: Request, response: Response, spider=None):
        if request.meta.get("conditional") and response.status == 200:
            etag = response.headers.get("ETag")
            modified = response.headers.get("Last-Modified")
            if etag or modified:
                validators = self.crawler.spider.validators
                validators[_key(request)] = (
                    etag.decode("latin-1") if etag else None,
                    modified.decode("latin-1") if modified else None,
                )
        return response


def save_validators(store: Store, validators: Mapping[str, tuple[str | None, str | None]]) -> None:
    now = datetime.now(timezone.utc)
    with store.session() as session:
        for url, (etag, modified) in validators.items():
            session.merge(Validator(
                url_hash=url_hash(url), url=url, etag=etag, last_modified=modified, updated_at=now,
            ))
