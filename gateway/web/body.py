"""Reading a request body from ``wsgi.input`` in bounded pieces, known length or chunked."""

from __future__ import annotations

import logging
from typing import Any

from cheroot.errors import MaxSizeExceeded

from gateway.web.errors import BadRequest, TooLarge

log = logging.getLogger(__name__)

PIECE = 64 * 1024
# After an error the rest of the body is read and dropped so the client sees the answer;
# past this much the connection is given up instead.
DRAIN_LIMIT = 64 * 1024 * 1024


class Body:
    """The request body: ``read()`` gives pieces of at most 64 KiB until it returns ``b""``.

    cheroot has already decoded ``Transfer-Encoding: chunked``; without a Content-Length
    the body simply runs to its end.  A body shorter than its Content-Length is an error.
    """

    def __init__(self, environ: dict[str, Any]) -> None:
        self._environ = environ
        self._stream = environ["wsgi.input"]
        self.length = _content_length(environ)
        self.remaining = self.length
        self.received = 0

    def read(self) -> bytes:
        want = PIECE if self.remaining is None else min(PIECE, self.remaining)
        if want == 0:
            self._mark_consumed()
            return b""
        try:
            data: bytes = self._stream.read(want)
        except MaxSizeExceeded as exc:
            raise TooLarge("the request body is larger than the upload limit") from exc
        except (OSError, ValueError) as exc:
            if "Too Large" in str(exc):
                # cheroot's chunked reader says so when the next chunk would pass its limit.
                raise TooLarge("the request body is larger than the upload limit") from exc
            raise BadRequest(f"the request body could not be read: {exc}") from exc
        self.received += len(data)
        if self.remaining is not None:
            self.remaining -= len(data)
            if not data:
                raise BadRequest(f"the request body ended after {self.received} of {self.length} bytes")
        elif not data:
            self._mark_consumed()
        return data

    def drain(self) -> None:
        """Read and drop what is left (up to :data:`DRAIN_LIMIT`), ignoring errors."""
        dropped = 0
        try:
            while dropped < DRAIN_LIMIT:
                data = self.read()
                if not data:
                    return
                dropped += len(data)
        except BadRequest as exc:
            log.debug("request body not drained: %s", exc)

    def _mark_consumed(self) -> None:
        # WsgiDAV closes the connection after a request whose body it thinks is unread.
        self._environ["wsgidav.some_input_read"] = 1
        self._environ["wsgidav.all_input_read"] = 1


def _content_length(environ: dict[str, Any]) -> int | None:
    """The declared length; ``None`` for a chunked body; ``0`` for no body at all."""
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return None
    value = environ.get("CONTENT_LENGTH") or "0"
    try:
        length = int(value)
    except ValueError as exc:
        raise BadRequest(f"bad Content-Length {value!r}") from exc
    if length < 0:
        raise BadRequest(f"bad Content-Length {value!r}")
    return length
