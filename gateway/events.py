"""EventTap: tells the debouncer how each request that moves, copies, deletes or locks a path ended.

It wraps ``start_response`` to learn the final status and reports once the
response iterator is closed, i.e. after WsgiDAV has done the work, without
touching the provider (dav-clients.md §13.8).  Reporting only updates the
debouncer's bookkeeping; nothing slow happens in the request (D12).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from wsgidav.mw.base_mw import BaseMiddleware  # type: ignore[import-untyped]

from gateway.debounce import destination_path, normalize

log = logging.getLogger(__name__)

TAPPED = frozenset({"MOVE", "COPY", "DELETE", "UNLOCK", "LOCK", "PROPPATCH", "PUT"})


class EventTap(BaseMiddleware):  # type: ignore[misc]
    """WsgiDAV middleware reporting ``(method, path, destination, status)`` to ``config["spreadgate"].debouncer``."""

    def __init__(self, wsgidav_app: Any, next_app: Callable[..., Iterable[bytes]],
                 config: dict[str, Any]) -> None:
        super().__init__(wsgidav_app, next_app, config)
        self.debouncer = config["spreadgate"].debouncer

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        if method not in TAPPED or self.debouncer is None:
            return self.next_app(environ, start_response)  # type: ignore[no-any-return]
        status: list[int] = []

        def tapped_start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[:] = [int(line.split(" ", 1)[0])]
            return start_response(line, headers, exc_info) if exc_info else start_response(line, headers)

        return self._report_after(self.next_app(environ, tapped_start_response), environ, status)

    def _report_after(self, body: Iterable[bytes], environ: dict[str, Any],
                      status: list[int]) -> Iterator[bytes]:
        try:
            yield from body
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
            if status:
                self._report(environ, status[0])

    def _report(self, environ: dict[str, Any], status: int) -> None:
        method = environ["REQUEST_METHOD"]
        path = normalize(environ.get("PATH_INFO", "/"))
        header = environ.get("HTTP_DESTINATION")
        dest = destination_path(header, environ.get("SCRIPT_NAME", "")) if header else None
        log.debug("%s %s%s -> %d", method, path, f" -> {dest}" if dest else "", status)
        try:
            self.debouncer.event(method, path, dest, status)
        except Exception:
            log.exception("%s %s: the debouncer could not take the event", method, path)
