"""PostgreSQL and Redis going away under a distributed run (issue 21): one scheduler, one
crawler worker and one notifier, each a process, on a PostgreSQL cluster and a Redis
server of the test's own, each stopped and started again while articles arrive through a
feed. Every article is alerted once, no process exits, and each process that met an
outage logged it as one pair of lines (no tracebacks)."""
from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from support.bigsite import KOREA_QUERY, article
from support.mailservers import wait_for
from support.newssite import NewsSite
from newswatch.store.db import open_store
from newswatch.store.models import Article, OutboxRow

pytestmark = pytest.mark.slow

BATCH = 10  # articles added to the feed before and during each outage


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """A PostgreSQL cluster in a temporary directory (as the `postgres` user when the
    tests run as root: initdb refuses root)."""

    def __init__(self):
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not binaries:
            pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql")
        self.bin = Path(binaries[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="nw-outage-pg-"))
        self.as_user = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.port = _free_port()
        self._run("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / program), *args], check=True,
                       capture_output=True, timeout=60)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w", "start",
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"),
                        "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)


class Redis:
    """A redis-server on a free port, without persistence: a restart loses its data, as
    a failover to an empty replica would."""

    def __init__(self):
        if shutil.which("redis-server") is None:
            pytest.skip("no redis-server")
        self.port = _free_port()
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._answers, timeout=20)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


@pytest.fixture
def postgres():
    server = Postgres()
    yield server
    server.remove()


@pytest.fixture
def redis_server():
    server = Redis()
    yield server
    if server.process.poll() is None:
        server.stop()


def _healthz(port: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_roles_ride_out_database_and_redis_outages(newswatch, webhook_server, postgres, redis_server):
    site = NewsSite(articles=[]).start()
    added: list[str] = []

    def add_articles(count: int, delay: float) -> list[str]:
        """`count` new articles in the feed, each page served after `delay` seconds."""
        paths = []
        for n in range(len(added) + 1, len(added) + count + 1):
            path, title, html, _ = article(n)
            site.set_response(path, 200, html.encode(), delay=delay)
            site.add_feed_item(path, title)
            paths.append(path)
        added.extend(paths)
        return paths

    def requested(paths: list[str]) -> int:
        return sum(site.count(path) > 0 for path in paths)

    config = {
        "database": postgres.url,
        "redis": redis_server.url,
        "sources": [{"name": "bignews", "feed": site.feed_url, "every": "3s"}],
        "topics": [{"name": "korea-arms", "query": KOREA_QUERY, "notify": ["hook"]}],
        "channels": {"hook": [webhook_server.apprise_url()]},
    }
    roles = ["crawler", "notifier", "scheduler"]
    ports = {role: _free_port() for role in roles}  # each role's /healthz
    logs = {role: newswatch.workdir / f"{role}.log" for role in roles}
    processes = {}
    for role in roles:
        newswatch.config = newswatch.workdir / f"{role}.yaml"
        newswatch.write_config({**config, "metrics": {"port": ports[role]}})
        processes[role] = subprocess.Popen(
            newswatch.command("run", "--role", role, "--config", str(newswatch.config)),
            cwd=newswatch.workdir, env=newswatch.env, stdout=subprocess.DEVNULL,
            stderr=logs[role].open("w"))
    store = None

    def text(role: str) -> str:
        return logs[role].read_text()

    def unhealthy(role: str, server: str) -> bool:
        status, body = _healthz(ports[role])
        return status == 503 and f"{server} unreachable" in body

    def all_alerted() -> bool:
        """Every article added is stored, and every alert sent."""
        with store.session() as session:
            stored = session.scalar(select(func.count()).select_from(Article))
            pending = session.scalar(select(func.count()).where(OutboxRow.status != "sent"))
        return stored == len(added) and pending == 0

    def settle(timeout: float) -> None:
        try:
            wait_for(all_alerted, timeout=timeout)
        except AssertionError:
            raise AssertionError({role: text(role)[-2500:] for role in roles}) from None

    try:
        add_articles(BATCH, delay=0)
        wait_for(lambda: all("newswatch running" in text(r) for r in roles), timeout=60)
        store = open_store(postgres.url, migrate=False)
        settle(60)
        assert all(_healthz(ports[role]) == (200, "ok\n") for role in roles)

        # The database goes away while articles are being fetched: they are stored when
        # it is back. Meanwhile /healthz names it.
        batch = add_articles(BATCH, delay=1.5)
        wait_for(lambda: requested(batch) >= 2, timeout=30)
        postgres.stop()
        wait_for(lambda: unhealthy("notifier", "database") and unhealthy("crawler", "database")
                 and requested(batch) == len(batch), timeout=30)
        postgres.start()
        settle(60)
        assert "not stored" not in text("crawler")

        # Then Redis, which comes back empty (no persistence): the source's next run
        # queues again what was lost.
        batch = add_articles(BATCH, delay=1.5)
        wait_for(lambda: requested(batch) >= 2, timeout=30)
        redis_server.stop()
        wait_for(lambda: unhealthy("crawler", "redis") and unhealthy("scheduler", "redis"), timeout=30)
        redis_server.start()
        settle(60)
        wait_for(lambda: all(_healthz(ports[role]) == (200, "ok\n") for role in roles), timeout=30)

        assert {role: p.poll() for role, p in processes.items()} == dict.fromkeys(roles)
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for process in processes.values():
            process.wait(timeout=30)
        assert [p.returncode for p in processes.values()] == [0, 0, 0]
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
        site.stop()

    with store.session() as session:
        urls = session.scalars(select(Article.url)).all()
        korea_stories = set(session.scalars(select(Article.story_id).where(
            Article.title.contains("South Korea"))))
        alerts = session.scalars(select(OutboxRow.status)).all()
    store.close()
    assert len(urls) == len(set(urls)) == len(added)  # every article stored once
    # Every alert sent once: one per story of the Korea articles, one post each.
    assert set(alerts) == {"sent"} and len(alerts) == len(korea_stories)
    assert len(webhook_server.posts) == len(alerts)

    # Each outage a process met: one WARNING when it started, one INFO when it ended.
    met = {"crawler": ("database", "redis"), "notifier": ("database",), "scheduler": ("redis",)}
    for role in roles:
        log = text(role)
        assert "Traceback" not in log, (role, log[-3000:])
        for server in ("database", "redis"):
            started = re.findall(rf"WARNING \S+: {server} unreachable: .*; retrying", log)
            ended = re.findall(rf"INFO \S+: {server} reachable again after [\d.]+s", log)
            assert len(started) == len(ended) == 1 if server in met[role] else len(started) == len(ended) <= 1, (
                role, server, started, ended)
