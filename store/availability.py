"""Whether the servers this process depends on answer: the database and Redis.

An outage of either is an expected event, not a bug: the code that meets one hands the
error to `SERVERS.failed(server, exc)` (or lets `SERVERS.retry` / `guard` do it), which
logs one WARNING when the outage starts (``database unreachable: <reason>; retrying``),
probes the server from a thread of its own with capped exponential backoff, and logs one
INFO line with the outage's length when the server answers again. Meanwhile
`SERVERS.down()` names the unreachable servers (``/healthz`` answers 503 with them) and
work that needs a down server waits or skips its turn instead of failing.

What counts as an outage (`outage_of`): Redis connection and timeout errors, and a
PostgreSQL error of the connection (refused, closed, the server shutting down). SQLite's
``database is locked`` is not one: the busy timeout waits for it, then it fails as before.
"""
from __future__ import annotations

import functools
import logging
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)

DATABASE, REDIS = "database", "redis"
#: The backoff between probes (and retries): from `FIRST_S`, doubling, up to `CAP_S`.
FIRST_S = 0.5
CAP_S = 10.0

T = TypeVar("T")


class Unavailable(Exception):
    """`server` did not answer (picklable: it crosses from the ingest process)."""

    def __init__(self, server: str, reason: str):
        super().__init__(server, reason)
        self.server, self.reason = server, reason

    def __str__(self) -> str:
        return f"{self.server} unreachable: {self.reason}"


#: PostgreSQL's SQLSTATEs of a server going or gone: connection exceptions (class 08), an
#: administrator's or a crash's shutdown, a server still starting.
_GONE_STATES = ("08", "57P01", "57P02", "57P03")


def outage_of(exc: BaseException) -> str | None:
    """`DATABASE` or `REDIS` if `exc` says that server is unreachable, else None."""
    if isinstance(exc, Unavailable):
        return exc.server
    # A Redis error comes from a process that loaded redis: one that did not never loads it here.
    redis = sys.modules.get("redis")
    if redis is not None and isinstance(exc, (redis.ConnectionError, redis.TimeoutError)):
        return REDIS
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return DATABASE
        exc = exc.orig
    if type(exc).__module__.split(".")[0] != "psycopg":
        return None  # SQLite's `database is locked` and the like: not an outage
    # psycopg: no SQLSTATE when the client could not reach the server or lost it.
    state = getattr(exc, "sqlstate", None)
    if type(exc).__name__ in ("OperationalError", "InterfaceError") and state is None:
        return DATABASE
    return DATABASE if state is not None and state.startswith(_GONE_STATES) else None


def reason_of(exc: BaseException) -> str:
    """One line: the driver's first line, without SQLAlchemy's SQL and background link."""
    if isinstance(exc, Unavailable):
        return exc.reason
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip().splitlines()
    return (text[0] if text else type(inner).__name__)[:300]


def backoff(attempt: int) -> float:
    """The wait before retry number `attempt` (0 first): capped exponential, with jitter."""
    return min(CAP_S, FIRST_S * 2 ** attempt) * random.uniform(0.8, 1.0)


@dataclass
class _Outage:
    reason: str
    since: float  # time.monotonic()


class Availability:
    """The outages of this process's servers. Thread-safe: the event loop, the drain's
    thread and the ingest thread all report to it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._probes: dict[str, Callable[[], object]] = {}
        self._outages: dict[str, _Outage] = {}
        self._answered: dict[str, threading.Event] = {}
        #: Set when the process stops: `retry` gives up instead of waiting on.
        self.stopping = threading.Event()

    def probe(self, server: str, check: Callable[[], object]) -> None:
        """How to tell that `server` answers again (raises while it does not)."""
        self._probes[server] = check

    def down(self) -> dict[str, str]:
        """The unreachable servers and why."""
        with self._lock:
            return {server: o.reason for server, o in self._outages.items()}

    def is_down(self, server: str) -> bool:
        return server in self._outages

    def failed(self, server: str, exc: BaseException | str) -> None:
        """`server` did not answer: the outage's first report logs it and starts probing."""
        reason = exc if isinstance(exc, str) else reason_of(exc)
        with self._lock:
            if server in self._outages:
                return
            self._outages[server] = _Outage(reason, time.monotonic())
            self._answered[server] = threading.Event()
        log.warning("%s unreachable: %s; retrying", server, reason)
        if server in self._probes:
            threading.Thread(target=self._probe_until_up, args=(server,),
                             name=f"probe-{server}", daemon=True).start()

    def answered(self, server: str) -> None:
        """`server` answered: ends its outage, if any, with one line."""
        with self._lock:
            outage = self._outages.pop(server, None)
            event = self._answered.pop(server, None)
        if outage is not None:
            log.info("%s reachable again after %.1fs", server, time.monotonic() - outage.since)
            event.set()

    def wait_up(self, server: str, timeout: float | None = None) -> bool:
        """Block until `server`'s outage (if any) ends; False on timeout or stop."""
        event = self._answered.get(server)
        deadline = None if timeout is None else time.monotonic() + timeout
        while event is not None and not event.is_set() and not self.stopping.is_set():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            event.wait(min(0.5, left) if left is not None else 0.5)
        return not self.is_down(server)

    def _probe_until_up(self, server: str) -> None:
        attempt = 0
        while self.is_down(server) and not self.stopping.is_set():
            time.sleep(backoff(attempt))
            attempt += 1
            try:
                self._probes[server]()
            except Exception as exc:  # noqa: BLE001 — still down, or down in another way
                if outage_of(exc) is None:
                    log.debug("probing %s: %s", server, exc)
                continue
            self.answered(server)

    def retry(self, call: Callable[[], T]) -> T:
        """`call()`, again and again through outages (waiting for the server to answer,
        with backoff when it has no probe), until it returns or raises something else.
        Raises `Unavailable` if the process stops meanwhile. For threads, not the loop."""
        attempt, server = 0, None
        while True:
            try:
                result = call()
            except Exception as exc:
                server = outage_of(exc)
                if server is None:
                    raise
                self.failed(server, exc)
                if self.stopping.is_set():
                    raise Unavailable(server, reason_of(exc)) from None
                if server in self._probes:
                    self.wait_up(server)
                else:
                    self.stopping.wait(backoff(attempt))
                attempt += 1
                continue
            if server is not None:
                self.answered(server)  # if nothing probes it, this call did
            return result


def within(seconds: float, server: str, call: Callable[[], T]) -> T:
    """`call()`, tried again through an outage of `server` for up to `seconds` (at start:
    the servers may be starting too); then `Unavailable`."""
    deadline = time.monotonic() + seconds
    attempt = 0
    while True:
        try:
            result = call()
        except Exception as exc:
            if outage_of(exc) != server:
                raise
            left = deadline - time.monotonic()
            if left <= 0:
                raise Unavailable(server, reason_of(exc)) from None
            SERVERS.failed(server, exc)
            time.sleep(min(backoff(attempt), left))
            attempt += 1
            continue
        if attempt:
            SERVERS.answered(server)
        return result


#: This process's servers.
SERVERS = Availability()


def guard(job: Callable[..., object]) -> Callable[..., object]:
    """`job` (a coroutine function: a scheduled job) with outages reported to `SERVERS`
    instead of raised: the run is skipped, the next run at its time tries again."""
    @functools.wraps(job)
    async def guarded(*args, **kwargs):
        try:
            return await job(*args, **kwargs)
        except Exception as exc:
            server = outage_of(exc)
            if server is None:
                raise
            SERVERS.failed(server, exc)
            return None
    return guarded
