"""`store.availability`: which errors are outages, one pair of log lines per outage, the
wait through one; and `run` waiting at start for a database that does not answer
(`startup_wait`), then exiting 1 with one line."""
from __future__ import annotations

import logging
import socket
import sqlite3
import threading

import psycopg
import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from newswatch.store.availability import DATABASE, REDIS, Availability, Unavailable, outage_of


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sqlite_locked() -> OperationalError:
    return OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))


def _postgres_refused() -> BaseException:
    """The error psycopg gives SQLAlchemy for a server that is not there."""
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/x")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 — the error is the case under test
        return exc
    finally:
        engine.dispose()
    raise AssertionError("a closed port answered")


@pytest.mark.parametrize("make, server", [
    (lambda: redis.ConnectionError("Error 111 connecting"), REDIS),
    (lambda: redis.TimeoutError("Timeout reading from socket"), REDIS),
    (lambda: redis.ResponseError("WRONGTYPE"), None),  # a bug, not an outage
    (_postgres_refused, DATABASE),
    (lambda: OperationalError("SELECT 1", {}, psycopg.errors.AdminShutdown("terminating connection")), DATABASE),
    (lambda: OperationalError("UPDATE", {}, psycopg.errors.DeadlockDetected("deadlock detected")), None),
    (_sqlite_locked, None),  # SQLite waits in its busy timeout, then fails as before
    (lambda: Unavailable(DATABASE, "refused"), DATABASE),  # from the ingest process
    (lambda: ValueError("boom"), None),
], ids=["redis-refused", "redis-timeout", "redis-response", "postgres-refused",
        "postgres-shutdown", "postgres-deadlock", "sqlite-locked",
        "unavailable", "other"])
def test_which_errors_are_outages(make, server):
    assert outage_of(make()) == server


def test_an_outage_is_one_warning_then_one_info_line(caplog):
    servers = Availability()
    answers = threading.Event()

    def probe():
        if not answers.is_set():
            raise redis.ConnectionError("still refused")

    servers.probe(REDIS, probe)
    caplog.set_level(logging.INFO, logger="newswatch.store.availability")
    for _ in range(5):
        servers.failed(REDIS, redis.ConnectionError("Error 111 connecting"))
    assert servers.down() == {REDIS: "Error 111 connecting"}
    assert not servers.wait_up(REDIS, timeout=0.2)
    answers.set()
    assert servers.wait_up(REDIS, timeout=30)
    assert servers.down() == {}
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert lines[0] == ("WARNING", "redis unreachable: Error 111 connecting; retrying")
    assert len(lines) == 2 and lines[1][0] == "INFO"
    assert lines[1][1].startswith("redis reachable again after ")


def test_retry_waits_through_an_outage_and_returns():
    servers = Availability()
    calls = []

    def call():
        calls.append(1)
        if len(calls) < 3:
            raise redis.ConnectionError("refused")
        return "done"

    assert servers.retry(call) == "done" and len(calls) == 3
    assert servers.down() == {}


def test_retry_gives_up_when_the_process_stops():
    servers = Availability()
    servers.stopping.set()
    with pytest.raises(Unavailable):
        servers.retry(lambda: (_ for _ in ()).throw(redis.ConnectionError("refused")))


def test_retry_raises_what_is_not_an_outage():
    with pytest.raises(ValueError):
        Availability().retry(lambda: int("x"))


@pytest.mark.slow
@pytest.mark.parametrize("missing", ["database", "redis"])
def test_run_waits_for_its_servers_then_exits_1_with_one_line(newswatch, missing):
    closed = _free_port()
    newswatch.write_config({
        **({"database": f"postgresql+psycopg://postgres@127.0.0.1:{closed}/newswatch"}
           if missing == "database" else {}),
        "redis": f"redis://127.0.0.1:{closed}/0",
        "startup_wait": "2s",
    })
    result = newswatch("run", "--role", "scheduler", timeout=60)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert f"{missing} unreachable: " in lines[0] and "; retrying" in lines[0]
    assert "after waiting 2s (startup_wait); exiting" in lines[-1] and missing in lines[-1], lines
    assert len(lines) == 2, lines
