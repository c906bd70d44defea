"""``XmlGuard``: WebDAV XML bodies are bounded in size and may carry no DTD.

WsgiDAV reads a PROPFIND, PROPPATCH or LOCK body whole into memory before
parsing it (with defusedxml, which refuses entity declarations).  This
middleware refuses, before that, a body larger than ``XML_LIMIT`` (413) and
a body with a ``<!DOCTYPE`` or ``<!ENTITY`` (400): no DAV request needs one,
and so no parser swapped in later can be made to expand or fetch entities.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from wsgidav.mw.base_mw import BaseMiddleware  # type: ignore[import-untyped]

from gateway.pathguard import refuse

log = logging.getLogger(__name__)

# Every method whose body WsgiDAV parses as XML.
XML_METHODS = frozenset({"PROPFIND", "PROPPATCH", "LOCK", "REPORT", "SEARCH"})
XML_LIMIT = 1024 * 1024
DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class XmlGuard(BaseMiddleware):  # type: ignore[misc]
    """Checks each XML request body before WsgiDAV reads it; other requests pass untouched."""

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] not in XML_METHODS:
            return self.next_app(environ, start_response)  # type: ignore[no-any-return]
        length = environ.get("CONTENT_LENGTH", "").strip()
        if not length.isdigit():
            # WsgiDAV answers a bad length with 400 and treats a missing one as no body.
            return self.next_app(environ, start_response)  # type: ignore[no-any-return]
        if int(length) > XML_LIMIT:
            return self._refuse(environ, start_response, "413 Content Too Large",
                                f"an XML body may have at most {XML_LIMIT} bytes")
        body = environ["wsgi.input"].read(int(length))
        environ["wsgi.input"] = io.BytesIO(body)
        if DTD.search(body):
            return self._refuse(environ, start_response, "400 Bad Request",
                                "XML bodies with a DTD or entity declarations are not accepted")
        return self.next_app(environ, start_response)  # type: ignore[no-any-return]

    @staticmethod
    def _refuse(environ: dict[str, Any], start_response: Callable[..., Any], status: str,
                reason: str) -> Iterable[bytes]:
        log.info("%s %r refused: %s", environ["REQUEST_METHOD"], environ.get("PATH_INFO"), reason)
        return refuse(start_response, status, reason)
