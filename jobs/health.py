"""Source health: when a source counts as broken, when it runs next, and the notices.

A source is broken when its last `FAILURES_BEFORE_BROKEN` runs all failed, or when it
has found nothing new for far longer than its rhythm (`SILENCE_FACTOR` times the larger
of its crawl interval and its usual gap between new articles, and at least
`SILENCE_MIN`). The channels named by `health:` hear about it once when it breaks and
once when it recovers.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Sequence

from newswatch.alerts.health import enqueue_notice
from newswatch.jobs.config import Schedule
from newswatch.jobs.schedule import interval
from newswatch.store.db import Store
from newswatch.store.models import SourceState

log = logging.getLogger(__name__)

FAILURES_BEFORE_BROKEN = 3
SILENCE_FACTOR = 4
SILENCE_MIN = timedelta(hours=6)


def assess(state: SourceState, every: timedelta, now: datetime) -> str | None:
    """Why the source is broken, or None if it is not."""
    if (state.failures_in_row or 0) >= FAILURES_BEFORE_BROKEN:
        return f"failed {state.failures_in_row} runs in a row (last error: {state.last_error})"
    if state.last_new_at is not None:
        rhythm = max(every, timedelta(seconds=state.usual_gap_s or 0))
        silent = now - state.last_new_at
        if silent > max(SILENCE_FACTOR * rhythm, SILENCE_MIN):
            return f"nothing new for {_human(silent)} (its rhythm: about every {_human(rhythm)})"
    return None


def check(store: Store, source: str, schedule: Schedule, channels: Sequence[str]) -> None:
    """Compare the source's state with its recorded health; on a change, record it and
    queue one notice per health channel, in one transaction."""
    now = datetime.now(timezone.utc)
    with store.session() as session:
        state = session.get(SourceState, source)
        if state is None:
            return
        reason = assess(state, interval(schedule, now), now)
        if reason is not None and state.broken_since is None:
            state.broken_since = now
            log.warning("source %s is broken: %s", source, reason)
            enqueue_notice(session, channels, f"[newswatch] source broken: {source}",
                           f"The source {source!r} looks broken: {reason}.")
        elif reason is None and state.broken_since is not None:
            down = now - state.broken_since
            state.broken_since = None
            log.info("source %s recovered", source)
            enqueue_notice(session, channels, f"[newswatch] source recovered: {source}",
                           f"The source {source!r} works again (it was broken for {_human(down)}).")


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}".replace(".0", "")
    return f"{seconds}s"
