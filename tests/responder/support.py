"""Rows, results and databases for the responder's tests; each test owns the rows it makes."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from spreadgate import db
from spreadgate.collector import Completed
from spreadgate.models import UploadedFile
from spreadgate.wire import Envelope, Kind, ResultHeader, chunk_count
from tests.conftest import POSTGRES

SHA = hashlib.sha256(b"document").hexdigest()


@contextmanager
def migrated(url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on ``url`` after the schema is brought up to date."""
    engine = db.make_engine(url)
    try:
        db.migrate(engine)
        yield db.sessions(engine)
    finally:
        engine.dispose()


def new_upload(sessions: sessionmaker[Session], state: str = "sent", sha: str = SHA) -> int:
    row = UploadedFile(path="/d.doc", name="d.doc", size=8, sha256=sha, state=state)
    with sessions.begin() as session:
        session.add(row)
    return row.id


def fetch(sessions: sessionmaker[Session], upload_id: int) -> UploadedFile:
    with sessions() as session:
        found = session.get(UploadedFile, upload_id)
        assert found is not None, f"upload {upload_id} is gone"
        return found


def result(ok: bool = True, lines: int | None = 2, error: str | None = None, sha: str = SHA,
           text_bytes: int = 0, **changes: object) -> ResultHeader:
    header = ResultHeader(ok, "antiword" if ok else None, 8, sha, lines if ok else None, text_bytes,
                          hashlib.sha256(b"").hexdigest() if ok else None, error, 7, "#p1#localhost",
                          chunk_count(text_bytes))
    return dataclasses.replace(header, **changes)


def completed(directory: Path, upload_id: int, header: ResultHeader, data: bytes = b"") -> Completed[ResultHeader]:
    """A finished result stream as the receiver hands it on: its text spooled to a file."""
    path = directory / f"text-{upload_id}-{secrets.token_hex(4)}"
    path.write_bytes(data)
    return Completed(Envelope(Kind.RESULT, upload_id, 1, 0, False, b"{}"), header, path)


class PostgresDatabase:
    """A database of its own on the shared PostgreSQL server, which a test can close and reopen."""

    def __init__(self) -> None:
        self.name = f"sg_{secrets.token_hex(4)}"
        self.url = f"{POSTGRES.rsplit('/', 1)[0]}/{self.name}"
        self._admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")

    def _run(self, *statements: str) -> None:
        with self._admin.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))

    def close(self) -> None:
        """Refuse new connections and end the open ones: the database is down for its clients."""
        self._run(f"ALTER DATABASE {self.name} ALLOW_CONNECTIONS false",
                  "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                  f"WHERE datname = '{self.name}' AND pid <> pg_backend_pid()")

    def reopen(self) -> None:
        self._run(f"ALTER DATABASE {self.name} ALLOW_CONNECTIONS true")

    @classmethod
    @contextmanager
    def created(cls) -> Iterator[PostgresDatabase]:
        database = cls()
        database._run(f"CREATE DATABASE {database.name}")
        try:
            yield database
        finally:
            database.close()
            database._run(f"DROP DATABASE {database.name}")
            database._admin.dispose()
