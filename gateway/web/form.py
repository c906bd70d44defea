"""Streaming a multipart/form-data upload straight into the intake's temporary files."""

from __future__ import annotations

import hashlib
import logging
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from gateway.web import names
from gateway.web.body import Body
from gateway.web.contract import Intake
from gateway.web.errors import BadRequest, Conflict, TooLarge, UnsupportedMediaType

log = logging.getLogger(__name__)

FOLDER_FIELD = "folder"
# The folder field is the only value kept in memory; anything longer is not a folder.
MAX_FIELD_BYTES = 4096
OCTET_STREAM = "application/octet-stream"


@dataclass
class Received:
    """One file of the form, complete in its temporary file and not yet committed."""

    name: str
    share_path: str
    temp_path: Path
    content_type: str
    size: int = 0
    sha256: str = ""


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    header_name: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    field_name: str = ""
    value: bytearray | None = None
    received: Received | None = None
    file: BinaryIO | None = None
    digest: Any = None
    empty_input: bool = False


class FormReader:
    """Reads one form: ``read(environ)`` returns its files, each in a temporary file.

    On any error every temporary file made so far is discarded and the error raised;
    nothing of a broken form stays behind.
    """

    def __init__(self, intake: Intake, max_file_bytes: int | None) -> None:
        self._intake = intake
        self._max = max_file_bytes
        self._folder = ""
        self._files: list[Received] = []
        self._part = _Part()
        self._ended = False

    def read(self, environ: dict[str, Any]) -> list[Received]:
        body = Body(environ)
        try:
            parser = MultipartParser(_boundary(environ), callbacks=self._callbacks())
            self._feed(body, parser)
        except FormParserError as exc:
            self._fail(body)
            raise BadRequest(f"malformed multipart body: {exc}") from exc
        except Exception:
            self._fail(body)
            raise
        return self._files

    def _feed(self, body: Body, parser: MultipartParser) -> None:
        while data := body.read():
            parser.write(data)
        if not self._ended:
            raise BadRequest("malformed multipart body: it ends before the closing boundary")
        if not self._files:
            raise BadRequest("the form holds no file")

    def _fail(self, body: Body) -> None:
        for received in self._files:
            self._intake.discard(received.temp_path)
        if self._part.file is not None:
            self._part.file.close()
        if self._part.received is not None:
            self._intake.discard(self._part.received.temp_path)
        self._files.clear()
        body.drain()

    def _callbacks(self) -> Any:
        return {
            "on_part_begin": self._on_part_begin,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_end": self._on_end,
        }

    def _on_part_begin(self) -> None:
        self._part = _Part()

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._part.header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._part.header_value += data[start:end]

    def _on_header_end(self) -> None:
        part = self._part
        # Header bytes stay Latin-1 here; file names are re-decoded as UTF-8 below.
        part.headers[part.header_name.decode("latin-1").strip().lower()] = part.header_value.decode("latin-1")
        part.header_name, part.header_value = bytearray(), bytearray()

    def _on_headers_finished(self) -> None:
        kind, params = parse_options_header(self._part.headers.get("content-disposition", ""))
        if kind != b"form-data" or b"name" not in params:
            raise BadRequest("malformed multipart body: a part lacks 'Content-Disposition: form-data; name=…'")
        self._part.field_name = _utf8(params[b"name"], "field name")
        if b"filename" in params:
            self._start_file(_utf8(params[b"filename"], "file name"))
        elif self._part.field_name == FOLDER_FIELD:
            if self._files:
                raise BadRequest("the folder field must come before the files in the form")
            self._part.value = bytearray()

    def _start_file(self, raw_name: str) -> None:
        part = self._part
        if raw_name == "":
            # What a browser sends for a file input left empty.
            part.empty_input = True
            return
        name = names.file_name(raw_name)
        share_path = names.share_path(self._folder, name)
        try:
            target = self._intake.resolve(share_path)
        except ValueError as exc:
            raise BadRequest(f"file {raw_name!r} cannot be stored at {share_path!r}: {exc}") from exc
        content_type = _content_type(part.headers.get("content-type", ""), name)
        try:
            # The form names a folder that need not exist yet (a DAV PUT would need MKCOL first).
            target.parent.mkdir(parents=True, exist_ok=True)
            part.file, temp_path = self._intake.temp_for(share_path)
        except (FileExistsError, NotADirectoryError) as exc:
            raise Conflict(f"file {raw_name!r} cannot be stored at {share_path!r}: a file is in the way") from exc
        part.received = Received(name, share_path, temp_path, content_type)
        part.digest = hashlib.sha256()

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        piece = memoryview(data)[start:end]
        if part.file is not None and part.received is not None:
            part.received.size += len(piece)
            if self._max is not None and part.received.size > self._max:
                raise TooLarge(f"file {part.received.name!r} is larger than the limit of {self._max} bytes")
            part.file.write(piece)
            part.digest.update(piece)
        elif part.empty_input and len(piece):
            raise BadRequest("a file part with an empty file name carries data")
        elif part.value is not None:
            part.value += piece
            if len(part.value) > MAX_FIELD_BYTES:
                raise BadRequest(f"the {FOLDER_FIELD} field is longer than {MAX_FIELD_BYTES} bytes")

    def _on_part_end(self) -> None:
        part = self._part
        if part.file is not None and part.received is not None:
            part.file.close()
            part.received.sha256 = part.digest.hexdigest()
            self._files.append(part.received)
            log.debug("form file %s received: %d bytes", part.received.share_path, part.received.size)
        elif part.value is not None:
            self._folder = names.folder(_utf8(bytes(part.value), "folder"))
        self._part = _Part()

    def _on_end(self) -> None:
        self._ended = True


def _boundary(environ: dict[str, Any]) -> bytes:
    kind, params = parse_options_header(environ.get("CONTENT_TYPE", ""))
    if kind != b"multipart/form-data":
        raise UnsupportedMediaType(
            f"an upload must be multipart/form-data, not {kind.decode('latin-1') or 'an untyped body'!r}")
    boundary = params.get(b"boundary", b"")
    if not boundary:
        raise BadRequest("malformed multipart body: the Content-Type has no boundary")
    return boundary


def _utf8(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the {what} is not UTF-8: {raw!r}") from exc


def _content_type(header: str, name: str) -> str:
    declared = header.split(";", 1)[0].strip().lower()
    if declared and declared != OCTET_STREAM:
        return declared
    return mimetypes.guess_type(name)[0] or OCTET_STREAM
