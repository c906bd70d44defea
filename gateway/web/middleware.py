"""``WebPages``: the WsgiDAV middleware that serves everything under ``/_/``."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from wsgidav.mw.base_mw import BaseMiddleware  # type: ignore[import-untyped]

from gateway.web import api, metrics, page
from gateway.web.contract import Context
from gateway.web.errors import MethodNotAllowed, NotFound, WebError
from gateway.web.respond import (
    Response,
    StartResponse,
    error_response,
    json_response,
    redirect,
    text_response,
    wants_html,
)
from gateway.web.upload import handle_upload

log = logging.getLogger(__name__)

PREFIX = "/_/"
Handler = Callable[[Context, dict[str, Any], "re.Match[str]"], Response]

# Request headers only WebDAV clients send; their presence means "not a browser visit".
DAV_HEADERS = ("HTTP_DEPTH", "HTTP_TRANSLATE", "HTTP_IF", "HTTP_LOCK_TOKEN", "HTTP_DESTINATION",
               "HTTP_OVERWRITE", "HTTP_TIMEOUT")
DAV_AGENTS = ("microsoft-webdav-miniredir", "webdavfs", "microsoft office", "davfs2", "gvfs",
              "rclone", "cadaver", "libreoffice", "neon", "davx5", "webdav")

# (path pattern, ((method, handler), ...)); HEAD and OPTIONS are answered for every GET route.
ROUTES: tuple[tuple[re.Pattern[str], tuple[tuple[str, Handler], ...]], ...] = (
    (re.compile(r"/_/"), (("GET", lambda c, e, m: page.render_page(c, e.get("QUERY_STRING", ""))),)),
    (re.compile(r"/_/static/([^/]+)"), (("GET", lambda c, e, m: page.static_file(m[1])),)),
    (re.compile(r"/_/upload"), (("POST", lambda c, e, m: handle_upload(c, e)),)),
    (re.compile(r"/_/api/uploads/?"),
     (("GET", lambda c, e, m: json_response(api.list_uploads(c, e.get("QUERY_STRING", "")))),)),
    (re.compile(r"/_/api/search"),
     (("GET", lambda c, e, m: json_response(api.search_uploads(c, e.get("QUERY_STRING", "")))),)),
    (re.compile(r"/_/api/uploads/(\d{1,18})"),
     (("GET", lambda c, e, m: json_response(api.upload_detail(c, int(m[1])))),)),
    (re.compile(r"/_/api/uploads/(\d{1,18})/text"),
     (("GET", lambda c, e, m: text_response(api.upload_text(c, int(m[1])))),)),
    (re.compile(r"/_/metrics"), (("GET", lambda c, e, m: metrics.metrics_page(c)),)),
    (re.compile(r"/_/healthz"), (("GET", lambda c, e, m: metrics.healthz(c)),)),
)


class WebPages(BaseMiddleware):  # type: ignore[misc]
    """Serves the upload page, the form post and the JSON API; passes everything else on.

    Sits after ``HTTPAuthenticator`` (so the pages need the same login as the share) and
    before ``RequestResolver``.  A browser's ``GET /`` is sent to ``/_/``; WebDAV requests
    to ``/`` (OPTIONS, PROPFIND, a DAV client's GET) go on to WsgiDAV untouched.
    """

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX):
            response = self._serve(environ, path)
        elif path == PREFIX.rstrip("/") and environ["REQUEST_METHOD"] in ("GET", "HEAD"):
            response = redirect(_home(environ), 301)
        elif path == "/" and _is_browser_visit(environ):
            response = redirect(_home(environ), 303)
        else:
            return self.next_app(environ, start_response)  # type: ignore[no-any-return]
        return response.send(start_response, head=environ["REQUEST_METHOD"] == "HEAD")

    def _serve(self, environ: dict[str, Any], path: str) -> Response:
        method = environ["REQUEST_METHOD"]
        try:
            handler, match = _route(path, method)
            return handler(self.config["spreadgate"], environ, match)
        except WebError as exc:
            log.info("%s %s refused: %d %s", method, path, exc.status, exc.message)
            return error_response(exc, browser=method == "POST" and wants_html(environ))
        except Exception:
            log.exception("%s %s failed", method, path)
            return json_response({"error": "internal error; see the gateway's log", "status": 500}, 500)


def _route(path: str, method: str) -> tuple[Handler, re.Match[str]]:
    for pattern, methods in ROUTES:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        handlers = dict(methods)
        allowed = tuple(handlers) + (("HEAD",) if "GET" in handlers else ())
        if method == "OPTIONS":
            return _options(allowed), match
        handler = handlers.get("GET" if method == "HEAD" else method)
        if handler is None:
            raise MethodNotAllowed(f"{method} is not allowed on {path}", (*allowed, "OPTIONS"))
        return handler, match
    raise NotFound(f"nothing at {path}")


def _options(allowed: tuple[str, ...]) -> Handler:
    def answer(context: Context, environ: dict[str, Any], match: re.Match[str]) -> Response:
        return Response(204, [("Allow", ", ".join((*allowed, "OPTIONS")))])
    return answer


def _home(environ: dict[str, Any]) -> str:
    return str(environ.get("SCRIPT_NAME", "")).rstrip("/") + PREFIX


def _is_browser_visit(environ: dict[str, Any]) -> bool:
    """A GET that a browser makes: it accepts HTML and carries nothing a WebDAV client sends."""
    if environ["REQUEST_METHOD"] not in ("GET", "HEAD") or not wants_html(environ):
        return False
    agent = environ.get("HTTP_USER_AGENT", "").lower()
    return not any(key in environ for key in DAV_HEADERS) and not any(a in agent for a in DAV_AGENTS)
