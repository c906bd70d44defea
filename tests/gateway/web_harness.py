"""The real gateway for the web-page tests: its WsgiDAV app on cheroot, port 0, SQLite in tmp_path
unless another database is given."""

from __future__ import annotations

import http.client
import socket
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gateway import service
from spreadgate import settings
from spreadgate.models import UploadedFile

DEADLINE_S = 30.0
PIECE = 64 * 1024


@dataclass
class Gateway:
    """A running gateway: its URL, port, share folder and database sessions."""

    url: str
    port: int
    share: Path
    data_dir: Path
    sessions: sessionmaker[Session]

    def rows(self) -> list[UploadedFile]:
        with self.sessions() as session:
            return list(session.scalars(select(UploadedFile).order_by(UploadedFile.id)))

    def row_count(self) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(UploadedFile)) or 0)

    def share_files(self) -> list[str]:
        """The files under the share, as paths relative to it."""
        return sorted(p.relative_to(self.share).as_posix() for p in self.share.rglob("*") if p.is_file())

    def stored_files(self) -> list[Path]:
        """Every regular file under the share (temporary ones included) and in the blob store."""
        places = (self.share, self.data_dir / "blobs")
        return sorted(p for place in places for p in place.rglob("*") if p.is_file())


def start(tmp_path: Path, max_upload_mb: int = 0, database_url: str = "") -> Iterator[Gateway]:
    """The gateway as ``spreadgate gateway`` builds it, on port 0; its forwarder is never started."""
    data_dir = tmp_path / "var"
    data_dir.mkdir(parents=True, exist_ok=True)
    conf = settings.load(overrides={"gateway_data_dir": str(data_dir), "gateway_listen": "127.0.0.1:0",
                                    "gateway_max_upload_mb": max_upload_mb, "database_url": database_url})
    server, _forwarder = service.build(conf)
    context = server.wsgi_app.config["spreadgate"]
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        port = int(server.bind_addr[1])
        yield Gateway(f"http://127.0.0.1:{port}", port, context.intake.share, data_dir, context.sessions)
    finally:
        server.stop()
        thread.join(DEADLINE_S)
        context.sessions.kw["bind"].dispose()


def form_parts(boundary: str, fields: dict[str, str], files: Sequence[tuple[str, Iterable[bytes]]]
               ) -> Iterator[bytes]:
    """A multipart/form-data body, piece by piece, never whole in memory."""
    for name, value in fields.items():
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
               f"{value}\r\n").encode()
    for filename, pieces in files:
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
               "Content-Type: application/octet-stream\r\n\r\n").encode()
        yield from pieces
        yield b"\r\n"
    yield f"--{boundary}--\r\n".encode()


def post_stream(gateway: Gateway, pieces: Iterable[bytes], *, boundary: str, length: int | None = None,
                accept: str = "application/json") -> tuple[int, bytes]:
    """POST to /_/upload with http.client: chunked when ``length`` is None."""
    conn = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=DEADLINE_S * 4)
    try:
        conn.putrequest("POST", "/_/upload")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Accept", accept)
        conn.putheader(*(("Transfer-Encoding", "chunked") if length is None else ("Content-Length", str(length))))
        conn.endheaders()
        for piece in pieces:
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece) if length is None else piece)
        if length is None:
            conn.send(b"0\r\n\r\n")
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


def raw_exchange(gateway: Gateway, request: bytes, *, shut_write: bool = False) -> bytes:
    """Send raw bytes, read the whole answer (the server closes or we stop at the body)."""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=DEADLINE_S) as sock:
        sock.sendall(request)
        if shut_write:
            sock.shutdown(socket.SHUT_WR)
        return _read_response(sock)


def _read_response(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(PIECE)
        if not piece:
            return data
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length and (piece := sock.recv(PIECE)):
        body += piece
    return head + b"\r\n\r\n" + body


def new_boundary() -> str:
    return f"sgtest{uuid.uuid4().hex}"
