"""Decides a document's format from its content, not its name."""

from __future__ import annotations

import zipfile
from pathlib import Path

OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
WORDML_NS = b"http://schemas.microsoft.com/office/word/2003/wordml"
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
HEAD_BYTES = 8192


def sniff(path: Path) -> str:
    """One of: doc, docx, odt, rtf, pdf, wordml, text, empty, unknown."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head:
        return "empty"
    if head.startswith(OLE_MAGIC):
        return "doc"  # Word 6/95/97-2003, or an encrypted OOXML container: the converters tell
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") and WORDML_NS in head:
        return "wordml"
    return "text" if _looks_like_text(head) else "unknown"


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "word/document.xml" in names:
                return "docx"
            if "content.xml" in names and "mimetype" in names:
                with archive.open("mimetype") as member:
                    if member.read(len(ODT_MIMETYPE)) == ODT_MIMETYPE:
                        return "odt"
    except (zipfile.BadZipFile, OSError):
        return "unknown"
    return "unknown"


def _looks_like_text(head: bytes) -> bool:
    if b"\0" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # only a character cut at the end is allowed
            return False
        text = head[: exc.start].decode("utf-8")
    printable = sum(ch.isprintable() or ch in "\r\n\t\f" for ch in text)
    return printable >= 0.95 * len(text)
