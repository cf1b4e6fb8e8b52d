"""Requests in the shared Redis queue as JSON, never pickles (scrapy-redis's default).

Anyone who can write to Redis can put an entry in a crawler worker's queue. With pickle,
that entry ran code in every worker. Here an entry is a JSON object of a request's plain
fields: no class is loaded from it (always a `scrapy.Request`), its callback and errback
are names from the spider's own `REQUEST_CALLBACKS`, its URL is http(s) (or `file:`,
which the download handler still confines to a path: source's folder). An entry that is
anything else raises `BadQueueEntry`; the queue drops it with a log line.

Also a scrapy-redis serializer (`dumps`/`loads`, the `SCHEDULER_SERIALIZER` setting).
"""
from __future__ import annotations

import base64
import json
from typing import Any

from scrapy import Request, Spider


class BadQueueEntry(ValueError):
    """A queue entry that is not a request newswatch queued."""


_SCHEMES = ("http://", "https://", "file://")
_METHODS = {"GET", "HEAD"}
_JSON = (str, int, float, bool, type(None))


def dumps(obj: dict) -> bytes:
    """A request's dict form (`Request.to_dict`) as JSON."""
    plain = {
        **obj,
        "headers": {_text(k): [_text(v) for v in vs] for k, vs in obj.get("headers", {}).items()},
        "body": base64.b64encode(obj.get("body") or b"").decode("ascii"),
    }
    return json.dumps(plain, separators=(",", ":")).encode("utf-8")


def loads(data: bytes) -> dict:
    try:
        obj = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadQueueEntry(f"not JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise BadQueueEntry("not a JSON object")
    return obj


def encode(request: Request, spider: Spider) -> bytes:
    return dumps(request.to_dict(spider=spider))


def decode(data: bytes, spider: Spider) -> Request:
    """The request `data` holds, for `spider`; `BadQueueEntry` if it is not one."""
    obj = loads(data)
    url = obj.get("url")
    if not isinstance(url, str) or not url.startswith(_SCHEMES):
        raise BadQueueEntry(f"not an http(s) URL: {url!r:.100}")
    if obj.get("method", "GET") not in _METHODS:
        raise BadQueueEntry(f"method {obj.get('method')!r:.20} is not one newswatch uses")
    callbacks = {}
    for key in ("callback", "errback"):
        name = obj.get(key)
        if name is None:
            continue
        if name not in getattr(spider, "REQUEST_CALLBACKS", ()):
            raise BadQueueEntry(f"{key} {name!r:.60} is not one of the spider's")
        callbacks[key] = getattr(spider, name)
    headers = obj.get("headers") or {}
    if not (isinstance(headers, dict) and all(
            isinstance(vs, list) and all(isinstance(v, str) for v in vs) for vs in headers.values())):
        raise BadQueueEntry("headers are not a mapping of names to lists of strings")
    try:
        body = base64.b64decode(obj.get("body") or "", validate=True)
    except (TypeError, ValueError):
        raise BadQueueEntry("the body is not base64") from None
    meta, cb_kwargs = obj.get("meta") or {}, obj.get("cb_kwargs") or {}
    if not (isinstance(meta, dict) and isinstance(cb_kwargs, dict) and _plain(meta) and _plain(cb_kwargs)):
        raise BadQueueEntry("meta or cb_kwargs is not a plain JSON object")
    priority = obj.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise BadQueueEntry("priority is not an integer")
    return Request(
        url, method=obj.get("method", "GET"), headers={k: [v.encode("latin-1") for v in vs]
                                                       for k, vs in headers.items()},
        body=body, meta=meta, cb_kwargs=cb_kwargs, priority=priority,
        dont_filter=obj.get("dont_filter") is True,
        flags=[f for f in obj.get("flags") or [] if isinstance(f, str)], **callbacks,
    )


def _text(value: bytes | str) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _plain(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(map(_plain, value))
    return isinstance(value, _JSON)
