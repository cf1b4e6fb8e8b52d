"""Log output: human lines on a terminal, JSON lines in containers.

`--log-format text` (the default, or `$NEWSWATCH_LOG_FORMAT`) writes
`time LEVEL logger: message`; `--log-format json` writes one JSON object a line with
`time`, `level`, `logger`, `message` and the record's fields (`source`, `url`, `topic`,
`channel`, passed by the code with `extra=`), for a log collector to index. Secrets never
get this far: Apprise URLs are masked or redacted where they are logged
(`alerts.delivery`).
"""
from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

FORMATS = ("text", "json")
ENV_VAR = "NEWSWATCH_LOG_FORMAT"

# Loggers that are chatty at INFO; their warnings still show.
NOISY = ("scrapy", "twisted", "alembic", "apscheduler", "trafilatura", "htmldate",
         "charset_normalizer", "filelock", "urllib3", "apprise")


def setup_logging(verbose: bool = False, format: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if format == "json":
        handler.setFormatter(JsonFormatter(
            "{levelname}{name}{message}", style="{", timestamp="time",
            rename_fields={"levelname": "level", "name": "logger"},
            # Scrapy puts its Spider object on every record: not a field anyone reads.
            reserved_attrs=[*logging.LogRecord("", 0, "", 0, "", None, None).__dict__, "spider"],
            json_default=str,
        ))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
    # Scrapy's own line about an oversized download repeats the one newswatch logs.
    logging.getLogger("scrapy.core.downloader.handlers.http11").setLevel(logging.ERROR)
