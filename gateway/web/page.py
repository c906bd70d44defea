"""The upload page (``GET /_/``) and its static files, served from ``gateway/web/static``.

The page is rendered with the newest uploads (``?name=`` filters them), so it works without
JavaScript; ``static/app.js`` then keeps it current through the JSON API.
"""

from __future__ import annotations

import html
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode

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


def render_page(context: Context, query_string: str) -> Response:
    """The forms and the newest uploads whose name holds ``name``, rendered on the server."""
    template = _static("index.html").decode("utf-8")
    name = api.query_params(query_string).get("name", "")
    uploads = api.list_uploads(context, urlencode({"limit": PAGE_ROWS, "name": name}))["uploads"]
    rows = "\n".join(_row(upload) for upload in uploads)
    return html_response(template.replace("<!--name-->", html.escape(name)).replace("<!--rows-->", rows))


def static_file(name: str) -> Response:
    content_type = STATIC_TYPES.get(name)
    if content_type is None:
        raise NotFound(f"no static file {name!r}")
    return Response(200, [("Content-Type", content_type), ("Cache-Control", "no-cache")], _static(name))


def _static(name: str) -> bytes:
    return (files("gateway.web") / "static" / name).read_bytes()


def _row(upload: dict[str, Any]) -> str:
    cells = "".join(f"<td>{html.escape(_cell(upload[column]))}</td>" for column in COLUMNS)
    text = f'<a href="api/uploads/{int(upload["id"])}/text">text</a>' if upload["state"] == "processed" else ""
    return f'<tr class="state-{html.escape(str(upload["state"]))}">{cells}<td>{text}</td></tr>'


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
