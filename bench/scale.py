"""Benchmark: crawler workers scaling out on PostgreSQL + Redis.

Workload: a local news site (tests/bigsite.py) of 2,000 distinct articles behind one RSS
feed, served by a threaded HTTP server in this process. For 1, then 2 crawler workers
(`newswatch run --role crawler`, real processes, started and idle before the clock
starts), on a fresh PostgreSQL database and an emptied Redis database each time: the
source is marked due (as the scheduler does), and the clock runs until every article is
stored. The baseline is the 1-worker run, measured in the same run.

Figures: `pages_s_1`, `pages_s_2` (articles stored per second), `scaling`
(pages_s_2 ÷ pages_s_1; on 2 free cores expect ≥ 1.6) and `stored_twice` (URLs stored
more than once over both runs; must be 0). The last line printed is one JSON object of
them. Needs PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379 (same as the tests);
`python bench/scale.py [ARTICLES]`.
"""
from __future__ import annotations

import json
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
sys.path.insert(0, str(REPO / "tests"))

from bigsite import big_site  # noqa: E402
from newswatch.crawler.distributed import mark_due  # noqa: E402
from newswatch.crawler.sources import Source  # noqa: E402
from newswatch.store.db import open_store  # noqa: E402
from newswatch.store.models import Article  # noqa: E402

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/14"
TIMEOUT_S = 300


def crawl_with(workers: int, feed_url: str, articles: int, admin, workdir: Path) -> tuple[float, int]:
    """(articles stored per second, URLs stored twice) for one run with `workers`."""
    database = f"nw_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    url = f"{POSTGRES}/{database}"
    store = open_store(url)
    server = redis.Redis.from_url(REDIS)
    server.flushdb()
    source = Source("bignews", "feed", feed_url)
    config = workdir / f"w{workers}.yaml"
    config.write_text(yaml.safe_dump({
        "database": url, "redis": REDIS,
        "sources": [{"name": source.name, "feed": feed_url, "every": "1d"}],
    }))
    logs = [workdir / f"w{workers}-{i}.log" for i in range(workers)]
    processes = [
        subprocess.Popen([sys.executable, "-m", "newswatch.jobs.cli", "--config", str(config),
                          "run", "--role", "crawler"], cwd=workdir, stdout=subprocess.DEVNULL,
                         stderr=log.open("w"))
        for log in logs
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
        started = time.monotonic()
        mark_due(server, source)
        stored = select(func.count()).select_from(Article)
        while count(stored) < articles:
            if time.monotonic() - started > TIMEOUT_S:
                raise SystemExit(f"{workers} workers stored {count(stored)} of {articles} in {TIMEOUT_S}s")
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        twice = count(select(func.count()).select_from(
            select(Article.url).group_by(Article.url).having(func.count() > 1).subquery()))
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        store.close()
        server.flushdb()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    return articles / elapsed, twice


def main() -> None:
    articles = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    site, _ = big_site(articles)
    admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            pages_s_1, twice_1 = crawl_with(1, site.feed_url, articles, admin, Path(tmp))
            print(f"1 crawler worker:  {articles} articles at {pages_s_1:.1f} pages/s")
            pages_s_2, twice_2 = crawl_with(2, site.feed_url, articles, admin, Path(tmp))
            print(f"2 crawler workers: {articles} articles at {pages_s_2:.1f} pages/s")
    finally:
        site.stop()
        admin.dispose()
    figures = {
        "articles": articles,
        "pages_s_1": round(pages_s_1, 2),
        "pages_s_2": round(pages_s_2, 2),
        "scaling": round(pages_s_2 / pages_s_1, 2),
        "stored_twice": twice_1 + twice_2,
    }
    print(f"scaling (2 workers / 1 worker): {figures['scaling']:.2f}; URLs stored twice: {figures['stored_twice']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
