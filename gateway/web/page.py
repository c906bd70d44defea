"""The upload page (``GET /_/``) and its static files, served from ``gateway/web/static``."""

from __future__ import annotations

import html
from importlib.resources import files
from typing import Any

from gateway.web import api
from gateway.web.contract import Context
from gateway.web.errors import NotFound
from gateway.web.respond import Response, html_response

# The page lists this many uploads itself, so it is useful without JavaScript too.
PAGE_ROWS = 50
STATIC_TYPES = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
COLUMNS = ("id", "path", "size", "state", "lines", "converter", "error", "received_at")


def render_page(context: Context) -> Response:
    """The form and the newest uploads, rendered on the server."""
    template = _static("index.html").decode("utf-8")
    uploads = api.list_uploads(context, f"limit={PAGE_ROWS}")["uploads"]
    rows = "\n".join(_row(upload) for upload in uploads)
    return html_response(template.replace("<!--rows-->", rows))


def static_file(name: str) -> Response:
    content_type = STATIC_TYPES.get(name)
    if content_type is None:
        raise NotFound(f"no static file {name!r}")
    return Response(200, [("Content-Type", content_type), ("Cache-Control", "no-cache")], _static(name))


def _static(name: str) -> bytes:
    return (files("gateway.web") / "static" / name).read_bytes()


def _row(upload: dict[str, Any]) -> str:
    cells = "".join(f"<td>{html.escape(_cell(upload[column]))}</td>" for column in COLUMNS)
    return f'<tr class="state-{html.escape(str(upload["state"]))}">{cells}</tr>'


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
