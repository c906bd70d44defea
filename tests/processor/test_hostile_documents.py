"""Hostile documents through the real processor service and the embedded daemon: a hang, a crash, an
output flood, decompression bombs and a document too big for the memory limit each become a ``failed``
result with the reason, no file is left behind, and the processor converts a good document sent right after."""

from __future__ import annotations

import os
import struct
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import spread
from processor.service import run
from spread.daemon import Daemon
from spreadgate.wire import RESULT_GROUP, UPLOAD_GROUP
from tests.pipeline_parts import (
    component,
    conf,
    receive_result,
    send_file,
    wait_for_members,
)

W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
ODF_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
MB = 1024 * 1024


@pytest.fixture
def daemon() -> Iterator[Daemon]:
    with Daemon(port=0) as running:
        yield running


def crashing_doc(corpus: Path, tmp_path: Path) -> Path:
    """A Word file that kills antiword with SIGSEGV and that catdoc refuses: the corpus's crashing
    file with one more byte changed (in its first FAT sector)."""
    data = bytearray((corpus / "bad" / "segfault-2byte-flip.doc").read_bytes())
    data[537] = 0x78
    path = tmp_path / "crash.doc"
    path.write_bytes(data)
    return path


def slow_rtf(corpus: Path, tmp_path: Path) -> Path:
    """20 MB of real RTF: converting it takes many seconds of CPU, far beyond a 1 s limit."""
    path = tmp_path / "slow.rtf"
    path.write_bytes(b"{\\rtf1\\ansi " + b"\\b hello\\b0 world \\par\n" * 900_000 + b"}")
    return path


def honest_bomb(corpus: Path, tmp_path: Path) -> Path:
    """A docx whose document.xml expands to 300 MB from about 300 KB, as its headers say."""
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as member:
            member.write(f"<w:document {W_NS}><w:body><w:p><w:r><w:t>".encode())
            for _ in range(300):
                member.write(b"a" * MB)
            member.write(b"</w:t></w:r></w:p></w:body></w:document>")
    return path


def lying_bomb(corpus: Path, tmp_path: Path) -> Path:
    """The same bomb with its size fields rewritten to claim 1 MB, which passes the ratio check."""
    path = honest_bomb(corpus, tmp_path)
    data = bytearray(path.read_bytes())
    # the uncompressed size: at 22 in the local header (name at 30), at 24 in the central one (name at 46)
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        struct.pack_into("<I", data, record(data, signature, name_at) + size_at, MB)
    path.write_bytes(data)
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("word/document.xml").file_size == MB
    return path


def record(data: bytearray, signature: bytes, name_at: int, name: bytes = b"word/document.xml") -> int:
    """The offset of the zip record with ``signature`` that names ``name``."""
    start = 0
    while (start := data.index(signature, start)) >= 0:
        if data[start + name_at: start + name_at + len(name)] == name:
            return start
        start += 1
    raise AssertionError(f"no {signature!r} record for {name!r}")


def flooding_odt(corpus: Path, tmp_path: Path) -> Path:
    """An OpenDocument text of 2 MB (stored, so no zip ratio applies) whose text is 80 MB of spaces."""
    path = tmp_path / "flood.odt"
    body = '<text:p>x<text:s text:c="1000"/></text:p>' * 80_000
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", f'<?xml version="1.0"?><office:document-content {ODF_NS}>'
                                        f"<office:body><office:text>{body}</office:text></office:body>"
                                        "</office:document-content>")
    return path


def huge_paragraph(corpus: Path, tmp_path: Path) -> Path:
    """A docx of 24 MB (random hex: no zip ratio applies) whose one paragraph is 40 MB of text."""
    path = tmp_path / "huge.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as member:
            member.write(f"<w:document {W_NS}><w:body><w:p><w:r>".encode())
            for _ in range(40):
                member.write(b"<w:t>" + os.urandom(MB // 2).hex().encode() + b"</w:t>")
            member.write(b"</w:r></w:p></w:body></w:document>")
    return path


Maker = Callable[[Path, Path], Path]
SHORT: dict[str, object] = {"processor_timeout_s": 1.0}
SMALL: dict[str, object] = {"processor_memory_mb": 100}
CASES: list[tuple[str, Maker, dict[str, object], str]] = [  # id, document, settings, the error
    ("a hang", slow_rtf, SHORT, "rtf timed out after 1 s"),
    ("a crash", crashing_doc, {},
     "antiword crashed (killed by signal SIGSEGV); then catdoc: File ended before textstart"),
    ("an output flood", flooding_odt, {}, "odt: output too large (more than 67108864 bytes)"),
    ("a decompression bomb", honest_bomb, {},
     "docx: word/document.xml would expand to 314572946 bytes: refused as a zip bomb"),
    ("a bomb whose headers lie", lying_bomb, {}, "docx: Bad CRC-32 for file 'word/document.xml'"),
    ("a paragraph beyond the memory limit", huge_paragraph, SMALL,
     "docx: the document needs more memory than a conversion may use"),
]


@pytest.mark.parametrize("make,overrides,error", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_hostile_document_fails_with_its_reason_and_the_next_one_is_converted(
    daemon: Daemon, corpus: Path, tmp_path: Path, make: Maker, overrides: dict[str, object], error: str
) -> None:
    source, work = tmp_path / "in", tmp_path / "work"
    source.mkdir()
    work.mkdir()
    document = make(corpus, source)
    sender = spread.connect(daemon.address, "gw", 0, 1)
    listener = spread.connect(daemon.address, "resp", 0, 0)
    try:
        listener.join(RESULT_GROUP)
        with component(run, conf(daemon.address, processor_work_dir=str(work), **overrides)):
            wait_for_members(sender, UPLOAD_GROUP, 2)
            send_file(sender, 1, document.read_bytes(), name=document.name)
            head, header, text = receive_result(listener, deadline_s=120)
            assert (head.upload_id, header.ok, header.converter, text) == (1, False, None, b"")
            assert (header.error or "").startswith(error), header.error
            send_file(sender, 2, (corpus / "testWORD.doc").read_bytes(), name="testWORD.doc")
            head, header, text = receive_result(listener)
            assert (head.upload_id, header.ok, header.converter, header.lines) == (2, True, "antiword", 60)
            assert b"Sample Word Document" in text
        assert list(work.iterdir()) == []  # no spooled file, tool home or text left
    finally:
        sender.disconnect()
        listener.disconnect()


def test_a_space_count_of_a_trillion_is_one_line_not_a_memory_error(daemon: Daemon, tmp_path: Path) -> None:
    path = tmp_path / "spaces.odt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", f'<?xml version="1.0"?><office:document-content {ODF_NS}><office:body>'
                                        '<office:text><text:p>a<text:s text:c="1000000000000"/>b</text:p>'
                                        "</office:text></office:body></office:document-content>")
    sender = spread.connect(daemon.address, "gw", 0, 1)
    listener = spread.connect(daemon.address, "resp", 0, 0)
    try:
        listener.join(RESULT_GROUP)
        with component(run, conf(daemon.address)):
            wait_for_members(sender, UPLOAD_GROUP, 2)
            send_file(sender, 3, path.read_bytes(), name=path.name)
            _head, header, text = receive_result(listener)
    finally:
        sender.disconnect()
        listener.disconnect()
    assert (header.ok, header.converter, header.lines) == (True, "odt", 1), header.error
    assert text == b"a" + b" " * 1000 + b"b\n"
