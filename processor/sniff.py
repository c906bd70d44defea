"""Decides a document's format from its content (magic bytes, OLE streams, zip members), not its name."""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import olefile  # type: ignore[import-untyped]
from olefile.olefile import OleFileError  # type: ignore[import-untyped]

OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
WORDML_NS = b"http://schemas.microsoft.com/office/word/2003/wordml"
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
HEAD_BYTES = 8192
# The FIB at the start of the WordDocument stream: wIdent, then the flags word at 0x0A whose bit
# 0x0100 is fEncrypted; the same in Word 6/95 (0xA5DC) and Word 97+ (0xA5EC) ([MS-DOC] 2.5.2).
FIB = struct.Struct("<H8xH")
F_ENCRYPTED = 0x0100
WORD_IDENTS = (0xA5DC, 0xA5EC)
# OLE streams that name what else an OLE container holds, for a clearer refusal.
OTHER_OLE = (("Workbook", "an Excel workbook"), ("Book", "an Excel workbook"),
             ("PowerPoint Document", "a PowerPoint presentation"))
# olefile raises these on damaged containers (a fuzz run of byte-flipped corpus files found
# OleFileError, an OSError, and ValueError; the others guard its index arithmetic).
OLE_ERRORS = (OSError, ValueError, IndexError, KeyError, struct.error)


@dataclass(frozen=True)
class Format:
    """What a file is: ``kind`` picks the converter; ``detail`` explains a refusal."""

    kind: str
    detail: str = ""


# Kinds a converter exists for, and kinds that are refused with their reason.
CONVERTIBLE = ("doc", "docx", "odt", "rtf", "pdf", "wordml", "text", "latin1")
REFUSED = ("empty", "encrypted", "damaged", "unsupported")


def sniff(path: Path) -> Format:
    """The format of the file at ``path``; see :data:`CONVERTIBLE` and :data:`REFUSED`."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head:
        return Format("empty", "empty file: nothing to convert")
    if head.startswith(OLE_MAGIC):
        return _ole_format(path)
    if head.startswith(b"PK\x03\x04"):
        return _zip_format(path)
    for magic, kind in ((b"{\\rtf", "rtf"), (b"%PDF-", "pdf")):
        if head.startswith(magic):
            return Format(kind)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") and WORDML_NS in head:
        return Format("wordml")
    return _text_format(head)


def _ole_format(path: Path) -> Format:
    try:
        with olefile.OleFileIO(str(path)) as ole:
            if ole.exists("EncryptedPackage"):
                return Format("encrypted", "encrypted document (a password-protected Office 2007+ file)")
            if ole.exists("WordDocument"):
                with ole.openstream("WordDocument") as stream:
                    return _word_format(stream.read(FIB.size))
            found = [what for stream, what in OTHER_OLE if ole.exists(stream)]
    except OLE_ERRORS as exc:
        # olefile's own errors say what is broken; others (e.g. int conversion limits) say nothing useful.
        why = f" ({str(exc)[:200]})" if isinstance(exc, OleFileError) else ""
        return Format("damaged", f"damaged document: the OLE container cannot be read{why}")
    holds = found[0] if found else "no Word document"
    return Format("unsupported", f"unsupported format: an OLE file holding {holds}")


def _word_format(fib: bytes) -> Format:
    if len(fib) < FIB.size:
        return Format("damaged", "damaged document: the Word stream is too short")
    ident, flags = FIB.unpack(fib)
    if ident not in WORD_IDENTS:
        return Format("unsupported", f"unsupported format: Word stream of unknown version {ident:#06x}")
    if flags & F_ENCRYPTED:
        return Format("encrypted", "encrypted document (a password-protected Word file)")
    return Format("doc")


def _zip_format(path: Path) -> Format:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "word/document.xml" in names:
                return Format("docx")
            if "content.xml" in names and "mimetype" in names:
                with archive.open("mimetype") as member:
                    if member.read(len(ODT_MIMETYPE)) == ODT_MIMETYPE:
                        return Format("odt")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        return Format("damaged", f"damaged document: the zip archive cannot be read ({str(exc)[:200]})")
    return Format("unsupported", "unsupported format: a zip archive that is neither docx nor odt")


def _text_format(head: bytes) -> Format:
    if b"\0" not in head:
        if _printable(_utf8_prefix(head)):
            return Format("text")
        # Latin-1 text has no C1 controls (0x80-0x9F); their presence suggests another binary.
        if not any(0x80 <= b <= 0x9F for b in head) and _printable(head.decode("latin-1")):
            return Format("latin1")
    return Format("unsupported", "unsupported format: not a Word, OpenDocument, RTF, PDF or text file")


def _utf8_prefix(head: bytes) -> str:
    """``head`` decoded as UTF-8, or "\\0" when it is not UTF-8 (a cut last character is allowed)."""
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4 or len(head) < HEAD_BYTES:
            return "\0"
        return head[: exc.start].decode("utf-8")


def _printable(text: str) -> bool:
    printable = sum(ch.isprintable() or ch in "\r\n\t\f" for ch in text)
    return printable >= 0.95 * len(text)
