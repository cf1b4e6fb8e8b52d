"""Benchmark: crawler workers scaling out on PostgreSQL + Redis.

Workload: a local news site (tests/bigsite.py) of 2,000 distinct articles behind one RSS
feed, served by a threaded HTTP server in this process. For 1, then 2 crawler workers
(`newswatch run --role crawler`, real processes, started and idle before the clock
starts), on a fresh PostgreSQL database and Redis keys of their own each time (a source
name no other run uses: the machine is shared, and runs of this benchmark or of
tests/test_roles.py elsewhere must not pop each other's requests): the source is marked
due (as the scheduler does), and the clock runs until every article is stored. The
baseline is the 1-worker run, measured in the same run.

Figures: `pages_s_1`, `pages_s_2` (articles stored per second), `scaling`
(pages_s_2 ÷ pages_s_1; on 2 free cores expect ≥ 1.6) and `stored_twice` (URLs stored
more than once over both runs; must be 0). To read the ratio on a shared machine, each run
also reports `cores_N`, the CPU our own processes used (workers with their extraction
processes, PostgreSQL backends of the run's database, this process serving the site) per
second of the run, and `busy_N`, the cores the whole machine was busy: two workers cannot
go faster when the cores one worker leaves free are taken. The last line printed is one
JSON object of them.

On this 2-core machine one worker already keeps both cores busy (its extraction pool has
a process per core, beside its crawling and ingest processes), so a second one has little
to gain. `--pin` gives each worker a core of its own (worker i's processes are bound to
core i, and its pool then has one process), as if each ran on a one-core machine of its
own; PostgreSQL, Redis and the site still share the cores. It measures what scaling out
costs (the shared queue, filter and database) rather than how many cores there are.
`efficiency` says it whatever else the machine runs: pages per busy core-second (the CPU
seconds of our processes, as in `cores_N`) with two workers ÷ the same with one; the
target is >= 0.95 with `--pin`.

Needs PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379 (same as the tests);
`python -m bench.scale [ARTICLES] [--pin]`.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis
import yaml
from sqlalchemy import create_engine, func, select, text

REPO = Path(__file__).resolve().parent.parent

from bench.procstat import PROC, cpu_by_pid
from tests.support.bigsite import big_site
from newswatch.crawler.distributed import mark_due  # noqa: E402
from newswatch.crawler.sources import Source  # noqa: E402
from newswatch.store.db import open_store  # noqa: E402
from newswatch.store.models import Article  # noqa: E402

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/14"
TIMEOUT_S = 300


def _cpu_s(pids) -> float:
    """CPU seconds used so far by `pids` and their descendants (0 where /proc is absent)."""
    return sum(cpu_by_pid(pids).values())


def _database_pids(database: str) -> list[int]:
    """The PostgreSQL backends serving `database` (their title names it)."""
    found = []
    for entry in PROC.iterdir() if PROC.is_dir() else ():
        try:
            if entry.name.isdigit() and database.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _machine_busy() -> tuple[int, int]:
    """(busy, all) jiffies of the machine's CPUs so far."""
    fields = [int(x) for x in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4], sum(fields)  # idle and iowait are not busy


def _bind_to(core: int):
    """A preexec_fn binding the child (and what it starts) to one core."""
    return lambda: os.sched_setaffinity(0, {core % (os.cpu_count() or 1)})


def crawl_with(workers: int, feed_url: str, articles: int, admin, workdir: Path, pin: bool = False) -> dict:
    """{pages_s, stored_twice, cores, busy} for one run with `workers` (worker i bound to
    core i if `pin`)."""
    database = f"nw_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    url = f"{POSTGRES}/{database}"
    store = open_store(url)
    server = redis.Redis.from_url(REDIS)
    source = Source(f"bignews-{uuid.uuid4().hex[:8]}", "feed", feed_url)
    config = workdir / f"w{workers}.yaml"
    config.write_text(yaml.safe_dump({
        "database": url, "redis": REDIS,
        "sources": [{"name": source.name, "feed": feed_url, "every": "1d"}],
        "crawl": {"allow_private": True},  # the site is on 127.0.0.1
    }))
    logs = [workdir / f"w{workers}-{i}.log" for i in range(workers)]
    processes = [
        subprocess.Popen([sys.executable, "-m", "newswatch.jobs.cli", "--config", str(config),
                          "run", "--role", "crawler"], cwd=workdir, stdout=subprocess.DEVNULL,
                         stderr=log.open("w"), preexec_fn=_bind_to(core) if pin else None)
        for core, log in enumerate(logs)
    ]

    def count(query) -> int:
        with store.session() as session:
            return session.scalar(query)

    try:
        deadline = time.monotonic() + 60
        while not all("newswatch running" in log.read_text() for log in logs):
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise SystemExit(f"workers did not start: {[log.read_text()[-500:] for log in logs]}")
            time.sleep(0.1)
        ours = [p.pid for p in processes] + [os.getpid()]
        cpu_before, busy_before = _cpu_s(ours), _machine_busy()
        started = time.monotonic()
        mark_due(server, source)
        stored = select(func.count()).select_from(Article)
        while count(stored) < articles:
            if time.monotonic() - started > TIMEOUT_S:
                raise SystemExit(f"{workers} workers stored {count(stored)} of {articles} in {TIMEOUT_S}s")
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        # The backends are the run's own, opened after the clock started: all their CPU counts.
        cpu = _cpu_s(ours) - cpu_before + _cpu_s(_database_pids(database))
        busy_after = _machine_busy()
        twice = count(select(func.count()).select_from(
            select(Article.url).group_by(Article.url).having(func.count() > 1).subquery()))
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        store.close()
        keys = list(server.scan_iter(match=f"*{source.name}*"))
        if keys:
            server.delete(*keys)
        server.close()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    machine = (busy_after[0] - busy_before[0]) / (busy_after[1] - busy_before[1]) * (os.cpu_count() or 1)
    return {"pages_s": articles / elapsed, "stored_twice": twice, "cpu_s": cpu,
            "cores": cpu / elapsed, "busy": machine}


def main() -> None:
    pin = "--pin" in sys.argv[1:]
    numbers = [a for a in sys.argv[1:] if a != "--pin"]
    articles = int(numbers[0]) if numbers else 2000
    site, _ = big_site(articles)
    admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            one = crawl_with(1, site.feed_url, articles, admin, Path(tmp), pin)
            print(f"1 crawler worker:  {articles} articles at {one['pages_s']:.1f} pages/s; "
                  f"our processes used {one['cores']:.2f} cores, the machine {one['busy']:.2f}")
            two = crawl_with(2, site.feed_url, articles, admin, Path(tmp), pin)
            print(f"2 crawler workers: {articles} articles at {two['pages_s']:.1f} pages/s; "
                  f"our processes used {two['cores']:.2f} cores, the machine {two['busy']:.2f}")
    finally:
        site.stop()
        admin.dispose()
    figures = {
        "articles": articles,
        "pages_s_1": round(one["pages_s"], 2),
        "pages_s_2": round(two["pages_s"], 2),
        "scaling": round(two["pages_s"] / one["pages_s"], 2),
        "stored_twice": one["stored_twice"] + two["stored_twice"],
        "cores_1": round(one["cores"], 2), "busy_1": round(one["busy"], 2),
        "cores_2": round(two["cores"], 2), "busy_2": round(two["busy"], 2),
        "efficiency": round(one["cpu_s"] / two["cpu_s"], 3),
        "pinned": pin,
    }
    print(f"scaling (2 workers / 1 worker): {figures['scaling']:.2f}; efficiency (pages per core-second, "
          f"2 workers / 1): {figures['efficiency']:.3f}; URLs stored twice: {figures['stored_twice']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
