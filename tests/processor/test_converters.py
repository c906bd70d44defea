"""Every corpus document converts, or fails with a reason; Word files match antiword's line counts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from processor.converters import convert
from processor.sandbox import Limits, ToolError, run_tool
from processor.sniff import sniff
from tests.conftest import CORPUS

ALL_FILES = sorted(str(p.relative_to(CORPUS)) for p in [*CORPUS.iterdir(), *(CORPUS / "bad").iterdir()]
                   if p.is_file() and p.suffix not in (".json", ".md"))
# Valid Word files antiword refuses ("text stream ... too small"), and the word each holds.
SMALL_WORD = {"testWORD6.doc": "quick brown fox", "testWORD_tabular_symbol.doc": "two"}


@pytest.mark.parametrize("rel", ALL_FILES)
def test_every_corpus_file_converts_or_fails_with_a_reason(
    rel: str, corpus: Path, expected: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    result = convert(corpus / rel, tmp_path, Limits())
    entry = expected.get(rel, {})
    if result.ok:
        assert result.text_path is not None and result.converter
        raw = result.text_path.read_bytes()
        text = raw.decode("utf-8")
        assert (result.lines, result.text_bytes) == (raw.count(b"\n"), len(raw))
    else:
        assert result.error and result.text_path is None
    if rel.endswith(".doc") and entry.get("antiword_exit") == 0:
        assert (result.ok, result.converter, result.lines) == (True, "antiword", entry["antiword_lines"])
    if rel in SMALL_WORD:
        assert result.converter == "catdoc" and SMALL_WORD[rel] in text
    if rel.endswith((".docx", ".odt", ".rtf", ".pdf")) and "encrypted" not in rel:
        assert result.ok and result.text_bytes > 0, result.error


@pytest.mark.parametrize(
    ("rel", "reason"),
    [("encrypted.doc", "encrypted document"), ("testWORD_protected_passtika.doc", "encrypted document"),
     ("encrypted.docx", "encrypted document"), ("bad/empty.doc", "empty file"),
     ("bad/random.doc", "unsupported format"), ("bad/zeros-1MiB.doc", "unsupported format"),
     ("testWordPerfect_42.doc", "unsupported format"), ("bad/truncated-4k.doc", "antiword: Read long")],
)
def test_documents_that_cannot_be_converted_say_why(rel: str, reason: str, corpus: Path, tmp_path: Path) -> None:
    result = convert(corpus / rel, tmp_path, Limits())
    assert not result.ok and result.error is not None and reason in result.error
    assert str(corpus) not in result.error  # the temporary path is never shown


def test_a_file_that_crashes_antiword_falls_back_to_catdoc(corpus: Path, tmp_path: Path) -> None:
    result = convert(corpus / "bad" / "segfault-2byte-flip.doc", tmp_path, Limits())
    assert (result.ok, result.converter) == (True, "catdoc")


@pytest.mark.parametrize(
    ("rel", "kind"),
    [("testWORD.doc", "doc"), ("testWORD.docx", "docx"), ("bad/docx-renamed.doc", "docx"),
     ("raw_text.odt", "odt"), ("raw_text.rtf", "rtf"), ("testPDF.pdf", "pdf"),
     ("testWORDML_tableInsideParagraph.doc", "wordml"), ("bad/text-renamed.doc", "text"),
     ("bad/empty.doc", "empty"), ("bad/random.doc", "unknown"), ("encrypted.docx", "doc")],
)
def test_the_format_is_decided_from_the_content(rel: str, kind: str, corpus: Path) -> None:
    assert sniff(corpus / rel) == kind


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_tool_that_hangs_is_stopped_at_the_time_limit(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="timed out after 0.5 s"):
        run_tool(["sleep", "30"], Limits(timeout_s=0.5), tmp_path)


def test_a_tool_that_crashes_is_reported_with_its_signal(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="SIGSEGV"):
        run_tool(python("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"), Limits(), tmp_path)


def test_a_tool_that_floods_its_output_is_stopped_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="too much output"):
        run_tool(["yes"], Limits(output_bytes=1024 * 1024), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_tool_that_takes_too_much_memory_fails(tmp_path: Path) -> None:
    run = run_tool(python("b = bytearray(400 * 1024 * 1024)"), Limits(memory_mb=200), tmp_path)
    assert run.returncode != 0 and "MemoryError" in run.stderr


def test_a_tool_sees_no_inherited_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_PASSWORD", "hunter2")
    run = run_tool(["env"], Limits(), tmp_path)
    env = run.stdout.read_text()
    assert "hunter2" not in env and "LC_ALL=C.UTF-8" in env


def test_a_docx_that_would_expand_without_bound_is_refused(tmp_path: Path) -> None:
    import zipfile

    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(300):
                member.write(b"\0" * (1024 * 1024))
    result = convert(bomb, tmp_path, Limits())
    assert not result.ok and "zip bomb" in (result.error or "")
