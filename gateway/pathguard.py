"""``PathGuard``: refuses request paths and Destinations that cannot name a file inside the share.

It wraps the whole WsgiDAV application, because WsgiDAV itself fails on a path
that is not UTF-8 (an overlong ``%c0%ae`` drops the connection unanswered) and
answers a NUL byte with 500; here each gets a 400 with the reason.  It also
refuses the names of the gateway's own temporary files, which the start-up
sweep removes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from gateway.intake import TEMP_PREFIX

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]


def path_problem(raw: bytes) -> str | None:
    """Why the decoded path ``raw`` cannot name a file in the share, or None if it can."""
    try:
        path = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "the path is not valid UTF-8"
    if any(ord(char) < 0x20 or char == "\x7f" for char in path):
        return "the path contains control characters (NUL included)"
    if "\\" in path:
        return "the path contains a backslash"
    segments = path.split("/")
    if any(segment in (".", "..") for segment in segments):
        return "the path contains a . or .. segment"
    if any(segment.startswith(TEMP_PREFIX) for segment in segments):
        # The start-up sweep deletes these names: a file stored under one would be lost.
        return f"names beginning with {TEMP_PREFIX} are reserved for unfinished uploads"
    return None


def refuse(start_response: StartResponse, status: str, reason: str) -> Iterable[bytes]:
    body = f"{status}: {reason}\n".encode()
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"),
                            ("Content-Length", str(len(body)))])
    return [body]


class PathGuard:
    """The WSGI application in front of WsgiDAV; everything else it forwards unchanged."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:
        # The pages and the tests find the configuration as ``wsgi_app.config``.
        return getattr(self.app, name)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        reason = self.problem(environ)
        if reason is not None:
            log.info("%s %r refused: %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), reason)
            return refuse(start_response, "400 Bad Request", reason)
        return self.app(environ, start_response)  # type: ignore[no-any-return]

    @staticmethod
    def problem(environ: dict[str, Any]) -> str | None:
        # PEP 3333: PATH_INFO carries the (percent-decoded) bytes as latin-1 characters.
        reason = path_problem(environ.get("PATH_INFO", "").encode("latin-1", "replace"))
        destination = environ.get("HTTP_DESTINATION")
        if reason is None and destination:
            found = path_problem(unquote_to_bytes(urlsplit(destination).path))
            reason = None if found is None else f"Destination: {found}"
        return reason
