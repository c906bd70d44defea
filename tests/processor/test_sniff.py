"""The format of a document is decided from its content, whatever its name says."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from processor.sniff import CONVERTIBLE, REFUSED, sniff
from tests.processor.corpus_table import ALL_FILES

TABLE = [
    ("testWORD.doc", "doc"), ("testWORD6.doc", "doc"), ("Bug50955.doc", "doc"),
    ("bad/segfault-2byte-flip.doc", "doc"),
    ("testWORD.docx", "docx"), ("bad/docx-renamed.doc", "docx"),
    ("raw_text.odt", "odt"), ("testOpenOffice2.odt", "odt"),
    ("raw_text.rtf", "rtf"), ("testRTFJapanese.rtf", "rtf"),
    ("testPDF.pdf", "pdf"), ("raw_text.pdf", "pdf"),
    ("testWORDML_tableInsideParagraph.doc", "wordml"),
    ("bad/text-renamed.doc", "text"),
    ("encrypted.doc", "encrypted"), ("testWORD_protected_passtika.doc", "encrypted"),
    ("encrypted.docx", "encrypted"),
    ("bad/empty.doc", "empty"),
    ("bad/truncated-4k.doc", "damaged"), ("bad/truncated-half.doc", "damaged"),
    ("bad/ole-header-random.doc", "damaged"),
    ("bad/random.doc", "unsupported"), ("bad/zeros-1MiB.doc", "unsupported"),
    ("testWordPerfect_42.doc", "unsupported"),
]


@pytest.mark.parametrize(("rel", "kind"), TABLE)
def test_each_corpus_file_is_recognised_by_its_content(rel: str, kind: str, corpus: Path) -> None:
    assert sniff(corpus / rel).kind == kind


@pytest.mark.parametrize("rel", ALL_FILES)
def test_every_corpus_file_gets_a_known_kind_and_refusals_a_reason(rel: str, corpus: Path) -> None:
    found = sniff(corpus / rel)
    assert found.kind in CONVERTIBLE + REFUSED
    assert (found.kind in REFUSED) == bool(found.detail)


@pytest.mark.parametrize(
    ("data", "kind"),
    [("Grüße aus Zürich\n".encode(), "text"), ("Grüße aus Zürich\n".encode("latin-1"), "latin1"),
     (b"\xef\xbb\xbfwith a byte order mark\n", "text"), (b"\x1b[31m\x01\x02\x03\x04binary", "unsupported"),
     (b"%PDF-1.7\n", "pdf"), (b"{\\rtf1\\ansi hello}", "rtf"), (b"<html><body>hi</body></html>", "text"),
     (b"\x80\x81\x82\x83 C1 controls are not Latin-1 text", "unsupported")],
)
def test_short_files_are_told_apart_by_their_first_bytes(data: bytes, kind: str, tmp_path: Path) -> None:
    path = tmp_path / "x.doc"
    path.write_bytes(data)
    assert sniff(path).kind == kind


def test_utf8_cut_mid_character_at_the_sniff_window_is_still_text(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_bytes(("a" * 8191 + "é" * 10).encode())
    assert sniff(path).kind == "text"


def test_a_zip_that_is_neither_docx_nor_odt_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "photos.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("photo.jpg", b"\xff\xd8\xff")
    found = sniff(path)
    assert (found.kind, found.detail) == ("unsupported", "unsupported format: a zip archive that is neither docx nor odt")


def test_a_truncated_zip_is_damaged(corpus: Path, tmp_path: Path) -> None:
    path = tmp_path / "cut.docx"
    path.write_bytes((corpus / "testWORD.docx").read_bytes()[:5000])
    assert sniff(path).kind == "damaged"
