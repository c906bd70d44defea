"""Writes files into a gateway's share over WebDAV: MKCOL for folders, streamed PUTs for files.

Each thread has its own HTTP session (connections are kept alive) and, with
credentials, its own Digest state: a body-less request first takes the
server's challenge, so that every PUT after it carries its credentials at
once instead of sending the file twice.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

import requests

from spreadgate import gatewayhttp

PIECE = 1 << 20
TIMEOUT_S = 120.0
STORED = (200, 201, 204)
# MKCOL on a folder that exists: 405 (RFC 4918, 9.3.1).
FOLDER_EXISTS = 405


class Refused(gatewayhttp.GatewayError):
    """The gateway answered a write with an error status."""


@dataclass(frozen=True)
class PutResult:
    """How one PUT ended: its status (``None`` when the connection failed), the body's SHA-256."""

    status: int | None
    sha256: str
    error: str | None = None

    @property
    def stored(self) -> bool:
        return self.status in STORED


class HashingReader:
    """A file read for a request body: hashes and counts the bytes as they are sent.

    ``requests`` takes the length from ``len()``; ``tell``/``seek(0)`` let a
    Digest retry send the body again (the hash starts over with it).
    """

    def __init__(self, handle: BinaryIO, size: int, on_bytes: Callable[[int], None]) -> None:
        self.handle, self.size, self.on_bytes = handle, size, on_bytes
        self.digest = hashlib.sha256()
        self.sent = 0

    def __len__(self) -> int:
        return self.size

    def read(self, size: int = -1) -> bytes:
        # Never more than the announced length, even when the file grows meanwhile.
        want = min(size if size and size > 0 else PIECE, self.size - self.sent)
        piece = self.handle.read(want) if want > 0 else b""
        self.digest.update(piece)
        self.sent += len(piece)
        self.on_bytes(len(piece))
        return piece

    def tell(self) -> int:
        return self.handle.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if (offset, whence) != (0, io.SEEK_SET):
            raise io.UnsupportedOperation("a body being hashed can only be rewound to its start")
        self.on_bytes(-self.sent)
        self.digest, self.sent = hashlib.sha256(), 0
        return self.handle.seek(0)


class Sender:
    """WebDAV writes to the share at ``base`` as ``user`` (or anonymously)."""

    def __init__(self, base: str, user: str | None, password: str | None) -> None:
        self.base, self.user, self.password = base.rstrip("/"), user, password
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def url(self, path: str) -> str:
        return self.base + quote(path, errors="surrogateescape")

    def session(self) -> requests.Session:
        """This thread's session, signed in on first use (raises for a 401 or no answer)."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.auth = gatewayhttp.make_auth(self.user, self.password)
            with self._lock:
                self._sessions.append(session)
            self._local.session = session
            if session.auth is not None:
                self.request("PROPFIND", "/", headers={"Depth": "0"})
        return session

    def request(self, method: str, path: str, **kwargs: object) -> requests.Response:
        """One body-less request; :class:`~spreadgate.gatewayhttp.Unreachable` or ``CredentialsRefused``."""
        try:
            reply = self.session().request(method, self.url(path), timeout=TIMEOUT_S, **kwargs)  # type: ignore[arg-type]
        except requests.RequestException as exc:
            raise gatewayhttp.unreachable(self.base, exc) from exc
        if reply.status_code == 401:
            raise gatewayhttp.refused(self.base, self.user)
        return reply

    def make_folders(self, folders: list[str]) -> None:
        """MKCOL each folder, parents first; one that exists already is fine."""
        for folder in folders:
            reply = self.request("MKCOL", folder)
            if reply.status_code not in (201, FOLDER_EXISTS):
                raise Refused(f"the gateway refused to create the folder {folder}: {_why(reply)}")

    def put(self, local: Path, path: str, on_bytes: Callable[[int], None]) -> PutResult:
        """Stream ``local`` to ``path``; the result carries the SHA-256 of the bytes sent."""
        with local.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            body = HashingReader(handle, size, on_bytes)
            try:
                reply = self.session().put(self.url(path), data=body if size else b"", timeout=TIMEOUT_S)
            except requests.RequestException as exc:
                return PutResult(None, body.digest.hexdigest(), f"cannot reach the gateway: {gatewayhttp.reason(exc)}")
            digest = body.digest.hexdigest()
        if reply.status_code == 401:
            raise gatewayhttp.refused(self.base, self.user)
        if reply.status_code in STORED:
            return PutResult(reply.status_code, digest)
        return PutResult(reply.status_code, digest, _why(reply))

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()


@contextmanager
def sender(base: str, user: str | None, password: str | None) -> Iterator[Sender]:
    made = Sender(base, user, password)
    try:
        yield made
    finally:
        made.close()


def _why(reply: requests.Response) -> str:
    """The status and the first line of a plain-text error body (which may start with the status)."""
    kind = reply.headers.get("Content-Type", "")
    lines = reply.text.strip().splitlines() if kind.startswith("text/plain") else []
    text = lines[0][:200] if lines else reply.reason
    status = str(reply.status_code)
    return text if text.startswith(status) else f"{status} {text}"
