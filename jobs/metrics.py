"""The Prometheus figures behind `/metrics` (served by the web app: web/app.py, on the
config's `web:` address and, alone with `/healthz`, on `metrics: {host, port}`).

Two kinds of figures:
- this process's work, counted as it happens: pages fetched, articles new / duplicate /
  failed, fetch errors by kind (an exception's class name, or `http_<status>`), each
  source's last successful run, alerts sent / failed, and the delivery latency (from the
  outbox row being written to the alert being accepted) as a histogram;
- the database's state, read at scrape time and so the same from every process: outbox
  rows by status, and matches per topic.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from newswatch.alerts.notifier import DrainResult
from newswatch.store.availability import DATABASE, REDIS, SERVERS, outage_of
from newswatch.store.db import Store
from newswatch.store.models import Match, OutboxRow, OutboxStatus

if TYPE_CHECKING:  # a role that does not crawl loads no Scrapy
    from newswatch.crawler.crawl import SourceRun

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)


class Metrics:
    def __init__(self, store: Store):
        self.registry = CollectorRegistry()
        r = self.registry
        self.pages_fetched = Counter(
            "newswatch_pages_fetched", "Responses downloaded (feeds, listings, articles)",
            ["source"], registry=r)
        self.articles = Counter(
            "newswatch_articles", "Articles by outcome: new, duplicate, failed (skipped)",
            ["source", "outcome"], registry=r)
        self.fetch_errors = Counter(
            "newswatch_fetch_errors", "Failed fetches by kind: exception class or http_<status>",
            ["source", "kind"], registry=r)
        self.last_success = Gauge(
            "newswatch_source_last_success_timestamp_seconds",
            "When the source's last run without a source error ended", ["source"], registry=r)
        self.alerts = Counter(
            "newswatch_alerts", "Alerts this process delivered (sent), will retry (failed) or gave up on (dead)",
            ["outcome"], registry=r)
        self.delivery_latency = Histogram(
            "newswatch_delivery_latency_seconds", "From an alert being queued to its delivery",
            buckets=LATENCY_BUCKETS, registry=r)
        r.register(_StoreCollector(store))

    def observe_run(self, run: SourceRun) -> None:
        self.observe_crawl(run.source, run.stats)
        self.observe_outcome(run)

    def observe_outcome(self, run: SourceRun) -> None:
        """A run's success, without its counts (a crawler worker counts them as they grow)."""
        if run.error is None:
            self.last_success.labels(run.source).set(time.time())

    def observe_crawl(self, source: str, stats: Mapping, before: Mapping | None = None) -> None:
        """Count a crawl's Scrapy `stats`; `before`: the same crawl's stats when last counted
        (a crawler worker's spiders stay open, so their stats are counted as they grow)."""
        from newswatch.crawler.pipelines import DUPLICATE, NEW
        from newswatch.crawler.spiders.base import FAILED

        before = before or {}

        def grown(key: str) -> int:
            return stats.get(key, 0) - before.get(key, 0)

        self.pages_fetched.labels(source).inc(grown("downloader/response_count"))
        for outcome, key in (("new", NEW), ("duplicate", DUPLICATE), ("failed", FAILED)):
            self.articles.labels(source, outcome).inc(grown(key))
        earlier = fetch_errors(before)
        for kind, count in fetch_errors(stats).items():
            if count > earlier.get(kind, 0):
                self.fetch_errors.labels(source, kind).inc(count - earlier.get(kind, 0))

    def observe_drain(self, result: DrainResult) -> None:
        self.alerts.labels(OutboxStatus.SENT).inc(result.sent)
        self.alerts.labels("failed").inc(result.failed)
        self.alerts.labels(OutboxStatus.DEAD).inc(result.dead)
        for latency in result.latencies_s:
            self.delivery_latency.observe(latency)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def fetch_errors(stats: dict) -> dict[str, int]:
    """Failed fetches in a run's Scrapy stats, by kind (retried attempts count too)."""
    kinds: dict[str, int] = {}
    for key, count in stats.items():
        prefix, _, name = key.rpartition("/")
        if prefix == "downloader/exception_type_count":
            kind = name.rsplit(".", 1)[-1]  # twisted.internet.error.DNSLookupError → DNSLookupError
        elif prefix == "downloader/response_status_count" and name.isdigit() and int(name) >= 400:
            kind = f"http_{name}"
        else:
            continue
        kinds[kind] = kinds.get(kind, 0) + count
    return kinds


class _StoreCollector:
    """Figures read from the database when Prometheus scrapes (none while the database
    is unreachable), and which servers this process finds unreachable."""

    def __init__(self, store: Store):
        self.store = store

    def collect(self):
        unreachable = GaugeMetricFamily(
            "newswatch_server_unreachable", "1 while this process finds the server unreachable",
            labels=["server"])
        down = SERVERS.down()
        for server in (DATABASE, REDIS):
            unreachable.add_metric([server], int(server in down))
        yield unreachable
        if DATABASE in down:
            return  # the database's figures are missing until it is back
        try:
            yield from self._stored()
        except SQLAlchemyError as exc:
            if outage_of(exc) is None:
                raise
            SERVERS.failed(DATABASE, exc)

    def _stored(self):
        outbox = GaugeMetricFamily("newswatch_outbox_rows", "Outbox rows by status", labels=["status"])
        matches = CounterMetricFamily("newswatch_matches", "Matches stored, per topic", labels=["topic"])
        with self.store.session() as session:
            counts = dict(session.execute(
                select(OutboxRow.status, func.count()).group_by(OutboxRow.status)).all())
            for status in sorted({*OutboxStatus, *counts}):
                outbox.add_metric([status], counts.get(status, 0))
            for topic, count in session.execute(
                    select(Match.topic, func.count()).group_by(Match.topic).order_by(Match.topic)):
                matches.add_metric([topic], count)
        return outbox, matches
