"""Who may use the web app: the holder of the configured token.

- API calls: `Authorization: Bearer TOKEN`, or the session cookie of a logged-in browser
  (a POST then also needs the session's CSRF token in `X-CSRF-Token`).
- Pages: the session cookie, set by the login form (a signed, HttpOnly, SameSite=Strict
  cookie: Starlette's `SessionMiddleware`); without it a page redirects to the login form.
- Feeds: `?token=TOKEN` too, since feed readers cannot send headers.
- Every form that changes something carries the session's CSRF token, checked on POST.

Tokens are compared in constant time. With no token configured (allowed on a loopback
address only, see jobs/config.py) every request is let in; forms still carry CSRF tokens.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import HTTPException, Request

SESSION_COOKIE = "newswatch_session"
SESSION_DAYS = 14
CSRF_HEADER = "X-CSRF-Token"


class LoginRequired(Exception):
    """A page asked for without a session: answered by a redirect to the login form."""

    def __init__(self, path: str):
        self.path = path


class Access:
    def __init__(self, token: str | None):
        self._token = token.encode() if token else None

    @property
    def open(self) -> bool:
        """No token configured: everyone on the (loopback) address is let in."""
        return self._token is None

    def session_key(self) -> str:
        """The key that signs session cookies: derived from the token, so sessions outlive
        a restart and end when the token changes (random when there is no token)."""
        if self._token is None:
            return secrets.token_hex(32)
        return hmac.new(self._token, b"newswatch web session", hashlib.sha256).hexdigest()

    def matches(self, given: str | None) -> bool:
        if self._token is None:
            return True
        return given is not None and hmac.compare_digest(given.encode(), self._token)

    def bearer(self, request: Request) -> bool:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and self.matches(value.strip())

    def logged_in(self, request: Request) -> bool:
        return self.open or request.session.get("auth") is True

    def log_in(self, request: Request, token: str) -> bool:
        if not self.matches(token):
            return False
        request.session.clear()  # a fresh session (and CSRF token) on every login
        request.session["auth"] = True
        return True

    # --- FastAPI dependencies --------------------------------------------------------

    def api(self, request: Request) -> None:
        """An API call: the bearer token, or a session (plus CSRF for a change)."""
        if self.bearer(request):
            return
        if not self.logged_in(request):
            raise HTTPException(401, "authentication required: Authorization: Bearer TOKEN",
                                headers={"WWW-Authenticate": "Bearer"})
        if request.method not in ("GET", "HEAD") and not self.open:
            if not csrf_ok(request, request.headers.get(CSRF_HEADER)):
                raise HTTPException(403, f"a session's POST needs its CSRF token in {CSRF_HEADER}")

    def feed(self, request: Request) -> None:
        """A feed: `?token=`, the bearer token, or a session."""
        if "token" in request.query_params and self.matches(request.query_params["token"]):
            return
        if self.bearer(request) or self.logged_in(request):
            return
        raise HTTPException(401, "authentication required: add ?token=TOKEN to the feed's URL",
                            headers={"WWW-Authenticate": "Bearer"})

    def page(self, request: Request) -> None:
        if not (self.logged_in(request) or self.bearer(request)):
            raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    if "csrf" not in request.session:
        request.session["csrf"] = secrets.token_urlsafe(32)
    return request.session["csrf"]


def csrf_ok(request: Request, given: str | None) -> bool:
    expected = request.session.get("csrf")
    return bool(expected and given) and hmac.compare_digest(given.encode(), expected.encode())


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this site only (never another host)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"
