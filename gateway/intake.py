"""The one way a finished file becomes an upload, for WebDAV PUTs and the upload form.

``commit`` makes the bytes durable under their final name and, when the file
is a document to forward, records its ``uploaded_files`` row before it
returns, so a client told "created" can rely on it.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from sqlalchemy.orm import Session, sessionmaker

from gateway.blobs import BlobStore
from gateway.ignore import is_ignored
from spreadgate.models import State, UploadedFile, utcnow

log = logging.getLogger(__name__)

TEMP_PREFIX = ".sg-upload-"
EMPTY_ERROR = "empty file: nothing to convert"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Intake:
    """Stores finished files under the share and records the ones to forward."""

    def __init__(self, data_dir: Path, sessions: sessionmaker[Session],
                 on_commit: Callable[[], None] = lambda: None) -> None:
        self.share = (data_dir / "share").resolve()
        self.share.mkdir(parents=True, exist_ok=True)
        self.blobs = BlobStore(data_dir.resolve() / "blobs")
        self.sessions = sessions
        self.on_commit = on_commit

    def resolve(self, share_path: str) -> Path:
        """The file for ``share_path`` (``/a/b.doc``); ValueError if it would leave the share."""
        if "\0" in share_path or "\\" in share_path:
            raise ValueError(f"{share_path!r}: NUL and backslash are not allowed in paths")
        parts = PurePosixPath("/" + share_path.lstrip("/")).parts[1:]
        if not parts or any(part in ("..", ".") for part in parts):
            raise ValueError(f"{share_path!r} does not name a file inside the share")
        target = self.share.joinpath(*parts)
        if not target.resolve().is_relative_to(self.share):
            raise ValueError(f"{share_path!r} leaves the share")
        return target

    def temp_for(self, share_path: str) -> tuple[BinaryIO, Path]:
        """A hidden temporary file beside the target, for the bytes as they arrive."""
        target = self.resolve(share_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=target.parent)
        return os.fdopen(fd, "wb"), Path(name)

    def discard(self, temp_path: Path) -> None:
        temp_path.unlink(missing_ok=True)

    def commit(self, share_path: str, temp_path: Path, *, size: int, sha256: str,
               content_type: str, explicit: bool = True) -> int | None:
        """Put the finished bytes in place; record and forward them if they are a document.

        Returns the upload id, or None for a file that is stored but not forwarded.
        """
        target = self.resolve(share_path)
        with temp_path.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp_path, target)
        fsync_dir(target.parent)
        share_path = "/" + "/".join(target.relative_to(self.share).parts)
        return self._record(share_path, target, size, sha256, content_type, explicit)

    def _record(self, share_path: str, target: Path, size: int, sha256: str,
                content_type: str, explicit: bool) -> int | None:
        """Debounce rules D3 and D4 decide here whether the file is a document to forward."""
        if is_ignored(target.name):
            log.debug("%s stored, not forwarded: a temporary or metadata name", share_path)
            return None
        if size == 0 and not explicit:
            log.debug("%s stored, not forwarded: empty placeholder", share_path)
            return None
        row = UploadedFile(path=share_path, name=target.name, content_type=content_type or
                           "application/octet-stream", size=size, sha256=sha256)
        if size == 0:
            row.state, row.error, row.processed_at = State.FAILED.value, EMPTY_ERROR, utcnow()
        else:
            self.blobs.keep(target, sha256)
        with self.sessions.begin() as session:
            session.add(row)
        log.info("upload %d: %s recorded (%d bytes, sha256 %s)", row.id, share_path, size, sha256)
        if size:
            self.on_commit()
        return row.id
