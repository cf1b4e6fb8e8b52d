"""A channel's delivery rules as the config states them: quiet hours and the retry policy.

Plain values, with no Apprise and no Jinja2 behind them, so that reading a config loads
neither (the read-only commands never send). `delivery` and `notifier` apply them.
"""
from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class QuietHours:
    """A daily span of local wall-clock time, ``22:00-07:00``, that may wrap midnight."""

    start: dt.time
    end: dt.time

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text or "")
        if not match:
            raise ValueError(f"{text!r} is not a span such as 22:00-07:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            start, end = dt.time(h1, m1), dt.time(h2, m2)
        except ValueError:
            raise ValueError(f"{text!r}: hours are 00-23, minutes 00-59") from None
        if start == end:
            raise ValueError(f"{text!r}: start and end are the same time")
        return cls(start, end)

    def __contains__(self, moment: dt.time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end  # wraps midnight

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class RetryPolicy:
    """How failed deliveries are retried, and when the outbox gives up on a row."""

    base: timedelta = timedelta(seconds=30)
    max: timedelta = timedelta(hours=1)
    jitter: float = 0.5  # a delay is cut by up to this share, at random
    max_attempts: int = 25
    max_age: timedelta = timedelta(days=2)

    def delay(self, attempts: int, retry_after: float | None = None,
              rng: random.Random | None = None) -> timedelta:
        """The wait after the `attempts`-th failed attempt; never less than `retry_after`."""
        exponential = min(self.base * (2 ** max(attempts - 1, 0)), self.max)
        wait = exponential * (1 - self.jitter * (rng or random).random())
        if retry_after:
            wait = max(wait, timedelta(seconds=retry_after))
        return wait
