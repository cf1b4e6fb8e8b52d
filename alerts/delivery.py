"""Apprise delivery: channels of Apprise URLs, one send per URL, secrets kept out of logs.

A channel (DESIGN.md, "Configuration") is a list of Apprise URLs. `build_channel` checks
every URL once, at config load, and turns it into an `Endpoint`: a stable key (for the
outbox's per-URL bookkeeping), the URL's masked form for logs and errors, and the body
format the service takes best, so the outbox can render each message in that format.
`send` makes one Apprise notification to one endpoint and reports success as a bool.

Apprise URLs hold secrets (tokens, passwords). This module never logs a URL in clear,
and because Apprise's own logging is not airtight (an unparsable URL is logged verbatim
at ERROR; DEBUG lines carry request URLs; `url(privacy=True)` leaves custom HTTP header
values such as ``?+X-Api-Key=...`` in clear), it installs a filter on the ``apprise``
and ``urllib3.connectionpool`` loggers that rewrites any known secret to ``****`` before
a handler sees the record. The secrets of every endpoint built here are known to it.

Apprise reports a send as success or failure only: a plugin's HTTP status and headers
never reach the caller (``NotifyBase.send`` returns a bool; the result object carries
log lines). To honour a service's ``429 Too Many Requests`` + ``Retry-After``, `deliver`
observes the HTTP responses of the ``requests`` calls made for it, through a
``requests`` response hook that every Session gets; the hook records into a context
variable, which Apprise copies into its worker threads, so it sees only the responses of
the send in progress and costs nothing elsewhere.

`register_console()` adds the built-in ``console://`` scheme (DESIGN.md, "Configuration")
through Apprise's custom-notification decorator; `build_channel`, `mask_url` and `send`
call it themselves, so a config can use ``console://`` before the daemon starts.

Apprise imports all of its plugins (and the libraries they use) the first time its
registry is used. Here the registry starts empty and gets the plugin of each URL's scheme
as the URL is loaded, found in an index of every scheme that a child interpreter makes
once; a URL whose scheme names no plugin (a service's own https:// address, which Apprise
recognises by asking every plugin, or an unknown scheme) loads them all, as Apprise would.
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import hashlib
import importlib
import json
import logging
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from html import escape as html_escape
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import requests.sessions

from apprise import Apprise, AppriseAsset, NotifyFormat
from apprise.decorators import notify as apprise_notify
from apprise.manager_plugins import NotificationManager

from newswatch.alerts import retry_after
from newswatch.alerts.render import FORMATS, MAX_BODY_CHARS, TITLE_MAX_CHARS, Message, markdown_escape
from newswatch.alerts.rules import QuietHours

__all__ = [
    "CONSOLE_SCHEME",
    "Channel",
    "ChannelURLError",
    "Endpoint",
    "Outcome",
    "QuietHours",
    "build_channel",
    "deliver",
    "endpoint_for",
    "mask_url",
    "parse_retry_after",
    "register_console",
    "send",
    "tagged_urls",
]

log = logging.getLogger(__name__)

CONSOLE_SCHEME = "console"

#: Shown instead of anything secret.
MASK = "****"

# Apprise's plugin registry is a process-wide singleton.
_PLUGINS = NotificationManager()

# One asset for every send: Apprise's CWE-312 masking on, no :emoji: or "\n" rewriting
# of article text, newswatch named as the sending application.
_ASSET = AppriseAsset(
    app_id="newswatch",
    app_desc="newswatch news alerts",
    secure_logging=True,
    interpret_emojis=False,
    interpret_escapes=False,
)


class ChannelURLError(ValueError):
    """An Apprise URL that Apprise cannot load; str() shows only the masked URL."""

    def __init__(self, message: str, *, masked: str, index: int | None = None,
                 channel: str | None = None) -> None:
        super().__init__(message)
        self.masked = masked
        self.index = index
        self.channel = channel


@dataclass(frozen=True)
class Endpoint:
    """One Apprise URL of a channel. `url` holds secrets: never log it; log `masked`."""

    key: str  # stable id of the URL: first 16 hex digits of sha256(url)
    url: str
    masked: str
    format: str  # body format this endpoint takes best: "text" | "markdown" | "html"
    # The longest body the service takes (Apprise's body_maxlen, less the title where
    # the service blends it into the body, less room for Apprise's own conversion).
    max_chars: int = MAX_BODY_CHARS

    def __repr__(self) -> str:
        # The dataclass repr would print `url`; tracebacks and debuggers show reprs.
        return f"Endpoint(key={self.key!r}, masked={self.masked!r}, format={self.format!r})"


@dataclass(frozen=True)
class Channel:
    """A named list of endpoints, an alert goes to each of them; and its rules: at most
    `max_per_hour` messages an hour, none during `quiet` hours (local time in `timezone`)."""

    name: str
    endpoints: tuple[Endpoint, ...]
    max_per_hour: int | None = None
    quiet: QuietHours | None = None
    timezone: dt.tzinfo = dt.timezone.utc

    def is_quiet(self, now: dt.datetime) -> bool:
        return self.quiet is not None and now.astimezone(self.timezone).time() in self.quiet


# --------------------------------------------------------------------------- redaction


class _SecretFilter(logging.Filter):
    """Rewrites log records so that no registered secret string appears in them.

    Installed on third-party loggers (a logger's filters run before its handlers, so
    handlers, pytest's caplog and Apprise's own per-call log capture all see the
    redacted text). Secrets are registered permanently for built endpoints, and
    temporarily (reference-counted) while an unvetted URL is being parsed.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._permanent: set[str] = set()
        self._temporary: dict[str, int] = {}
        self._ordered: tuple[str, ...] = ()

    def _rebuild(self) -> None:
        # Longest first, so a secret containing a shorter one is replaced whole.
        self._ordered = tuple(sorted(self._permanent | self._temporary.keys(), key=len, reverse=True))

    def add(self, secrets: Iterable[str]) -> None:
        with self._lock:
            self._permanent.update(secrets)
            self._rebuild()

    @contextlib.contextmanager
    def temporarily(self, secrets: Iterable[str]) -> Iterator[None]:
        secrets = set(secrets)
        with self._lock:
            for s in secrets:
                self._temporary[s] = self._temporary.get(s, 0) + 1
            self._rebuild()
        try:
            yield
        finally:
            with self._lock:
                for s in secrets:
                    left = self._temporary[s] - 1
                    if left:
                        self._temporary[s] = left
                    else:
                        del self._temporary[s]
                self._rebuild()

    def redact(self, text: str) -> str:
        for secret in self._ordered:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._ordered:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the handler's problem, not ours
            return True
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


_REDACTOR = _SecretFilter()
# Apprise logs through the single "apprise" logger; urllib3 logs request paths (which
# hold webhook tokens for Slack, Discord, ...) at DEBUG.
for _name in ("apprise", "urllib3.connectionpool"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _SecretFilter) for f in _logger.filters):
        _logger.addFilter(_REDACTOR)

_SCHEME_RE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.\-]{0,31})://")
_TOKEN_SPLIT_RE = re.compile(r"[/\\:@?&=#,;\s]+")
_MIN_SECRET_LEN = 3


def _tokens(text: str) -> set[str]:
    found: set[str] = set()
    for form in (text, unquote(text)):
        found.update(t for t in _TOKEN_SPLIT_RE.split(form) if t)
    return found


def _all_parts(url: str) -> set[str]:
    """Everything in `url` that could be secret: used while Apprise parses an unknown URL."""
    scheme = _scheme(url)
    parts = {url, unquote(url)}
    parts.update(t for t in _tokens(url) if len(t) >= _MIN_SECRET_LEN and t.lower() != scheme)
    return {p for p in parts if p.strip()}


def _secret_parts(url: str, plugin: Any) -> set[str]:
    """The secrets of a loaded URL: what its privacy form hides.

    Compares Apprise's clear and privacy renderings of the same plugin (so option words
    such as ``mode=insecure`` are not mistaken for secrets), after our extra masking of
    header arguments. The whole URL, as written and as Apprise rewrites it, is included.
    """
    clear = plugin.url(privacy=False)
    masked = _privacy_url(plugin)
    shown = _tokens(masked)
    hidden = {t for t in _tokens(clear) if len(t) >= _MIN_SECRET_LEN and t not in shown}
    if not hidden and clear == masked:
        # Nothing secret (console://, an open webhook): nothing to redact.
        return set()
    parts = hidden | {url, unquote(url), clear, unquote(clear)}
    return {p for p in parts if p.strip()}


def _scheme(url: str) -> str | None:
    match = _SCHEME_RE.match(url)
    return match.group(1).lower() if match else None


def _fallback_mask(url: Any) -> str:
    scheme = _scheme(url) if isinstance(url, str) else None
    return f"{scheme}://{MASK}" if scheme else MASK


# Query arguments whose values Apprise's privacy form shows but which often carry
# credentials: "+Name=value" becomes an HTTP header (Authorization, X-Api-Key...) and
# "-name=value" a request parameter of json://, xml://, form:// and similar.
_HEADER_ARG_RE = re.compile(r"([?&](?:%2B|\+|-)[^=&#]*=)[^&#]*", re.IGNORECASE)


# Generic webhooks: their path is often the secret (json://hooks.example/h/T0K3N), and
# Apprise's privacy form shows it.
_WEBHOOK_SCHEMES = {"json", "jsons", "xml", "xmls", "form", "forms"}


def _privacy_url(plugin: Any) -> str:
    masked = _HEADER_ARG_RE.sub(lambda m: m.group(1) + MASK, plugin.url(privacy=True))
    parts = urlsplit(masked)
    if parts.scheme.lower() in _WEBHOOK_SCHEMES and parts.path.strip("/"):
        masked = urlunsplit(parts._replace(path="/" + MASK))
    return masked


# --------------------------------------------------------------------------- console://


def _console_notify(body: str, title: str, *args: Any, **kwargs: Any) -> bool:
    """Apprise custom notification: print the alert to standard output."""
    # Looked up on every call so that redirection (and pytest's capsys) is honoured.
    out = sys.stdout
    try:
        if title:
            out.write(title + "\n")
        if body:
            out.write(body if body.endswith("\n") else body + "\n")
        out.write("\n")
        out.flush()
    except (OSError, ValueError) as exc:  # closed or broken stdout
        log.warning("console:// could not write to standard output: %s", exc)
        return False
    return True


def register_console() -> None:
    """Make ``console://`` an Apprise URL that prints alerts to standard output.

    Idempotent and thread-safe. The plugin declares plain text, so Apprise converts an
    HTML or Markdown body to text before printing it.
    """
    with _plugins_lock:
        _start_registry()
        if CONSOLE_SCHEME not in _PLUGINS:
            _add_console()


def _add_console() -> None:
    apprise_notify(on=CONSOLE_SCHEME, name="newswatch console", body_format=NotifyFormat.TEXT)(_console_notify)
    if CONSOLE_SCHEME not in _PLUGINS:
        raise RuntimeError("Apprise refused to register the console:// scheme")


# --------------------------------------------------------------------------- plugins
# Only the plugins of the URLs this process loads (the module docstring says how).

_plugins_lock = threading.RLock()
_registry_started = False
_every_plugin = False  # loaded: a URL needed Apprise to try all of them
_index: dict[str, str] | None = None  # scheme -> "module:class" of Apprise's plugin

_INDEX_PROGRAM = """
import json
from apprise.plugins import N_MGR
print(json.dumps({s: N_MGR[s].__module__ + ":" + N_MGR[s].__qualname__ for s in N_MGR.schemas()}))
"""


def _start_registry() -> None:
    global _registry_started, _every_plugin
    if _registry_started:
        return
    _registry_started = True
    if _PLUGINS:  # something else in this process used Apprise first: all are loaded
        _every_plugin = True
        return
    # Loading the plugins of an empty folder makes the registry count as loaded.
    with tempfile.TemporaryDirectory() as empty:
        _PLUGINS.load_modules(path=empty, name="newswatch.no_plugins")


def _plugin_index() -> dict[str, str]:
    global _index
    if _index is None:
        done = subprocess.run([sys.executable, "-c", _INDEX_PROGRAM], capture_output=True, text=True,
                              timeout=120, check=False)
        if done.returncode != 0:
            log.warning("could not list Apprise's plugins (%s); loading all of them",
                        done.stderr.strip().splitlines()[-1:] or done.returncode)
            _index = {}
        else:
            _index = json.loads(done.stdout.strip().splitlines()[-1])
    return _index


def _load_plugin_for(url: str) -> None:
    """Make Apprise able to load `url`: its scheme's plugin, or, for a scheme no plugin
    has, every plugin (Apprise then asks each whether the URL is a service's own address,
    such as a Discord webhook's https:// one, or reports it unknown)."""
    global _every_plugin
    with _plugins_lock:
        _start_registry()
        scheme = _scheme(url)
        if _every_plugin or (scheme is not None and scheme in _PLUGINS):
            return
        target = _plugin_index().get(scheme) if scheme is not None else None
        if target is not None:
            module, name = target.split(":")
            try:
                plugin = getattr(importlib.import_module(module), name)
            except Exception:  # noqa: BLE001 — Apprise's own loading then says what is wrong
                log.debug("Apprise's %s plugin did not load alone", scheme, exc_info=True)
            else:
                _PLUGINS.add(plugin, schemas=[s for s, t in _plugin_index().items() if t == target])
                return
        _PLUGINS.unload_modules()  # as Apprise starts: its next use loads every plugin
        _PLUGINS.load_modules()
        _every_plugin = True
        _add_console()


# --------------------------------------------------------------------------- URLs


class _AppriseComplaints(logging.Handler):
    """Collects (already redacted) Apprise warnings of the current thread, as a reason."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # WARNING only: Apprise's ERROR lines here just repeat "could not load <URL>".
        if record.thread == self.thread and record.levelno == logging.WARNING:
            with contextlib.suppress(Exception):
                self.messages.append(" ".join(record.getMessage().split()))


@contextlib.contextmanager
def _apprise_complaints() -> Iterator[list[str]]:
    handler = _AppriseComplaints()
    logger = logging.getLogger("apprise")
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


def _load(url: str) -> tuple[Any | None, list[str]]:
    """Apprise's plugin for `url` (or None) and the warnings Apprise gave while loading it.

    Every part of the URL counts as secret while Apprise parses it: Apprise logs a URL
    it cannot parse verbatim.
    """
    register_console()
    _load_plugin_for(url)
    with _REDACTOR.temporarily(_all_parts(url)), _apprise_complaints() as complaints:
        try:
            plugin = Apprise.instantiate(url, asset=_ASSET)
        except Exception as exc:  # Apprise converts most errors to None; be sure
            complaints.append(type(exc).__name__)
            plugin = None
        reasons = [_REDACTOR.redact(c) for c in complaints]
    return plugin, reasons


def mask_url(url: str) -> str:
    """`url` in Apprise's privacy form (secrets shown as ``****`` or ``a...z``).

    Values of ``+header`` / ``-param`` arguments are masked as well. A URL Apprise
    cannot load gives ``scheme://****`` (``****`` when there is not even a scheme).
    """
    if not isinstance(url, str):
        return MASK
    plugin, _ = _load(url.strip())
    if plugin is None:
        return _fallback_mask(url)
    try:
        return _privacy_url(plugin)
    except Exception:
        return _fallback_mask(url)


def _format_of(plugin: Any) -> str:
    # resolve_format(None) is what Apprise itself would deliver when the caller states
    # no preference: a ?format= override, else the plugin's first declared format.
    resolved = plugin.resolve_format(None)
    value = getattr(resolved, "value", resolved)
    return value if value in FORMATS else "text"


#: Share of a plugin's body_maxlen that a rendered body may use: Apprise converts the
#: body to the service's dialect (Slack's "&" becomes "&amp;"), which can lengthen it.
BODY_ROOM = 0.8
#: The smallest limit a body is cut to, whatever a plugin declares (SMS plugins declare
#: 160; Apprise splits or truncates below this itself, by its ?overflow= setting).
MIN_BODY_CHARS = 1_000


def _max_chars(plugin: Any) -> int:
    limit = getattr(plugin, "body_maxlen", 0) or MAX_BODY_CHARS
    if getattr(plugin, "title_maxlen", 1) <= 0:
        limit -= TITLE_MAX_CHARS + 2  # the title is blended into the body
    return max(MIN_BODY_CHARS, min(MAX_BODY_CHARS, int(limit * BODY_ROOM)))


def _key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def endpoint_for(url: str) -> Endpoint:
    """The Endpoint for one Apprise URL; ChannelURLError if Apprise cannot load it."""
    if not isinstance(url, str) or not url.strip():
        raise ChannelURLError("empty Apprise URL", masked=MASK)
    url = url.strip()
    plugin, reasons = _load(url)
    if plugin is None:
        masked = _fallback_mask(url)
        scheme = _scheme(url)
        if scheme is None:
            reason = "not an Apprise URL (expected scheme://...)"
        elif scheme not in _PLUGINS:
            reason = f"unknown scheme {scheme!r}"
        else:
            reason = "Apprise cannot load it"
            if reasons:
                reason += " (" + "; ".join(dict.fromkeys(reasons)) + ")"
        raise ChannelURLError(f"{masked}: {reason}", masked=masked)
    masked = _privacy_url(plugin)
    # From now on the secrets of this URL are redacted from every Apprise log line.
    _REDACTOR.add(_secret_parts(url, plugin))
    return Endpoint(key=_key(url), url=url, masked=masked, format=_format_of(plugin),
                    max_chars=_max_chars(plugin))


def build_channel(name: str, urls: Sequence[str]) -> Channel:
    """The channel `name` with one Endpoint per URL, in order (exact duplicates dropped).

    Raises ChannelURLError naming the URL's index and its masked form when Apprise
    cannot load a URL, or when there are no URLs at all; the message never holds a
    secret.
    """
    if isinstance(urls, str) or not urls:
        raise ChannelURLError(f"channel {name!r}: no Apprise URLs", masked=MASK, channel=name)
    endpoints: list[Endpoint] = []
    seen: set[str] = set()
    for index, url in enumerate(urls):
        try:
            endpoint = endpoint_for(url)
        except ChannelURLError as exc:
            raise ChannelURLError(
                f"channel {name!r}, URL [{index}]: {exc}", masked=exc.masked, index=index, channel=name
            ) from None
        if endpoint.key in seen:
            # The same URL twice would deliver every alert twice to the same place.
            log.info("channel %r: URL [%d] %s is listed twice; using it once",
                     name, index, endpoint.masked)
            continue
        seen.add(endpoint.key)
        endpoints.append(endpoint)
    return Channel(name=name, endpoints=tuple(endpoints))


def tagged_urls(pool: Sequence[tuple[str, Sequence[str]]], tags: Sequence[Any]) -> list[str]:
    """The URLs of `pool` (``(url, tags)`` pairs) that Apprise selects for `tags`, in
    pool order. Apprise's tag logic: the entries of `tags` are alternatives (any of
    them), an entry that is itself a list needs all of its tags.

    Raises ChannelURLError (with the pool index) for a URL Apprise cannot load.
    """
    register_console()
    notifier = Apprise(asset=_ASSET)
    urls: dict[int, str] = {}
    for index, (url, url_tags) in enumerate(pool):
        _load_plugin_for(url)
        with _REDACTOR.temporarily(_all_parts(url)):
            try:
                plugin = Apprise.instantiate(url, asset=_ASSET, tag=list(url_tags))
            except Exception:  # Apprise converts most errors to None; be sure
                plugin = None
        if plugin is None:
            masked = _fallback_mask(url)
            raise ChannelURLError(f"{masked}: Apprise cannot load it", masked=masked, index=index)
        notifier.add(plugin)
        urls[id(plugin)] = url
    wanted = [tuple(t) if isinstance(t, (list, tuple)) else t for t in tags]
    return [urls[id(p)] for p in notifier.find(tag=wanted, match_always=False)]


# --------------------------------------------------------------------------- send


def _title_for(plugin: Any, message: Message) -> str:
    # Services without a title field (title_maxlen <= 0, e.g. Telegram) get the title
    # blended into the body, and Apprise converts it from the *body* format: a plain
    # title must be escaped for that format first, or "<script>" in a headline would
    # reach an HTML body as markup.
    if getattr(plugin, "title_maxlen", 1) > 0 or message.format == "text":
        return message.title
    if message.format == "html":
        return html_escape(message.title, quote=False)
    return markdown_escape(message.title)


@dataclass(frozen=True)
class Outcome:
    """What one send came to: accepted or not, why not, and how long the service asked
    us to wait (``Retry-After`` of a 429 or 503 answer), in seconds."""

    ok: bool
    reason: str = ""
    retry_after: float | None = None

    def __bool__(self) -> bool:
        return self.ok


# --------------------------------------------------------------------------- responses

# (status, Retry-After header) of every HTTP response received during the current
# `deliver`; None outside of one.
_responses: contextvars.ContextVar[list[tuple[int, str | None]] | None] = contextvars.ContextVar(
    "newswatch_http_responses", default=None)

#: A Retry-After longer than this is capped (a misconfigured service must not park an
#: alert for days; the outbox's maximum age decides when to give up).
RETRY_AFTER_MAX_S = 6 * 3600.0


def _observe_response(response: Any, *args: Any, **kwargs: Any) -> None:
    seen = _responses.get()
    if seen is not None:
        seen.append((response.status_code, response.headers.get("Retry-After")))


def _install_response_hook() -> None:
    """Give every new ``requests`` Session the `_observe_response` hook (idempotent).

    ``requests.request()``, which Apprise's plugins call, builds a Session per call
    with ``hooks=default_hooks()``; wrapping that function adds one response hook.
    """
    current = requests.sessions.default_hooks
    if getattr(current, "newswatch", False):
        return

    def default_hooks() -> dict[str, list[Any]]:
        hooks = current()
        hooks.setdefault("response", []).append(_observe_response)
        return hooks

    default_hooks.newswatch = True  # type: ignore[attr-defined]
    requests.sessions.default_hooks = default_hooks


_install_response_hook()


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a service's ``Retry-After`` header, at most RETRY_AFTER_MAX_S."""
    return retry_after.parse_retry_after(value, now, limit=RETRY_AFTER_MAX_S)


def _retry_after(responses: list[tuple[int, str | None]]) -> float | None:
    waits = [wait for status, header in responses
             if status in (429, 503) and (wait := parse_retry_after(header)) is not None]
    if waits:
        return max(waits)
    if any(status == 429 for status, _ in responses):
        return 0.0  # rate limited without a hint: the caller's backoff decides
    return None


# --------------------------------------------------------------------------- send


def deliver(endpoint: Endpoint, message: Message) -> Outcome:
    """Deliver `message` to this one endpoint; `ok` only when Apprise reports success.

    One Apprise notify, with ``body_format=message.format`` (Apprise converts to what
    the service takes). Never raises for a delivery failure: it returns a failed
    Outcome (with the service's Retry-After, if it sent one) and logs one warning naming
    the masked URL and Apprise's reason.
    """
    reason = ""
    ok = False
    responses: list[tuple[int, str | None]] = []
    plugin, complaints = _load(endpoint.url)
    if plugin is None:
        reason = "Apprise cannot load the URL" + (f" ({'; '.join(complaints)})" if complaints else "")
    else:
        try:
            # Normally registered by build_channel already; an Endpoint made some other
            # way gets the same protection for the duration of the send.
            secrets = _secret_parts(endpoint.url, plugin)
        except Exception:
            secrets = _all_parts(endpoint.url)
        token = _responses.set(responses)
        with _REDACTOR.temporarily(secrets):
            try:
                notifier = Apprise(asset=_ASSET)
                notifier.add(plugin)
                result = notifier.notify(
                    body=message.body,
                    title=_title_for(plugin, message),
                    body_format=message.format,
                )
                ok = bool(result)
                if not ok:
                    lines = [entry.message for entry in result.logs()
                             if entry.level in ("WARNING", "ERROR", "CRITICAL")]
                    reason = "; ".join(dict.fromkeys(" ".join(m.split()) for m in lines))
                    reason = reason or f"Apprise reported {getattr(result, 'status', 'failure')}"
            except Exception as exc:  # a plugin bug must not take the notifier down
                reason = f"{type(exc).__name__}: {exc}"
            finally:
                _responses.reset(token)
            reason = _REDACTOR.redact(reason)
    if ok:
        return Outcome(True)
    retry_after = _retry_after(responses)
    if retry_after:
        reason = f"{reason} (asked to retry after {retry_after:.0f}s)"
    log.warning("delivery to %s failed: %s", endpoint.masked or MASK, reason or "unknown error")
    return Outcome(False, reason or "unknown error", retry_after)


def send(endpoint: Endpoint, message: Message) -> bool:
    """`deliver`, as a bool."""
    return deliver(endpoint, message).ok
