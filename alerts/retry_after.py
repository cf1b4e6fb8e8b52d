"""The HTTP ``Retry-After`` header, read the same way by the crawler and the notifier."""
from __future__ import annotations

import time
from email.utils import parsedate_to_datetime


def parse_retry_after(value: bytes | str | None, now: float | None = None,
                      limit: float = float("inf")) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date; a date
    in the past is 0), at most `limit`; None if absent or unreadable."""
    if not value:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if text.isdigit():
        return min(float(text), limit)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return min(max(0.0, when.timestamp() - (time.time() if now is None else now)), limit)
