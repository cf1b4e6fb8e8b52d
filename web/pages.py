"""The server-rendered pages (Jinja2, no JavaScript): login, topics, a topic's stories,
sources, alerts (with a re-send button for dead ones) and the query playground. Every form
that changes something carries the session's CSRF token."""
from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape

from newswatch.alerts.status import outbox_counts, sources_status
from newswatch.web import api, read
from newswatch.web.auth import csrf_ok, csrf_token, safe_next
from newswatch.web.context import WebContext, context, duration, page_access
from newswatch.web.feeds import marked_html

templates = Jinja2Templates(env=Environment(
    loader=PackageLoader("newswatch.web", "templates"), autoescape=select_autoescape(default=True)))
templates.env.filters["marked"] = marked_html
templates.env.filters["quote"] = lambda value: quote(value, safe="")
templates.env.globals["csrf_token"] = csrf_token

public = APIRouter(include_in_schema=False)
router = APIRouter(dependencies=[Depends(page_access)], include_in_schema=False)


def page(request: Request, name: str, status_code: int = 200, **values) -> HTMLResponse:
    web: WebContext = request.app.state.web
    return templates.TemplateResponse(request, name, {"open": web.access.open, **values},
                                      status_code=status_code)


def check_csrf(request: Request, csrf: str = Form("")) -> None:
    if not csrf_ok(request, csrf):
        raise HTTPException(403, "the form has expired (CSRF token missing or wrong): reload the page")


# --- login ------------------------------------------------------------------------------


@public.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/"):
    return page(request, "login.html", next=safe_next(next))


@public.post("/login", dependencies=[Depends(check_csrf)])
def login(request: Request, token: str = Form(""), next: str = Form("/")):
    web: WebContext = request.app.state.web
    if not web.access.log_in(request, token):
        return page(request, "login.html", status_code=401, next=safe_next(next),
                    error="That is not the token.")
    return RedirectResponse(safe_next(next), status_code=303)


@public.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request):
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


# --- pages -------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def topics_page(request: Request, web: WebContext = Depends(context)):
    with web.store.session() as session:
        topics = read.topics(session, web.config.topics, web.clock())
    return page(request, "topics.html", topics=topics, days=read.DAYS)


@router.get("/topics/{name}", response_class=HTMLResponse)
def topic_page(request: Request, name: str, since: str = "30d", web: WebContext = Depends(context)):
    topic = web.topic(name)
    with web.store.session() as session:
        stories = read.topic_stories(session, topic.name, web.clock() - duration(since), 100)
    return page(request, "topic.html", topic=topic, stories=stories, since=since)


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request, web: WebContext = Depends(context)):
    with web.store.session() as session:
        sources = sources_status(session, web.config.sources, web.next_run)
    return page(request, "sources.html", sources=sources)


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, retried: int | None = None, web: WebContext = Depends(context)):
    with web.store.session() as session:
        counts = outbox_counts(session)
        dead = read.alerts(session, "dead", 200)
        pending = read.alerts(session, "pending", 100)
        sent = read.alerts(session, "sent", 50)
        outcome = read.alert_status(session, retried) if retried is not None else None
    return page(request, "alerts.html", counts=counts, dead=dead, pending=pending, sent=sent,
                retried=retried, outcome=outcome)


@router.post("/alerts/{alert_id}/retry", dependencies=[Depends(check_csrf)])
async def retry_page(alert_id: int, web: WebContext = Depends(context)):
    await api.resend(web, alert_id)
    return RedirectResponse(f"/alerts?retried={alert_id}", status_code=303)


@router.get("/match", response_class=HTMLResponse)
def match_page(request: Request, q: str = "", since: str = "7d",
               limit: int = Query(50, ge=1, le=1000), web: WebContext = Depends(context)):
    hits, error = None, None
    if q.strip():
        try:
            hits = api.backtest(web, q, duration(since), None, limit)
        except HTTPException as exc:
            error = exc.detail
    return page(request, "match.html", status_code=400 if error else 200, q=q, since=since,
                hits=hits, error=error)
