"""Every corpus document converts, or fails with a reason; Word files match antiword's line counts."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Any

import pytest

from processor.converters import ConversionResult, convert
from processor.sandbox import Limits
from tests.processor.corpus_table import ALL_FILES, ANTIWORD_DOCS

# Valid Word files antiword refuses ("text stream ... too small"), and a word each holds.
SMALL_WORD = {"testWORD6.doc": "quick brown fox", "testWORD_tabular_symbol.doc": "two"}
OTHER_FORMATS = {"testWORD.docx": "docx", "testWORD_numbered_list.docx": "docx",
                 "paragraphs_and_tables.docx": "docx", "testOpenOffice2.odt": "odt", "raw_text.odt": "odt",
                 "testRTFJapanese.rtf": "rtf", "raw_text.rtf": "rtf", "testPDF.pdf": "pdftotext",
                 "raw_text.pdf": "pdftotext", "testWORDML_tableInsideParagraph.doc": "wordml",
                 "bad/docx-renamed.doc": "docx", "bad/text-renamed.doc": "text"}


def converted(path: Path, work_dir: Path) -> tuple[ConversionResult, bytes]:
    result = convert(path, work_dir, Limits())
    raw = result.text_path.read_bytes() if result.text_path else b""
    return result, raw


@pytest.mark.parametrize("rel", ALL_FILES)
def test_every_corpus_file_ends_in_text_or_a_failure_with_a_reason(
    rel: str, corpus: Path, tmp_path: Path
) -> None:
    result, raw = converted(corpus / rel, tmp_path)
    if result.ok:
        assert result.converter and result.error is None
        assert (result.lines, result.text_bytes) == (raw.count(b"\n"), len(raw))
        assert result.text_sha256 == hashlib.sha256(raw).hexdigest()
        raw.decode("utf-8")  # the text is always valid UTF-8
    else:
        assert result.error and result.text_path is None and result.lines is None
        assert str(corpus) not in result.error  # the path the processor read is never shown


@pytest.mark.parametrize("rel", ANTIWORD_DOCS)
def test_word_files_antiword_reads_give_exactly_its_line_count(
    rel: str, corpus: Path, expected: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    result, _ = converted(corpus / rel, tmp_path)
    entry = expected[rel]
    assert (result.ok, result.converter) == (True, "antiword")
    assert (result.lines, result.text_bytes) == (entry["antiword_lines"], entry["antiword_stdout_bytes"])


@pytest.mark.parametrize("rel", sorted(SMALL_WORD))
def test_small_word_files_antiword_refuses_are_converted_by_catdoc(rel: str, corpus: Path, tmp_path: Path) -> None:
    result, raw = converted(corpus / rel, tmp_path)
    assert (result.ok, result.converter) == (True, "catdoc")
    assert SMALL_WORD[rel] in raw.decode()


@pytest.mark.parametrize(("rel", "converter"), sorted(OTHER_FORMATS.items()))
def test_other_formats_give_text_from_their_own_converter(
    rel: str, converter: str, corpus: Path, tmp_path: Path
) -> None:
    result, raw = converted(corpus / rel, tmp_path)
    assert (result.ok, result.converter) == (True, converter), result.error
    assert raw.strip()


def test_japanese_rtf_text_comes_out_as_japanese(corpus: Path, tmp_path: Path) -> None:
    _, raw = converted(corpus / "testRTFJapanese.rtf", tmp_path)
    assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in raw.decode())


def test_a_docx_gives_one_line_per_paragraph(corpus: Path, tmp_path: Path) -> None:
    _, raw = converted(corpus / "testWORD.docx", tmp_path)
    assert "Sample Word Document" in raw.decode().splitlines()[0]


@pytest.mark.parametrize(
    ("rel", "reason"),
    [("encrypted.doc", "encrypted document"), ("testWORD_protected_passtika.doc", "encrypted document"),
     ("encrypted.docx", "encrypted document"), ("bad/empty.doc", "empty file"),
     ("bad/random.doc", "unsupported format"), ("bad/zeros-1MiB.doc", "unsupported format"),
     ("testWordPerfect_42.doc", "unsupported format"), ("bad/truncated-4k.doc", "damaged document"),
     ("bad/truncated-half.doc", "damaged document"), ("bad/ole-header-random.doc", "damaged document")],
)
def test_documents_that_cannot_be_converted_say_why(rel: str, reason: str, corpus: Path, tmp_path: Path) -> None:
    result, _ = converted(corpus / rel, tmp_path)
    assert (result.ok, result.converter) == (False, None)
    assert result.error is not None and result.error.startswith(reason)


def test_a_file_that_crashes_antiword_falls_back_to_catdoc(corpus: Path, tmp_path: Path) -> None:
    result, raw = converted(corpus / "bad" / "segfault-2byte-flip.doc", tmp_path)
    assert (result.ok, result.converter) == (True, "catdoc")
    assert b"Sample Word Document" in raw


def test_latin1_text_is_passed_on_as_utf8(tmp_path: Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_bytes("Fa\u00e7ade, na\u00efve, \u00e5r\n".encode("latin-1"))
    result, raw = converted(source, tmp_path)
    assert (result.ok, result.converter, raw) == (True, "text", "Fa\u00e7ade, na\u00efve, \u00e5r\n".encode())


def test_only_the_text_file_is_left_behind(corpus: Path, tmp_path: Path) -> None:
    result, _ = converted(corpus / "testWORD6.doc", tmp_path)  # antiword refuses, then catdoc
    assert list(tmp_path.iterdir()) == [result.text_path]


def test_a_docx_that_would_expand_without_bound_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(300):
                member.write(b"\0" * (1024 * 1024))
    result, _ = converted(bomb, tmp_path)
    assert not result.ok and "zip bomb" in (result.error or "")


def test_a_docx_with_an_entity_bomb_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "lol.docx"
    doc = ('<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           "<w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:document>")
    with zipfile.ZipFile(bomb, "w") as archive:
        archive.writestr("word/document.xml", doc)
    result, _ = converted(bomb, tmp_path)
    assert (result.ok, result.converter) == (False, None)
    assert result.error and result.error.startswith("docx:")
