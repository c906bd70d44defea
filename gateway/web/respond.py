"""Responses of the pages as plain values, and how they reach WSGI."""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from gateway.web.errors import MethodNotAllowed, WebError

StartResponse = Callable[..., Any]
JSON_TYPE = "application/json"


@dataclass
class Response:
    """Status, headers and body of one answer; the body is already encoded."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def send(self, start_response: StartResponse, *, head: bool = False) -> Iterable[bytes]:
        phrase = HTTPStatus(self.status).phrase
        headers = [*self.headers, ("Content-Length", str(len(self.body)))]
        start_response(f"{self.status} {phrase}", headers)
        return [] if head else [self.body]


def json_response(value: Any, status: int = 200) -> Response:
    body = json.dumps(value, ensure_ascii=False).encode("utf-8")
    return Response(status, [("Content-Type", JSON_TYPE), ("Cache-Control", "no-store")], body)


def text_response(text: str, status: int = 200) -> Response:
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")]
    return Response(status, headers, text.encode("utf-8"))


def html_response(page: str, status: int = 200) -> Response:
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
    return Response(status, headers, page.encode("utf-8"))


def redirect(location: str, status: int = 303) -> Response:
    return Response(status, [("Location", location), ("Content-Type", "text/plain; charset=utf-8")],
                    f"See {location}\n".encode())


def error_response(error: WebError, *, browser: bool = False) -> Response:
    """JSON ``{"error", "status"}`` for programs; a short HTML page for a browser's form post."""
    if browser:
        text = html.escape(error.message)
        page = (f"<!doctype html><meta charset=utf-8><title>{error.status}</title>"
                f"<p>{text}</p><p><a href=\"./\">Back to the upload page</a></p>")
        response = html_response(page, error.status)
    else:
        response = json_response({"error": error.message, "status": error.status}, error.status)
    if isinstance(error, MethodNotAllowed):
        response.headers.append(("Allow", ", ".join(error.allow)))
    return response


def wants_html(environ: dict[str, Any]) -> bool:
    """True when the client (a browser) lists text/html among the types it accepts."""
    return "text/html" in environ.get("HTTP_ACCEPT", "").lower()
