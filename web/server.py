"""Serving an ASGI app with uvicorn on the running asyncio loop (the daemon's, where
Scrapy and APScheduler run too), as a task rather than a thread.

The socket is bound before uvicorn starts, so an address in use fails at once with a
`ListenError` naming it. Signals stay the caller's (the daemon stops on SIGTERM and then
stops its listeners); uvicorn's access log is off, since feed URLs carry `?token=`.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 5
#: A connection that has not sent a whole request this long after it opened is closed.
IDLE_TIMEOUT_S = 10.0


class ListenError(Exception):
    """The address cannot be listened on (in use, not this machine's, not allowed)."""


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ListenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


class _IdleClosingH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection that sends no complete request in
    time: uvicorn times out only between requests, so a silent or half-sent first request
    (a port scan, a stalled client) would hold its connection for ever."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._idle = self.loop.call_later(IDLE_TIMEOUT_S, self._close_if_idle)

    def _close_if_idle(self) -> None:
        if self.cycle is None and not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._idle.cancel()
        super().connection_lost(exc)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):  # the daemon owns SIGTERM and SIGINT
        yield


class Listener:
    """One app on one address: `await start()`, later `await stop()`."""

    def __init__(self, app, host: str, port: int, name: str = "web"):
        self.name = name
        self.config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False,
                                     lifespan="off", server_header=False, http=_IdleClosingH11)
        self.server = _Server(self.config)
        self.socket: socket.socket | None = None
        self.task: asyncio.Task | None = None

    @property
    def address(self) -> tuple[str, int]:
        return self.socket.getsockname()[:2]

    async def start(self) -> Listener:
        self.socket = _bind(self.config.host, self.config.port)
        self.task = asyncio.create_task(self.server.serve(sockets=[self.socket]), name=self.name)
        log.info("%s on http://%s:%d/", self.name, *self.address[:2])
        return self

    async def stop(self) -> None:
        if self.task is None:
            return
        self.server.should_exit = True
        try:
            await asyncio.wait_for(self.task, STOP_TIMEOUT_S)
        except TimeoutError:
            self.server.force_exit = True
            log.warning("%s: connections still open after %ds; closed", self.name, STOP_TIMEOUT_S)
        finally:
            self.socket.close()
