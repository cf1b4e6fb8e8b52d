"""Notices about newswatch itself ("source broken", "source recovered"), sent to the
channels named by the config's `health:` key through the same outbox as alerts.

A notice is an outbox row without a story: it carries its own title and plain-text
body (`OutboxRow.notice`), written in the transaction that records the change it
reports, so it is delivered (with the outbox's retries) exactly as an alert is.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy.orm import Session

from newswatch.alerts.render import Message
from newswatch.store.models import OutboxRow, OutboxStatus

HEALTH_TOPIC = "newswatch:health"


def enqueue_notice(session: Session, channels: Iterable[str], title: str, body: str) -> None:
    for channel in channels:
        session.add(OutboxRow(
            topic=HEALTH_TOPIC, story_id=None, channel=channel, status=OutboxStatus.PENDING, attempts=0,
            delivered=[], notice={"title": title, "body": body},
        ))


def notice_message(notice: dict) -> Message:
    return Message(title=notice["title"], body=notice["body"], format="text")
