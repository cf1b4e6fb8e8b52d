"""The JSON API under /api/ (described at /api/openapi.json). Errors are JSON objects
with a `message` (see app.py); a query that does not parse answers 400 with the parser's
message, the query and a caret under the problem."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query

from newswatch.alerts.backtest import search, show
from newswatch.alerts.notifier import drain
from newswatch.alerts.outbox import requeue
from newswatch.store.models import OutboxStatus
from newswatch.alerts.query import QueryError, parse
from newswatch.alerts.status import SourceStatus, sources_status
from newswatch.web import read
from newswatch.web.context import WebContext, api_access, context, duration

router = APIRouter(prefix="/api", dependencies=[Depends(api_access)], tags=["api"])

Since = Query("7d", alias="since", description="how far back: 30m, 12h, 7d")


@dataclass(frozen=True)
class Hit:
    url: str
    title: str
    source: str
    first_seen: str
    score: float
    snippets: list[read.SnippetView]


@dataclass(frozen=True)
class Retried:
    id: int
    status: str  # the alert's status after the attempt: sent, pending (failed again) or dead
    sent: bool


@router.get("/topics", response_model=list[read.TopicView])
def topics(web: WebContext = Depends(context)):
    """The configured topics with their hits (matched articles) in all and per day over
    the last 14 days, and when an alert for each was last sent."""
    with web.store.session() as session:
        return read.topics(session, web.config.topics, web.clock())


@router.get("/topics/{name}/stories", response_model=list[read.StoryView])
def topic_stories(name: str, since_: str = Since, limit: int = Query(100, ge=1, le=1000),
                  web: WebContext = Depends(context)):
    """The topic's stories with a matching article first seen within `since`, newest first."""
    topic = web.topic(name)
    window = web.clock() - duration(since_)
    with web.store.session() as session:
        return read.topic_stories(session, topic.name, window, limit)


@router.get("/stories/{story_id}", response_model=read.StoryView)
def story(story_id: int, web: WebContext = Depends(context)):
    """One story, with every article and each topic each article matched."""
    with web.store.session() as session:
        found = read.story(session, story_id)
    if found is None:
        raise HTTPException(404, f"no story {story_id}")
    return found


@router.get("/sources", response_model=list[SourceStatus])
def sources(web: WebContext = Depends(context)):
    """Each configured source: last run, counts, last error, broken since, next run."""
    with web.store.session() as session:
        return sources_status(session, web.config.sources, web.next_run)


@router.get("/alerts", response_model=list[read.AlertView])
def alerts(status: Literal["pending", "sent", "dead"] | None = None,
           limit: int = Query(100, ge=1, le=1000), web: WebContext = Depends(context)):
    """Alerts (outbox rows), newest first; `status` picks pending, sent or dead ones."""
    with web.store.session() as session:
        return read.alerts(session, status, limit)


@router.post("/alerts/{alert_id}/retry", response_model=Retried)
async def retry(alert_id: int, web: WebContext = Depends(context)):
    """Send a dead-lettered alert again now (as `newswatch alerts retry ID`)."""
    return await resend(web, alert_id)


async def resend(web: WebContext, alert_id: int) -> Retried:
    """Requeue the dead alert and drain it at once, under the daemon's delivery lock."""
    with web.store.session() as session:
        status = read.alert_status(session, alert_id)
    if status is None:
        raise HTTPException(404, f"no alert {alert_id}")
    if status != OutboxStatus.DEAD:
        raise HTTPException(409, f"alert {alert_id} is {status}, not dead: nothing to re-send")
    config = web.config
    async with web.delivering:
        ids = await asyncio.to_thread(requeue, web.store, [alert_id])
        result = await asyncio.to_thread(
            drain, web.store, config.channels, digest_topics=(), retry=config.retry,
            templates=config.templates, ignore_backoff=True, only=ids)
    with web.store.session() as session:
        status = read.alert_status(session, alert_id)
    return Retried(alert_id, status, result.sent == 1)


@router.get("/match", response_model=list[Hit])
def match(q: str = Query(..., description="a topic query, as in the config"),
          since_: str = Since, source: str | None = None,
          limit: int = Query(50, ge=1, le=1000), web: WebContext = Depends(context)):
    """The backtest of `newswatch match`: what the query would have caught, best first."""
    return backtest(web, q, duration(since_), source, limit)


def backtest(web: WebContext, q: str, window: timedelta, source: str | None, limit: int) -> list[Hit]:
    try:
        query = parse(q)
    except QueryError as exc:
        raise HTTPException(400, str(exc)) from None
    with web.store.session() as session:
        hits = search(session, query, web.clock() - window, source)
        return [
            Hit(a.url, a.title, a.source, a.first_seen.isoformat(), round(m.score, 3),
                read.match_views(m))
            for a, m in show(session, query, hits[:limit])
        ]
