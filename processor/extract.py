"""Text from formats parsed in Python: ``python -m processor.extract KIND FILE`` prints it.

Run as a child process through :mod:`processor.sandbox`, so a hostile file
(an XML bomb, a zip that expands without bound, a parser bug) meets the same
time, memory and output limits as any external converter.  XML is parsed
incrementally with defusedxml (no entities, no external references), and
each zip member is read only up to ``MAX_MEMBER_BYTES``; a run of spaces counts for at most
``MAX_SPACES``.
"""

from __future__ import annotations

import sys
import zipfile
from collections.abc import Iterator
from typing import IO

from defusedxml.ElementTree import iterparse  # type: ignore[import-untyped]

MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed, above which a zip member is a bomb
# An OpenDocument <text:s text:c="N"/> stands for N spaces; a hostile N (10**12) would make one
# element a bomb, so each counts for at most this many.
MAX_SPACES = 1000

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
WML = "{http://schemas.microsoft.com/office/word/2003/wordml}"
TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"


class Refused(Exception):
    """The file cannot be read as the format it claims."""


def word_paragraphs(stream: IO[bytes], ns: str) -> Iterator[str]:
    """One line per paragraph of WordprocessingML (docx) or Word 2003 XML."""
    parts: list[str] = []
    for event, element in iterparse(stream, events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag == f"{ns}p":
                parts = []
            continue
        if tag == f"{ns}t" and element.text:
            parts.append(element.text)
        elif tag in (f"{ns}tab",):
            parts.append("\t")
        elif tag in (f"{ns}br", f"{ns}cr"):
            parts.append("\n")
        elif tag == f"{ns}p":
            yield "".join(parts)
            element.clear()


def odt_paragraphs(stream: IO[bytes]) -> Iterator[str]:
    """One line per paragraph or heading of an OpenDocument text."""
    for _, element in iterparse(stream, events=("end",)):
        if element.tag in (f"{TEXT}p", f"{TEXT}h"):
            yield "".join(_odt_text(element))
            element.clear()


def _odt_text(element: object) -> Iterator[str]:
    node = element  # an ElementTree element
    if node.text:  # type: ignore[attr-defined]
        yield node.text  # type: ignore[attr-defined]
    for child in node:  # type: ignore[attr-defined]
        tag = child.tag
        if tag == f"{TEXT}s":
            yield " " * min(int(child.get(f"{TEXT}c", "1")), MAX_SPACES)
        elif tag == f"{TEXT}tab":
            yield "\t"
        elif tag == f"{TEXT}line-break":
            yield "\n"
        elif tag not in (f"{TEXT}p", f"{TEXT}h"):
            yield from _odt_text(child)
        if child.tail:
            yield child.tail


def zip_member(archive: zipfile.ZipFile, name: str) -> IO[bytes]:
    info = archive.getinfo(name)
    if info.file_size > MAX_MEMBER_BYTES or info.file_size > MAX_RATIO * max(info.compress_size, 1024):
        raise Refused(f"{name} would expand to {info.file_size} bytes: refused as a zip bomb")
    return archive.open(info)


def paragraphs(kind: str, path: str) -> Iterator[str]:
    if kind == "docx":
        with zipfile.ZipFile(path) as archive, zip_member(archive, "word/document.xml") as member:
            yield from word_paragraphs(member, W)
    elif kind == "odt":
        with zipfile.ZipFile(path) as archive, zip_member(archive, "content.xml") as member:
            yield from odt_paragraphs(member)
    elif kind == "wordml":
        with open(path, "rb") as handle:
            yield from word_paragraphs(handle, WML)
    elif kind == "rtf":
        from striprtf.striprtf import rtf_to_text

        with open(path, encoding="latin-1") as handle:
            text: str = rtf_to_text(handle.read(), errors="replace")  # type: ignore[no-untyped-call]
            yield text.rstrip("\n")
    else:
        raise Refused(f"no extractor for {kind}")


def main(argv: list[str]) -> int:
    kind, path = argv
    out = sys.stdout
    try:
        for line in paragraphs(kind, path):
            out.write(line + "\n")
    except (Refused, zipfile.BadZipFile, KeyError, SyntaxError, ValueError) as exc:
        print(exc, file=sys.stderr)  # the sandbox puts the converter's name in front
        return 1
    except MemoryError:
        print("the document needs more memory than a conversion may use", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.stdout.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
    sys.exit(main(sys.argv[1:]))
