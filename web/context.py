"""What the web app is given by whoever serves it (the daemon, or `newswatch web`), and
the FastAPI dependencies that hand it to the routes."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from fastapi import HTTPException, Request

from newswatch.alerts.durations import parse_duration
from newswatch.alerts.matcher import Topic
from newswatch.alerts.status import NextRun
from newswatch.store.db import Store
from newswatch.web.auth import Access


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class WebContext:
    """`config` is the loaded config (read only: its sources, schedules, topics, and for
    re-sending a dead alert its channels, retry policy and templates); `metrics` returns
    the Prometheus exposition; `next_run` tells when a source runs next (the daemon's
    schedules); `delivering`, the daemon's lock around outbox drains, keeps a re-send from
    running beside the daemon's own drain."""

    config: Any
    store: Store
    metrics: Callable[[], bytes]
    next_run: NextRun
    delivering: asyncio.Lock = field(default_factory=asyncio.Lock)
    clock: Callable[[], datetime] = utcnow

    def __post_init__(self) -> None:
        web = self.config.web
        token = web.token.get_secret_value() if web is not None and web.token else None
        self.access = Access(token or None)

    def topic(self, name: str) -> Topic:
        found = next((t for t in self.config.topics if t.name == name), None)
        if found is None:
            raise HTTPException(404, f"no topic named {name!r}")
        return found


def context(request: Request) -> WebContext:
    return request.app.state.web


def api_access(request: Request) -> None:
    context(request).access.api(request)


def feed_access(request: Request) -> None:
    context(request).access.feed(request)


def page_access(request: Request) -> None:
    context(request).access.page(request)


def duration(value: str) -> timedelta:
    """`7d`, `12h`, `30m` (the config's durations) as a timedelta; 400 otherwise."""
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise HTTPException(400, f"since: {exc}") from None
