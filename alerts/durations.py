"""Durations as newswatch writes them (`30s`, `15m`, `2h`, `7d`): in the config, on the
command line and in the web app's `?since=`. Here, below both `jobs` and `web`, so that
each reads them the same way."""
from __future__ import annotations

import re
from datetime import timedelta

INTERVAL = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

#: The longest duration anything takes (a schedule, a retention, a max_age): ten years.
MAX_DURATION = timedelta(days=3660)


def parse_duration(value: str) -> timedelta:
    """`30s`, `15m`, `2h`, `7d` as a timedelta, at most `MAX_DURATION`; ValueError
    otherwise."""
    interval = INTERVAL.match(value)
    if not interval:
        raise ValueError(f"{value!r} is not a duration such as 30s, 15m, 2h or 7d")
    seconds = int(interval.group(1)) * _UNIT_SECONDS[interval.group(2)]
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{value!r} is longer than {MAX_DURATION.days}d")
    return timedelta(seconds=seconds)
