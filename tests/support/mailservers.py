"""Real local receivers for delivery tests: an SMTP server and a webhook endpoint.

Both listen on 127.0.0.1 only, on a port fixed when the object is built, so a test
can stop a receiver (to play "the channel is down") and start it again on the SAME
port, the way a real server comes back after an outage. Nothing here reaches the
internet.

A test module imports the fixtures by name (``from mailservers import smtp_server,
webhook_server, wait_for``; pytest puts ``tests/`` on sys.path) and synchronises on what
a receiver got with `wait_for`, never with bare sleeps.
"""
from __future__ import annotations

import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"

# aiosmtpd logs every SMTP line and connection event (DEBUG, INFO) from its own thread,
# which can outlive a test's log capture ("--- Logging error ---" in the output): its
# conversation is not ours to log, its warnings are.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    The port is released before it is returned; the receivers bind with address reuse,
    so the small window until they bind again is the only race (acceptable in tests).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll `predicate` until it returns something truthy, and return that value.

    Raises AssertionError when `timeout` seconds pass first, so a test fails with a
    clear message instead of hanging or racing a fixed sleep.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout}s: {predicate!r}")
        time.sleep(interval)


# --------------------------------------------------------------------------- SMTP


class _CollectingHandler:
    """aiosmtpd handler that parses every accepted message into an EmailMessage."""

    def __init__(self, catcher: SMTPCatcher) -> None:
        self._catcher = catcher

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd hook name)
        message = message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self._catcher._record(message, list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


class SMTPCatcher:
    """An aiosmtpd server on 127.0.0.1:`port` that keeps every message it accepts.

    No TLS, no AUTH: it accepts any sender and recipient. `start()` and `stop()` may be
    called any number of times; each start binds the same port again (aiosmtpd closes
    a Controller's event loop on stop, so every start builds a fresh Controller).
    """

    def __init__(self, port: int | None = None) -> None:
        self.host = HOST
        self.port = port if port is not None else free_port()
        self._lock = threading.Lock()
        self._messages: list[EmailMessage] = []
        self._recipients: list[list[str]] = []
        self._controller: Controller | None = None

    # -- lifecycle
    def start(self) -> SMTPCatcher:
        """Listen (again) on the fixed port; a no-op when already running."""
        if self._controller is None:
            controller = Controller(_CollectingHandler(self), hostname=self.host, port=self.port)
            controller.start()  # returns once the server answers a probe connection
            self._controller = controller
        return self

    def stop(self) -> None:
        """Stop listening; connections are refused until the next `start()`."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    @property
    def running(self) -> bool:
        return self._controller is not None

    # -- what was received
    def _record(self, message: EmailMessage, rcpt_tos: list[str]) -> None:
        with self._lock:
            self._messages.append(message)
            self._recipients.append(rcpt_tos)

    @property
    def messages(self) -> list[EmailMessage]:
        """A snapshot of the messages accepted so far, oldest first."""
        with self._lock:
            return list(self._messages)

    @property
    def recipients(self) -> list[list[str]]:
        """The envelope recipients of each message in `messages`, same order."""
        with self._lock:
            return [list(r) for r in self._recipients]

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._recipients.clear()

    # -- how Apprise reaches it
    def apprise_url(self, to: str = "desk@example.com", sender: str = "newswatch@example.com") -> str:
        """The Apprise URL that delivers to this server: plain SMTP, no TLS, no login.

        `mailto://` (not `mailtos://`) with no user:password means Apprise neither
        starts TLS nor authenticates; `mode=insecure` says so explicitly, `from=` is
        needed because Apprise cannot derive a sender address from an IP host, and
        `smtp=` pins the server so Apprise does not try its provider templates.
        """
        return (
            f"mailto://{self.host}:{self.port}"
            f"?smtp={self.host}&mode=insecure"
            f"&from={quote(sender, safe='@')}&to={quote(to, safe='@,')}"
        )

    def __enter__(self) -> SMTPCatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- webhook

Response = tuple[int, dict[str, str]]


class _WebhookHandler(BaseHTTPRequestHandler):
    server: _WebhookHTTPServer  # type: ignore[assignment]

    def do_POST(self) -> None:  # noqa: N802 (http.server hook name)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = raw  # kept as bytes so a test can see what arrived
        catcher = self.server.catcher
        status, headers = catcher._next_response()
        # Record before answering, so a client that saw the response can rely on
        # the post being visible in `posts`.
        catcher._record(self.path, dict(self.headers.items()), body, status)
        if catcher.delay:
            time.sleep(catcher.delay)
        payload = catcher.reply_body if 200 <= status < 300 else json.dumps({"error": status}).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:  # noqa: N802 (http.server hook name)
        # Not recorded: `WebhookCatcher.barrier()` uses it to wait for earlier requests.
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        # http.server writes every request to stderr; tests read `posts` instead.
        pass


class _WebhookHTTPServer(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, address: tuple[str, int], catcher: WebhookCatcher) -> None:
        self.catcher = catcher
        super().__init__(address, _WebhookHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client killed mid-request (the kill -9 test) is not the server's error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _SequentialWebhookHTTPServer(_WebhookHTTPServer):
    # One request at a time, in the order the connections arrived.
    def process_request(self, request: Any, client_address: Any) -> None:
        HTTPServer.process_request(self, request, client_address)


class WebhookCatcher:
    """An HTTP server on 127.0.0.1:`port` that records every POST.

    With ``sequential=True`` it handles one connection at a time, in arrival order, so
    `barrier()` returns only once every request that reached it before has been
    recorded (the kill -9 test: posts of a killed client must not arrive "late").

    `posts` holds (path, headers, parsed JSON body) per request; `delay` slows each
    answer down. `responses` is a
    queue of (status, headers) consumed one per request, in order; once it is empty
    every request gets 200 — e.g. ``[(500, {}), (429, {"Retry-After": "1"})]`` then
    success. `reply_body` is what a 2xx answer carries (``b"{}"``; Slack's webhook API
    answers ``b"ok"``). `start()` / `stop()` may be called repeatedly; the port never
    changes.
    """

    def __init__(self, port: int | None = None, sequential: bool = False) -> None:
        self.host = HOST
        self.port = port if port is not None else free_port()
        self.sequential = sequential
        self._lock = threading.Lock()
        self._posts: list[tuple[str, dict[str, str], Any]] = []
        self._statuses: list[int] = []
        self.responses: list[Response] = []
        self.reply_body: bytes = b"{}"
        self.delay = 0.0  # seconds each answer waits (a slow service), after the post is recorded
        self._server: _WebhookHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> WebhookCatcher:
        """Listen (again) on the fixed port; a no-op when already running."""
        if self._server is None:
            server_class = _SequentialWebhookHTTPServer if self.sequential else _WebhookHTTPServer
            server = server_class((self.host, self.port), self)
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05},
                name=f"webhook-{self.port}", daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop listening and close the socket; requests are refused until `start()`."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    @property
    def running(self) -> bool:
        return self._server is not None

    def _next_response(self) -> Response:
        with self._lock:
            if self.responses:
                status, headers = self.responses.pop(0)
                return status, dict(headers)
        return 200, {}

    def _record(self, path: str, headers: dict[str, str], body: Any, status: int) -> None:
        with self._lock:
            self._posts.append((path, headers, body))
            self._statuses.append(status)

    @property
    def posts(self) -> list[tuple[str, dict[str, str], Any]]:
        """A snapshot of the requests received so far, oldest first."""
        with self._lock:
            return list(self._posts)

    @property
    def statuses(self) -> list[int]:
        """The status answered to each request in `posts`, same order."""
        with self._lock:
            return list(self._statuses)

    def clear(self) -> None:
        with self._lock:
            self._posts.clear()
            self._statuses.clear()

    def barrier(self, timeout: float = 10.0) -> None:
        """Return once a request made now has been answered: on a sequential server,
        every connection that arrived earlier has been handled and recorded by then."""
        with urllib.request.urlopen(f"http://{self.host}:{self.port}/barrier", timeout=timeout):
            pass

    def apprise_url(self, path: str = "/hook") -> str:
        """The Apprise `json://` URL that POSTs to `path` on this server."""
        if not path.startswith("/"):
            path = "/" + path
        return f"json://{self.host}:{self.port}{path}"

    def __enter__(self) -> WebhookCatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def smtp_server() -> Iterator[SMTPCatcher]:
    """A running SMTPCatcher, stopped after the test."""
    catcher = SMTPCatcher()
    catcher.start()
    try:
        yield catcher
    finally:
        catcher.stop()


@pytest.fixture
def webhook_server() -> Iterator[WebhookCatcher]:
    """A running WebhookCatcher, stopped after the test."""
    catcher = WebhookCatcher()
    catcher.start()
    try:
        yield catcher
    finally:
        catcher.stop()
