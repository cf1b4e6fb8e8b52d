"""The ASGI apps: `create_app` (pages, /api/, /feeds/, /metrics, /healthz) and `ops_app`
(/metrics and /healthz alone, for the config's `metrics:` port).

`/healthz` answers 200 `ok` while the event loop turns (it answers at all), the
database answers and no server this process uses is in an outage (Redis); 503 naming
the unreachable servers otherwise; it and `/metrics` need no token.
Errors under /api/ and /feeds/ are JSON objects with a `message`; a page without a
session redirects to the login form.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Callable
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Route

from newswatch.store.availability import DATABASE, SERVERS, outage_of
from newswatch.store.db import Store
from newswatch.web import api, pages, read
from newswatch.web.auth import SESSION_COOKIE, SESSION_DAYS, LoginRequired
from newswatch.web.context import WebContext, api_access, context, feed_access
from newswatch.web.feeds import topic_feed

log = logging.getLogger(__name__)

FEED_STORIES = 50


def _ops_routes(metrics: Callable[[], bytes], store: Store) -> list[Route]:
    async def metrics_route(request: Request) -> Response:
        body = await asyncio.to_thread(metrics)  # reads the database (outbox, matches)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    async def healthz(request: Request) -> Response:
        problems = await asyncio.to_thread(_problems, store)
        if not problems:
            return PlainTextResponse("ok\n")
        return PlainTextResponse(f"unhealthy: {'; '.join(problems)}\n", status_code=503)

    return [Route("/metrics", metrics_route), Route("/healthz", healthz)]


def _problems(store: Store) -> list[str]:
    """What is wrong: the database does not answer now, or a server this process uses is
    in an outage (`availability.SERVERS`: Redis, for the roles that use it). Named, not
    detailed: the page needs no token, and the log has the reason."""
    down = set(SERVERS.down())
    try:
        with store.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except SQLAlchemyError as exc:
        if outage_of(exc) is not None:
            SERVERS.failed(DATABASE, exc)
        down.add(DATABASE)
    return [f"{server} unreachable" for server in sorted(down)]


def ops_app(metrics: Callable[[], bytes], store: Store) -> Starlette:
    """/metrics and /healthz alone (anything else: 404)."""
    return Starlette(routes=_ops_routes(metrics, store))


def create_app(web: WebContext) -> FastAPI:
    app = FastAPI(
        title="newswatch", version="1", openapi_url=None, docs_url=None, redoc_url=None,
        description="Topics, stories, sources, alerts and query backtests of a newswatch "
                    "corpus. Every call needs `Authorization: Bearer TOKEN`.",
    )
    app.state.web = web
    app.add_middleware(
        SessionMiddleware, secret_key=web.access.session_key(), session_cookie=SESSION_COOKIE,
        max_age=SESSION_DAYS * 86400, same_site="strict", https_only=False,
    )
    for route in _ops_routes(web.metrics, web.store):
        app.router.routes.append(route)
    app.include_router(api.router)
    app.include_router(pages.public)
    app.include_router(pages.router)

    @app.get("/api/openapi.json", include_in_schema=False, dependencies=[Depends(api_access)])
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/feeds/{topic}.atom", dependencies=[Depends(feed_access)], tags=["feeds"],
             response_class=Response, responses={200: {"content": {"application/atom+xml": {}}}})
    def feed(topic: str, request: Request, web: WebContext = Depends(context)) -> Response:
        """The topic's stories as an Atom feed (`?token=TOKEN` for feed readers)."""
        name = web.topic(topic).name
        with web.store.session() as session:
            stories = read.topic_stories(session, name, None, FEED_STORIES)
        base = str(request.base_url).rstrip("/")
        return Response(topic_feed(name, stories, base), media_type="application/atom+xml")

    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/feeds/"))


async def _login_required(request: Request, exc: LoginRequired) -> Response:
    return RedirectResponse(f"/login?next={quote(exc.path, safe='')}", status_code=303)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if _wants_json(request):
        return JSONResponse({"message": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))
    return pages.page(request, "error.html", status_code=exc.status_code,
                      status=exc.status_code, message=exc.detail)


async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc'][1:]) or e['loc'][0]}: {e['msg']}" for e in exc.errors())
    if _wants_json(request):
        return JSONResponse({"message": f"bad request: {problems}"}, status_code=422)
    return pages.page(request, "error.html", status_code=422, status=422,
                      message=f"bad request: {problems}")

