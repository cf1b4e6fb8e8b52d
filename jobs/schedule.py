"""The one place where schedules become APScheduler triggers, and what they say of time.

A source's `every:` is an interval (jittered by a tenth, at most a minute, so that sources
sharing an interval spread out) or a cron expression read in UTC, the zone `status` and
the health checks count in; a digest's time is read in its topic's time zone.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from newswatch.jobs.config import Digest, Schedule

MAX_JITTER_S = 60
#: Retention runs nightly, spread over half an hour.
RETENTION = {"hour": 3, "minute": 30}
RETENTION_JITTER_S = 1800


def source_trigger(schedule: Schedule) -> BaseTrigger:
    """When a source is crawled."""
    if schedule.seconds:
        return IntervalTrigger(seconds=schedule.seconds,
                               jitter=min(schedule.seconds // 10, MAX_JITTER_S) or None)
    return CronTrigger.from_crontab(schedule.cron, timezone=timezone.utc)


def every(seconds: float) -> IntervalTrigger:
    """A housekeeping job's rhythm (the outbox drain, worker metrics)."""
    return IntervalTrigger(seconds=seconds)


def digest_trigger(digest: Digest) -> CronTrigger:
    """When a digest is sent, in its own time zone."""
    return CronTrigger(**digest.cron(), timezone=digest.timezone)


def retention_trigger() -> CronTrigger:
    return CronTrigger(**RETENTION, jitter=RETENTION_JITTER_S, timezone=timezone.utc)


def interval(schedule: Schedule, now: datetime) -> timedelta:
    """The time between two runs (for a cron schedule, the two after `now`)."""
    if schedule.seconds:
        return timedelta(seconds=schedule.seconds)
    trigger = source_trigger(schedule)
    first = trigger.get_next_fire_time(None, now)
    return trigger.get_next_fire_time(first, first + timedelta(seconds=1)) - first


def next_run(schedule: Schedule, last_run: datetime | None, now: datetime) -> datetime:
    """When the daemon crawls the source next (now, if it never ran or is overdue)."""
    if schedule.seconds:
        due = last_run + timedelta(seconds=schedule.seconds) if last_run else now
        return max(due, now)
    return source_trigger(schedule).get_next_fire_time(None, now)
