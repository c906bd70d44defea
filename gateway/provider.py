"""The WebDAV share: a WsgiDAV filesystem provider whose writes are safe and recorded.

A PUT streams into a hidden temporary file beside its target while the bytes
are hashed; only a complete body (its length equals ``Content-Length``, or
``X-Expected-Entity-Length`` for a chunked PUT that sends it) replaces the
target, through :class:`gateway.intake.Intake` (debounce rules D1 and D2).
Anything else is answered 400 and the previous version stays.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from pathlib import Path
from typing import Any

from cheroot.errors import MaxSizeExceeded
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from wsgidav import util  # type: ignore[import-untyped]
from wsgidav.dav_error import (  # type: ignore[import-untyped]
    HTTP_BAD_REQUEST,
    HTTP_FORBIDDEN,
    HTTP_INTERNAL_ERROR,
    HTTP_NOT_FOUND,
    HTTP_REQUEST_ENTITY_TOO_LARGE,
    DAVError,
)
from wsgidav.fs_dav_provider import (  # type: ignore[import-untyped]
    FileResource,
    FilesystemProvider,
    FolderResource,
)
from wsgidav.util import etree  # type: ignore[import-untyped]

from gateway.intake import TEMP_PREFIX, Intake
from spreadgate.models import UploadedFile

log = logging.getLogger(__name__)

NS = "{urn:spreadgate:}"
PROPERTIES = {f"{NS}state": "state", f"{NS}lines": "lines", f"{NS}upload-id": "id",
              f"{NS}converter": "converter", f"{NS}error": "error"}


WIN32 = "{urn:schemas-microsoft-com:}"


def set_win32_property(resource: Any, name: str, value: Any, dry_run: bool) -> bool | None:
    """Keep Windows' Win32* properties as dead properties (they survive restarts, and say which
    files are hidden); Win32LastModifiedTime also sets the file's modification time.

    Returns None for any other property (WsgiDAV's own handling applies).
    """
    if not name.startswith(WIN32) or resource.provider.prop_manager is None or value is None:
        return None
    if name == f"{WIN32}Win32LastModifiedTime" and not dry_run and value.text:
        try:
            resource.set_last_modified(resource.path, value.text.strip(), dry_run=False)
        except (OSError, ValueError, TypeError, AssertionError):
            log.debug("%s: unusable Win32LastModifiedTime %r kept only as a property", resource.path,
                      value.text)
    return resource.provider.prop_manager.write_property(  # type: ignore[no-any-return]
        resource.get_ref_url(), name, etree.tostring(value), dry_run, resource.environ)


def too_large(exc: BaseException | None) -> bool:
    """Whether cheroot stopped the body at ``max_request_body_size`` (a chunked one raises a bare OSError)."""
    return isinstance(exc, MaxSizeExceeded) or (isinstance(exc, OSError) and
                                                 str(exc) == "Request Entity Too Large")


class HashingWriter:
    """What ``begin_write`` hands WsgiDAV: writes through to the temp file, hashing and counting."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._handle.write(data)
        self.sha256.update(data)
        self.size += len(data)

    def close(self) -> None:
        self._handle.close()


def expected_length(environ: dict[str, Any]) -> int | None:
    for key in ("CONTENT_LENGTH", "HTTP_X_EXPECTED_ENTITY_LENGTH"):
        value = str(environ.get(key) or "").strip()
        if value.isdigit():
            return int(value)
    return None


class GatewayFile(FileResource):  # type: ignore[misc]
    """A stored file; may not exist on disk yet while its first PUT is under way."""

    def __init__(self, path: str, environ: dict[str, Any], file_path: str) -> None:
        if os.path.exists(file_path):
            super().__init__(path, environ, file_path)
        else:
            # A PUT to a new name: nothing is created on disk until the body is complete.
            super(FileResource, self).__init__(path, environ)
            self._file_path = file_path
            self.name = util.to_str(os.path.basename(file_path))
            self.file_stat = os.stat_result((0o100644, 0, 0, 1, 0, 0, 0, 0, 0, 0))
        self._writer: HashingWriter | None = None
        self._temp: Path | None = None
        self._row: UploadedFile | None = None

    @property
    def intake(self) -> Intake:
        return self.provider.intake  # type: ignore[no-any-return]

    def get_etag(self) -> str:
        # inode, nanosecond mtime and size: it changes on every write (WsgiDAV's has 1 s resolution).
        st = self.file_stat
        return f"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"

    def begin_write(self, *, content_type: str | None = None) -> HashingWriter:
        try:
            handle, self._temp = self.intake.temp_for(self.path)
        except ValueError as exc:
            raise DAVError(HTTP_BAD_REQUEST, f"{exc}; nothing was stored") from exc
        except OSError as exc:
            log.error("PUT %s: no temporary file (%s)", self.path, exc)
            raise DAVError(HTTP_INTERNAL_ERROR, f"could not store the file: {exc.strerror}") from exc
        self._writer = HashingWriter(handle)
        return self._writer

    def end_write(self, *, with_errors: bool) -> None:
        writer, temp = self._writer, self._temp
        if writer is None or temp is None:
            return  # begin_write failed and WsgiDAV raises its error next; nothing was written
        expected = expected_length(self.environ)
        if with_errors or (expected is not None and writer.size != expected):
            writer.close()
            self.intake.discard(temp)
            reason = "the upload failed" if with_errors else (
                f"incomplete body: received {writer.size} of {expected} bytes")
            log.warning("PUT %s refused: %s; the previous version is kept", self.path, reason)
            # WsgiDAV calls this from inside its except block: a chunked body past the limit is a 413.
            if too_large(sys.exc_info()[1]):
                raise DAVError(HTTP_REQUEST_ENTITY_TOO_LARGE, "the body exceeds the upload limit; nothing was stored")
            raise DAVError(HTTP_BAD_REQUEST, f"{reason}; nothing was stored")
        self._commit(writer, temp)
        self.file_stat = os.stat(self._file_path)

    def _commit(self, writer: HashingWriter, temp: Path) -> None:
        """Hand the complete body to the intake; it removes the temporary file if that fails."""
        try:
            self.intake.commit(self.path, temp, size=writer.size, sha256=writer.sha256.hexdigest(),
                               content_type=self.environ.get("CONTENT_TYPE") or self.get_content_type(),
                               explicit=False)
        except (OSError, ValueError) as exc:
            log.error("PUT %s: could not put the file in place (%s); the previous version is kept",
                      self.path, exc)
            # The client hears the reason, not the server's file system paths.
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise DAVError(HTTP_INTERNAL_ERROR,
                           f"could not store the file ({reason}); the previous version is kept") from exc

    def set_property_value(self, name: str, value: Any, *, dry_run: bool = False) -> Any:
        stored = set_win32_property(self, name, value, dry_run)
        return super().set_property_value(name, value, dry_run=dry_run) if stored is None else stored

    def get_property_names(self, *, is_allprop: bool) -> list[str]:
        names: list[str] = super().get_property_names(is_allprop=is_allprop)
        return names + list(PROPERTIES) if self._upload() is not None else names

    def get_property_value(self, name: str) -> Any:
        if name not in PROPERTIES:
            return super().get_property_value(name)
        row = self._upload()
        value = None if row is None else getattr(row, PROPERTIES[name])
        if value is None:
            raise DAVError(HTTP_NOT_FOUND)
        return str(value)

    def _upload(self) -> UploadedFile | None:
        """The newest upload recorded for this path (looked up once per request)."""
        if self._row is None:
            sessions: sessionmaker[Session] = self.provider.sessions
            with sessions() as session:
                self._row = session.scalars(
                    select(UploadedFile).where(UploadedFile.path == self.path)
                    .order_by(UploadedFile.id.desc()).limit(1)).first()
        return self._row


class GatewayFolder(FolderResource):  # type: ignore[misc]
    """A folder; hides the gateway's temporary files and creates nothing for a PUT until it ends."""

    def get_member_names(self) -> list[str]:
        return [n for n in super().get_member_names() if not n.startswith(TEMP_PREFIX)]

    def set_property_value(self, name: str, value: Any, *, dry_run: bool = False) -> Any:
        stored = set_win32_property(self, name, value, dry_run)
        return super().set_property_value(name, value, dry_run=dry_run) if stored is None else stored

    def create_empty_resource(self, name: str) -> Any:
        if self.environ.get("REQUEST_METHOD") != "PUT":
            return super().create_empty_resource(name)
        path = util.join_uri(self.path, name)
        return GatewayFile(path, self.environ, self.provider._loc_to_file_path(path, self.environ))


class GatewayProvider(FilesystemProvider):  # type: ignore[misc]
    """The share at ``<data_dir>/share``, with :class:`GatewayFile` and :class:`GatewayFolder`."""

    def __init__(self, intake: Intake, sessions: sessionmaker[Session]) -> None:
        # No options: symbolic links are not followed, and WsgiDAV does not warn about a missing fs_opts.
        super().__init__(str(intake.share), fs_opts={})
        self.intake = intake
        self.sessions = sessions

    def get_resource_inst(self, path: str, environ: dict[str, Any]) -> Any:
        file_path = self._loc_to_file_path(path, environ)
        if not os.path.exists(file_path):
            return None
        if os.path.islink(file_path) and not self.fs_opts.get("follow_symlinks"):
            raise DAVError(HTTP_FORBIDDEN, "symbolic links are not served")
        if os.path.isdir(file_path):
            return GatewayFolder(path, environ, file_path)
        if os.path.basename(file_path).startswith(TEMP_PREFIX):
            return None
        return GatewayFile(path, environ, file_path)
