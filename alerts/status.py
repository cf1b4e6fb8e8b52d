"""What `newswatch status` and the web app's sources and alerts pages report: each
configured source's last run and health, and the outbox by status.

Read-only: nothing here changes the store. The caller passes the configured sources
(objects with `.name`, `.kind`, `.enabled`) and how to tell when each runs next (the
daemon's schedules: `newswatch.jobs.schedule.next_run`), so this module needs nothing of
the config's or the scheduler's own code.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Callable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newswatch.store.models import OutboxRow, OutboxStatus, SourceState

#: When a source runs next, from its name and its last run (None: never ran).
NextRun = Callable[[str, "datetime | None"], datetime]


@dataclass(frozen=True)
class SourceStatus:
    name: str
    kind: str
    enabled: bool
    last_run: datetime | None
    duration_s: float | None
    new: int
    duplicate: int
    failed: int
    refused_private: int  # links refused because they lead to a private address
    refused_file: int  # links to local files, refused outside a `path:` source
    last_error: str | None
    failures_in_row: int
    broken_since: datetime | None
    next_run: datetime | None  # None for a disabled source


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    sent: int
    failing: int  # pending rows that failed at least once
    dead: int


@dataclass(frozen=True)
class DeadAlert:
    id: int
    topic: str
    channel: str
    attempts: int
    created_at: datetime
    last_error: str | None  # masked URLs only: delivery never records a URL in clear


def sources_status(session: Session, sources: Sequence[Any], next_run: NextRun) -> list[SourceStatus]:
    """Each configured source, in config order, with its last run and health."""
    states = {s.name: s for s in session.scalars(select(SourceState))}
    out = []
    for source in sources:
        state = states.get(source.name)
        last_run = state.last_run_at if state else None
        out.append(SourceStatus(
            name=source.name,
            kind=source.kind,
            enabled=source.enabled,
            last_run=last_run,
            duration_s=round(state.last_duration_s, 2) if state and state.last_duration_s else None,
            new=state.new_count if state else 0,
            duplicate=state.duplicate_count if state else 0,
            failed=state.failed_count if state else 0,
            refused_private=state.refused_private_count if state else 0,
            refused_file=state.refused_file_count if state else 0,
            last_error=state.last_error if state else None,
            failures_in_row=state.failures_in_row if state else 0,
            broken_since=state.broken_since if state else None,
            next_run=next_run(source.name, last_run) if source.enabled else None,
        ))
    return out


def outbox_counts(session: Session) -> OutboxCounts:
    by_status = dict(session.execute(
        select(OutboxRow.status, func.count()).group_by(OutboxRow.status)).all())
    failing = session.scalar(select(func.count()).select_from(OutboxRow).where(
        OutboxRow.status == OutboxStatus.PENDING, OutboxRow.attempts > 0))
    return OutboxCounts(by_status.get(OutboxStatus.PENDING, 0), by_status.get(OutboxStatus.SENT, 0),
                        failing, by_status.get(OutboxStatus.DEAD, 0))


def dead_alerts(session: Session) -> list[DeadAlert]:
    rows = session.scalars(
        select(OutboxRow).where(OutboxRow.status == OutboxStatus.DEAD).order_by(OutboxRow.id))
    return [DeadAlert(r.id, r.topic, r.channel, r.attempts, r.created_at, r.last_error) for r in rows]


def as_json(record: Any) -> dict[str, Any]:
    """A status dataclass as JSON-ready values (times in ISO 8601)."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(record).items()}
