"""The one way a finished file becomes an upload, for WebDAV PUTs and the upload form.

``commit`` makes the bytes durable under their final name.  An explicit
upload (the form, D11) that is a document is recorded in ``uploaded_files``
before it returns.  A WebDAV write is handed to the debouncer instead (it
is made a pending candidate before the file is renamed into place, so a
client told "created" can rely on it), and recorded by :meth:`Intake.settle`
once the candidate settles: only new bytes, once per path (D8).
"""

from __future__ import annotations

import hashlib
import io
import logging
import mimetypes
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.blobs import BlobStore
from gateway.debounce import Written
from gateway.groupsync import FolderSync
from gateway.ignore import is_ignored
from spreadgate.logs import upload_log
from spreadgate.models import State, UploadedFile, utcnow

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

log = logging.getLogger(__name__)

TEMP_PREFIX = ".sg-upload-"
PIECE = 64 * 1024
EMPTY_ERROR = "empty file: nothing to convert"
# Linux file systems (ext4, xfs, btrfs) refuse longer names and paths only at the final rename,
# after the whole body has been received; checking first gives the client a 400 with the reason.
NAME_MAX = 255
PATH_MAX = 4096
# Bytes of a temporary file handed to the disk at a time while more arrive.
WRITEBACK_STEP = 8 * 1024 * 1024
# Paths per query when looking up what was last recorded for them (well under every engine's
# limit on bound parameters).
LOOKUP_BATCH = 500


class EarlyWriteback(io.FileIO):
    """A new file whose bytes go to the disk while more arrive, :data:`WRITEBACK_STEP` at a time.

    ``posix_fadvise(DONTNEED)`` starts writing back what was written without waiting for it,
    so the ``fsync`` before the reply has only the last piece left to write (a 512 MiB upload
    otherwise waits a quarter of a second or more for it here), and uploads do not fill the
    page cache.  Writes are sequential from offset 0.
    """

    _written = 0
    _handed = 0

    def write(self, data: ReadableBuffer, /) -> int:
        count = super().write(data)
        self._written += count
        if self._written - self._handed >= WRITEBACK_STEP:
            os.posix_fadvise(self.fileno(), self._handed, self._written - self._handed, os.POSIX_FADV_DONTNEED)
            self._handed = self._written
        return count


class Intake:
    """Stores finished files under the share and records the ones to forward."""

    def __init__(self, data_dir: Path, sessions: sessionmaker[Session],
                 on_commit: Callable[[], None] = lambda: None,
                 on_written: Callable[[str, Written], None] | None = None) -> None:
        self.share = (data_dir / "share").resolve()
        self.share.mkdir(parents=True, exist_ok=True)
        self.blobs = BlobStore(data_dir.resolve() / "blobs")
        self.folders = FolderSync()
        self.sessions = sessions
        self.on_commit = on_commit
        # The debouncer's entry point; without one, every document is recorded at once.
        self.on_written = on_written

    def resolve(self, share_path: str) -> Path:
        """The file for ``share_path`` (``/a/b.doc``); ValueError if it would leave the share."""
        if "\0" in share_path or "\\" in share_path:
            raise ValueError(f"{share_path!r}: NUL and backslash are not allowed in paths")
        parts = PurePosixPath("/" + share_path.lstrip("/")).parts[1:]
        if not parts or any(part in ("..", ".") for part in parts):
            raise ValueError(f"{share_path!r} does not name a file inside the share")
        if any(len(os.fsencode(part)) > NAME_MAX for part in parts):
            raise ValueError(f"{share_path!r}: a name in it is longer than {NAME_MAX} bytes")
        target = self.share.joinpath(*parts)
        if len(os.fsencode(target)) >= PATH_MAX:
            raise ValueError(f"{share_path!r}: the path is longer than the file system allows")
        if not target.resolve().is_relative_to(self.share):
            raise ValueError(f"{share_path!r} leaves the share")
        return target

    def temp_for(self, share_path: str) -> tuple[BinaryIO, Path]:
        """A hidden temporary file beside the target, for the bytes as they arrive."""
        target = self.resolve(share_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=target.parent)
        return io.BufferedWriter(EarlyWriteback(fd, "wb")), Path(name)

    def discard(self, temp_path: Path) -> None:
        temp_path.unlink(missing_ok=True)

    def commit(self, share_path: str, temp_path: Path, *, size: int, sha256: str,
               content_type: str, explicit: bool = True) -> int | None:
        """Put the finished bytes in place; record and forward them if they are a document.

        Returns the upload id, or None for a file that is stored but not forwarded.  If the
        bytes cannot be put in place, the temporary file is removed, the previous version
        stays, and the error is raised.
        """
        debounced = not explicit and self.on_written is not None
        try:
            target = self.resolve(share_path)
            with temp_path.open("rb+") as handle:
                os.fsync(handle.fileno())
                inode = os.fstat(handle.fileno()).st_ino
            share_path = "/" + "/".join(target.relative_to(self.share).parts)
            if debounced:
                # rename() keeps the inode, so the candidate can name these bytes before they land.
                self.on_written(share_path, Written(inode, size, sha256, content_type))  # type: ignore[misc]
            os.replace(temp_path, target)
        except BaseException:
            self.discard(temp_path)
            raise
        self.folders.sync(target.parent)
        if debounced:
            return None
        return self._record(share_path, target, size, sha256, content_type, explicit)

    def settle(self, candidates: Sequence[tuple[str, Written | None]]) -> set[str]:
        """Record what is at each path now, if it is a new, non-empty document (D3, D4, D8).

        The rows are inserted in one transaction, whose failure is raised (nothing is
        recorded then).  Returns the paths whose files could not be read; each is logged.
        """
        paths = [path for path, _ in candidates]
        known = self.last_sha256s(paths)
        rows: list[UploadedFile] = []
        unreadable: set[str] = set()
        for share_path, written in candidates:
            try:
                row = self._settle_one(share_path, written, known.get(share_path))
            except OSError:
                log.exception("%s: settling failed; it stays pending and is tried again", share_path)
                unreadable.add(share_path)
            else:
                if row is not None:
                    rows.append(row)
        self._insert(rows)
        return unreadable

    def _settle_one(self, share_path: str, written: Written | None, last: str | None) -> UploadedFile | None:
        try:
            target = self.resolve(share_path)
        except ValueError:
            return None
        if is_ignored(target.name) or not target.is_file():
            return None
        snapshot = self.blobs.root / f"{TEMP_PREFIX}{os.getpid()}-{threading.get_ident()}"
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.unlink(missing_ok=True)
        try:
            # A hard link pins these bytes: a later write replaces the share file, not this inode.
            os.link(target, snapshot)
        except FileNotFoundError:
            return None
        try:
            stat = snapshot.stat()
            if stat.st_size == 0:
                log.debug("%s settled empty: a placeholder, not forwarded", share_path)
                return None
            known = written is not None and (written.inode, written.size) == (stat.st_ino, stat.st_size)
            sha256 = written.sha256 if known and written else hash_file(snapshot)
            content_type = written.content_type if known and written else guess_type(target.name)
            if sha256 == last:
                log.info("%s settled with the content already forwarded for it; not sent again", share_path)
                return None
            self.blobs.keep(snapshot, sha256)
            return _row(share_path, target.name, stat.st_size, sha256, content_type)
        finally:
            snapshot.unlink(missing_ok=True)

    def last_sha256s(self, share_paths: Sequence[str]) -> dict[str, str]:
        """The sha256 of the newest upload recorded for each path that has one (debounce rule D8)."""
        found: dict[str, str] = {}
        with self.sessions() as session:
            for first in range(0, len(share_paths), LOOKUP_BATCH):
                chunk = share_paths[first:first + LOOKUP_BATCH]
                newest = (select(func.max(UploadedFile.id)).where(UploadedFile.path.in_(chunk))
                          .group_by(UploadedFile.path))
                rows = session.execute(select(UploadedFile.path, UploadedFile.sha256)
                                       .where(UploadedFile.id.in_(newest)))
                found.update((path, sha256) for path, sha256 in rows)
        return found

    def _record(self, share_path: str, target: Path, size: int, sha256: str,
                content_type: str, explicit: bool) -> int | None:
        """Debounce rules D3 and D4 decide here whether the file is a document to forward."""
        if is_ignored(target.name):
            log.debug("%s stored, not forwarded: a temporary or metadata name", share_path)
            return None
        if size == 0 and not explicit:
            log.debug("%s stored, not forwarded: empty placeholder", share_path)
            return None
        if size:
            self.blobs.keep(target, sha256)
        row = _row(share_path, target.name, size, sha256, content_type)
        self._insert([row])
        return row.id

    def _insert(self, rows: list[UploadedFile]) -> None:
        """Record ``rows`` in one transaction, then wake the forwarder."""
        if not rows:
            return
        with self.sessions.begin() as session:
            session.add_all(rows)
        for row in rows:
            upload_log(log, row.id).info("%s recorded (%d bytes, sha256 %s)", row.path, row.size, row.sha256)
        if any(row.size for row in rows):
            self.on_commit()


def _row(share_path: str, name: str, size: int, sha256: str, content_type: str) -> UploadedFile:
    row = UploadedFile(path=share_path, name=name, content_type=content_type or "application/octet-stream",
                       size=size, sha256=sha256)
    if size == 0:
        row.state, row.error, row.processed_at = State.FAILED.value, EMPTY_ERROR, utcnow()
    return row


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while piece := handle.read(PIECE):
            digest.update(piece)
    return digest.hexdigest()


def guess_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
